/*
 * Choosing one image: by reference, then platform, then (only when still
 * ambiguous) the host's platform.  Where one image remains it is used whatever
 * its platform (stereoscope's rule); where several remain, the error lists the
 * refs that would choose each.  Entries that cannot be scanned are dropped from
 * the defaults, but are an error when the selection names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "digest.h"
#include "plan.h"
#include "err.h"
#include "imgstat.h"
#include "plan.h"

/* A Docker ID prefix must be this long to name an image (issue #2: "at least 12 digits"). */
#define ID_PREFIX_MIN 12

struct platform {
    char os[64], arch[64], variant[64];
};

/* Architecture names as Go spells them (GOARCH), from uname or a user's spelling. */
static const char *arch_alias(const char *a)
{
    static const char *const map[][2] = {
        {"x86_64", "amd64"}, {"x86-64", "amd64"}, {"aarch64", "arm64"}, {"i386", "386"},
        {"i686", "386"},     {"armhf", "arm"},    {"armel", "arm"},     {"ppc64el", "ppc64le"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(a, map[i][0]) == 0)
            return map[i][1];
    return a;
}

static int platform_parse(const char *s, struct platform *p)
{
    memset(p, 0, sizeof *p);
    const char *a = strchr(s, '/');
    if (!a || a == s || !a[1] || (size_t)(a - s) >= sizeof p->os)
        return -1;
    const char *v = strchr(a + 1, '/');
    size_t alen = v ? (size_t)(v - a - 1) : strlen(a + 1);
    if (alen == 0 || alen >= sizeof p->arch || (v && (!v[1] || strlen(v + 1) >= sizeof p->variant)))
        return -1;
    if (v && strchr(v + 1, '/'))
        return -1;
    memcpy(p->os, s, (size_t)(a - s));
    char arch[sizeof p->arch] = "";
    memcpy(arch, a + 1, alen);
    snprintf(p->arch, sizeof p->arch, "%s", arch_alias(arch));
    if (v)
        snprintf(p->variant, sizeof p->variant, "%s", v + 1);
    return 0;
}

int platform_check(const char *platform, struct err *e)
{
    struct platform p;
    if (platform && platform_parse(platform, &p) != 0)
        return err_set(e, IMGSTAT_EUSAGE, "--platform '%s': expected OS/ARCH[/VARIANT]", platform);
    return IMGSTAT_OK;
}

static void host_platform(struct platform *p)
{
    struct utsname u;
    memset(p, 0, sizeof *p);
    snprintf(p->os, sizeof p->os, "linux");
    snprintf(p->arch, sizeof p->arch, "%s", uname(&u) == 0 ? arch_alias(u.machine) : "amd64");
}

/* arm64's variant defaults to v8 (image-index.md §Platform Variants). */
static const char *variant_of(const char *arch, const char *variant)
{
    if (variant && *variant)
        return variant;
    return strcmp(arch, "arm64") == 0 ? "v8" : "";
}

static bool platform_match(const struct image *img, const struct platform *want)
{
    if (!img->os || !img->arch || strcmp(img->os, want->os) != 0 ||
        strcmp(arch_alias(img->arch), want->arch) != 0)
        return false;
    return !want->variant[0] ||
           strcmp(variant_of(want->arch, img->variant), variant_of(want->arch, want->variant)) == 0;
}

/* "docker.io/library/x:1" and "x:1" name one image; a name without tag means ":latest". */
static void ref_canon(const char *in, char *out, size_t cap)
{
    static const char *const prefixes[] = {"docker.io/", "index.docker.io/", "library/"};
    for (size_t i = 0; i < 3; i++)
        if (strncmp(in, prefixes[i], strlen(prefixes[i])) == 0)
            in += strlen(prefixes[i]);
    const char *slash = strrchr(in, '/');
    const char *colon = strchr(slash ? slash : in, ':');
    snprintf(out, cap, "%s%s", in, colon || strchr(in, '@') ? "" : ":latest");
}

static bool hex_prefix_of(const char *ref, const char *digest)
{
    if (!digest)
        return false;
    if (strncmp(ref, "sha256:", 7) == 0)
        ref += 7;
    const char *hex = strchr(digest, ':') ? strchr(digest, ':') + 1 : digest;
    size_t n = strlen(ref);
    if (n < ID_PREFIX_MIN || !digest_is_hex(ref, n))
        return false;
    return strncmp(hex, ref, n) == 0;
}

static bool ref_match(const struct image *img, const char *ref)
{
    char a[1024], b[1024];
    if ((img->id && strcmp(ref, img->id) == 0) ||
        (img->manifest_digest && strcmp(ref, img->manifest_digest) == 0))
        return true;
    ref_canon(ref, a, sizeof a);
    for (size_t i = 0; i < img->nrefs; i++) {
        ref_canon(img->refs[i], b, sizeof b);
        if (strcmp(ref, img->refs[i]) == 0 || strcmp(a, b) == 0)
            return true;
    }
    return hex_prefix_of(ref, img->id);
}

/* Two entries for the same image (one per tag in index.json): plan_merge makes them one. */
static bool same_image(const struct image *x, const struct image *y)
{
    if (x->manifest_digest && y->manifest_digest)
        return strcmp(x->manifest_digest, y->manifest_digest) == 0;
    if (!x->id || !y->id || strcmp(x->id, y->id) != 0 || x->nlayers != y->nlayers)
        return false;
    for (size_t i = 0; i < x->nlayers; i++) {
        const char *a = x->layers[i].member, *b = y->layers[i].member;
        if (!a || !b || strcmp(a, b) != 0)
            return false;
    }
    return true;
}

/* Keep the entries of c[] for which keep() holds; returns the new count. */
static size_t filter(struct image **c, size_t n, bool (*keep)(const struct image *, const void *),
                     const void *arg)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep(c[i], arg))
            c[k++] = c[i];
    return k;
}

static bool keep_ref(const struct image *img, const void *ref)
{
    return ref_match(img, ref);
}

static bool keep_platform(const struct image *img, const void *p)
{
    return platform_match(img, p);
}

static bool keep_usable(const struct image *img, const void *unused)
{
    (void)unused;
    return !img->unusable;
}

/* "name or alias (linux/amd64)" for the error that lists what would choose each image. */
static void describe(const struct image *img, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < img->nrefs && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? " or " : "", img->refs[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (!img->nrefs)
        snprintf(out, cap, "%s",
                 img->manifest_digest ? img->manifest_digest
                 : img->id            ? img->id
                                      : "(unnamed)");
    used = strlen(out);
    if (img->os && img->arch && used < cap)
        snprintf(out + used, cap - used, " (%s/%s%s%s)", img->os, img->arch,
                 img->variant ? "/" : "", img->variant ? img->variant : "");
}

static int list_error(struct err *e, int code, const char *head, struct image **c, size_t n)
{
    char buf[ERR_MSG_MAX] = "", one[300];
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof buf - 1; i++) {
        describe(c[i], one, sizeof one);
        int w = snprintf(buf + used, sizeof buf - used, "%s%s", i ? ", " : "", one);
        used += w > 0 ? (size_t)w : 0;
    }
    return err_set(e, code, "%s: %s", head, buf);
}

static int select_in(struct plan *p, struct image **c, size_t n, const char *ref,
                     const char *platform, struct image **out, struct err *e)
{
    struct platform want, host;
    if (n == 0)
        return err_set(e, IMGSTAT_ESELECT, "no image in this input");
    if (ref && !(n = filter(c, n, keep_ref, ref))) {
        size_t all = p->n < 64 ? p->n : 64;
        for (size_t i = 0; i < all; i++)
            c[i] = &p->v[i];
        char head[300];
        snprintf(head, sizeof head, "no image matches '%.200s'; the input holds", ref);
        return list_error(e, IMGSTAT_ESELECT, head, c, all);
    }
    if (platform) {
        platform_parse(platform, &want);
        size_t k = filter(c, n, keep_platform, &want);
        if (!k)
            return list_error(e, IMGSTAT_ESELECT, "no image for that platform; there are", c, n);
        n = k;
    }
    size_t usable = filter(c, n, keep_usable, NULL);
    if (usable == 0) {
        char head[300];
        describe(c[0], head, sizeof head);
        return err_set(e, IMGSTAT_EINPUT, "image %s cannot be scanned: %s", head, c[0]->unusable);
    }
    n = usable; /* plan_merge already made each image one entry */
    if (n > 1 && !platform) {
        host_platform(&host);
        size_t k = filter(c, n, keep_platform, &host);
        if (k >= 1)
            n = k; /* narrowed to the host's platform, maybe still ambiguous */
    }
    if (n > 1)
        return list_error(e, IMGSTAT_ESELECT,
                          "several images; choose one with --image (or --platform)", c, n);
    *out = c[0];
    return IMGSTAT_OK;
}

int plan_select(struct plan *p, const char *ref, const char *platform, struct image **out,
                struct err *e)
{
    struct image **c = malloc((p->n ? p->n : 1) * sizeof *c);
    if (!c)
        return err_nomem(e);
    for (size_t i = 0; i < p->n; i++)
        c[i] = &p->v[i];
    int rc = select_in(p, c, p->n, ref, platform, out, e);
    free(c);
    return rc;
}

size_t plan_distinct(struct plan *p, struct image **out)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!p->v[i].unusable)
            out[n++] = &p->v[i];
    return n;
}

int plan_merge(struct plan *p, struct err *e)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct image *into = NULL;
        for (size_t j = 0; j < k && !into; j++)
            if (!p->v[j].unusable == !p->v[i].unusable && same_image(&p->v[j], &p->v[i]))
                into = &p->v[j];
        if (!into) {
            p->v[k++] = p->v[i];
            continue;
        }
        for (size_t r = 0; r < p->v[i].nrefs; r++)
            if (plan_add_ref(p, into, p->v[i].refs[r], e) != IMGSTAT_OK)
                return e->code;
    }
    p->n = k;
    return IMGSTAT_OK;
}
