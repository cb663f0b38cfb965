#include "common.h"

#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "err.h"
#include "imgstat.h"
#include "path.h"

int member_name(struct arena *a, const char *raw, const char *what, const char **out, struct err *e)
{
    char buf[PATH_MAX_BYTES + 1];
    bool clamped;
    if (raw[0] == '/')
        return err_set(e, IMGSTAT_EINPUT, "%s: path '%s' is absolute", what, raw);
    long n = path_normalize(raw, strlen(raw), buf, &clamped);
    if (n < 0)
        return err_set(e, IMGSTAT_ELIMIT, "%s: path longer than %d bytes", what, PATH_MAX_BYTES);
    if (clamped || n == 0)
        return err_set(e, IMGSTAT_EINPUT, "%s: path '%s' leads outside the image", what, raw);
    if (!(*out = arena_strdup(a, buf)))
        return err_nomem(e);
    return IMGSTAT_OK;
}

bool has_member(struct source *s, const char *name)
{
    const struct member *m;
    struct err ignored = {0};
    return src_find(s, name, &m, &ignored) == IMGSTAT_OK && m;
}

static const char *dup_str(struct arena *a, const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? arena_strdup(a, v->valuestring) : NULL;
}

int set_platform(struct arena *a, struct image *img, const cJSON *obj, struct err *e)
{
    (void)e;
    if (!cJSON_IsObject(obj))
        return IMGSTAT_OK;
    if (!img->os)
        img->os = dup_str(a, obj, "os");
    if (!img->arch)
        img->arch = dup_str(a, obj, "architecture");
    if (!img->variant)
        img->variant = dup_str(a, obj, "variant");
    return IMGSTAT_OK;
}

bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool digest_from_name(const char *name, char *out)
{
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    static const char *const suffixes[] = {".json", ".tar", ".tar.gz", ".tar.zst"};
    if (strncmp(name, "blobs/", 6) == 0 && base - name > 7 &&
        !memchr(name + 6, '/', (size_t)(base - name - 7))) {
        snprintf(out, DIGEST_MAX, "%.*s:%s", (int)(base - name - 7), name + 6, base);
        return digest_valid(out);
    }
    if (strncmp(name, "sha256:", 7) == 0 && strlen(name) < DIGEST_MAX) {
        snprintf(out, DIGEST_MAX, "%s", name);
        return digest_valid(out);
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        if (is_lower_hex(base, 64) && strcmp(base + 64, suffixes[i]) == 0) {
            snprintf(out, DIGEST_MAX, "sha256:%.64s", base);
            return true;
        }
    }
    return false;
}

const char *id_from_name(struct arena *a, const char *name)
{
    char d[DIGEST_MAX];
    return digest_from_name(name, d) ? arena_strdup(a, d) : NULL;
}

bool digest_valid(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon || colon == d || !colon[1])
        return false;
    /* algorithm: [a-z0-9]+([+._-][a-z0-9]+)* */
    bool need_alnum = true;
    for (const char *p = d; p < colon; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
        if (alnum)
            need_alnum = false;
        else if (strchr("+._-", *p) && !need_alnum)
            need_alnum = true;
        else
            return false;
    }
    if (need_alnum)
        return false;
    /* encoded: [a-zA-Z0-9=_-]+ */
    size_t len = 0;
    for (const char *p = colon + 1; *p; p++, len++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || strchr("=_-", *p);
        if (!ok)
            return false;
    }
    size_t alen = (size_t)(colon - d);
    /* registered algorithms have fixed lengths (descriptor.md §Registered algorithms) */
    if (alen == 6 && strncmp(d, "sha256", 6) == 0)
        return len == 64 && is_lower_hex(colon + 1, 64);
    if (alen == 6 && strncmp(d, "sha512", 6) == 0)
        return len == 128 && is_lower_hex(colon + 1, 128);
    return true;
}

int verify_blob(const struct source *s, const void *buf, size_t len, const char *expected,
                const char *what, struct err *e)
{
    if (!s->opts.verify || !expected)
        return IMGSTAT_OK;
    size_t alen;
    const char *alg = dg_alg(expected, &alen);
    char name[16];
    if (!alg || alen >= sizeof name || !dg_supported(alg, alen))
        return err_set(e, IMGSTAT_EINPUT, "%s: cannot verify digest %.80s (sha256 and sha512 only)",
                       what, expected);
    memcpy(name, alg, alen);
    name[alen] = '\0';
    struct dg d;
    char got[DIGEST_MAX];
    if (!dg_init(&d, name))
        return err_nomem(e);
    dg_update(&d, buf, len);
    dg_final(&d, got);
    if (strcmp(got, expected) != 0)
        return err_set(e, IMGSTAT_EINPUT, "%s: digest mismatch: expected %s, got %s", what,
                       expected, got);
    return IMGSTAT_OK;
}
