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

/* The repository without a registry host and without docker.io's "library/". */
static const char *repo_short(const char *repo)
{
    const char *slash = strchr(repo, '/');
    bool docker = true;
    if (slash) {
        size_t n = (size_t)(slash - repo);
        bool host = memchr(repo, '.', n) || memchr(repo, ':', n) ||
                    (n == 9 && memcmp(repo, "localhost", 9) == 0);
        if (host) {
            docker = n == 9 && memcmp(repo, "docker.io", 9) == 0;
            repo = slash + 1;
        }
    }
    if (docker && strncmp(repo, "library/", 8) == 0 && repo[8])
        repo += 8;
    return repo;
}

bool ref_matches(const char *ref, const char *repo, const char *tag)
{
    char r[1024], t[256];
    ref_split(ref, r, sizeof r, t, sizeof t);
    if (!*r || strcmp(t, tag) != 0)
        return false;
    return strcmp(r, repo) == 0 || strcmp(repo_short(r), repo_short(repo)) == 0;
}

bool ref_select_matches(const struct store_select *sel, const struct store_image *im)
{
    if (!im->image_id)
        return false;
    if (sel->id_hex) {
        const char *hex =
            strncmp(im->image_id, "sha256:", 7) == 0 ? im->image_id + 7 : im->image_id;
        if (strncmp(hex, sel->id_hex, strlen(sel->id_hex)) != 0)
            return false;
    }
    if (!sel->repo)
        return true;
    for (size_t i = 0; i < im->nrefs; i++)
        if (ref_matches(im->refs[i], sel->repo, sel->tag))
            return true;
    return false;
}

bool ref_row_matches(const struct store_filter *f, const char *repo, const char *tag)
{
    if (f->image_name && !strstr(repo, f->image_name))
        return false;
    return !f->image_version || strcmp(tag, f->image_version) == 0;
}
