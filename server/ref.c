#define _GNU_SOURCE /* memrchr */
#include "ref.h"

#include <stdio.h>
#include <string.h>

void ref_split(const char *ref, char *repo, size_t repo_cap, char *tag, size_t tag_cap)
{
    size_t len = strcspn(ref, "@");
    const char *slash = memrchr(ref, '/', len);
    const char *colon =
        memrchr(slash ? slash : ref, ':', len - (size_t)((slash ? slash : ref) - ref));
    if (!slash && colon == ref + len - 1)
        colon = NULL;
    if (!slash && !colon && len > 0 && !strchr(ref, '@') && strspn(ref, "0123456789.") == len) {
        snprintf(repo, repo_cap, "%s", "");
        snprintf(tag, tag_cap, "%.*s", (int)len, ref); /* "1.0": a tag alone */
        return;
    }
    size_t rlen = colon ? (size_t)(colon - ref) : len;
    snprintf(repo, repo_cap, "%.*s", (int)rlen, ref);
    if (colon)
        snprintf(tag, tag_cap, "%.*s", (int)(len - rlen - 1), colon + 1);
    else
        snprintf(tag, tag_cap, "%s", "latest");
}
