/*
 * OCI image layouts (a directory or an oci-archive tarball): index.json, nested
 * indexes, image manifests, configs and layer descriptors (image-spec
 * image-layout.md, image-index.md, manifest.md, descriptor.md).
 *
 * Every image manifest reachable from index.json becomes a plan entry; entries
 * that cannot be scanned (artifacts, blobs absent as in containerd-store saves)
 * carry the reason and are chosen only when the user names them.  Attestation
 * manifests are skipped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "plan.h"
#include "err.h"
#include "imgstat.h"
#include "json.h"

/* Nested indexes followed: real ones nest 2 deep (containerd, nerdctl). */
#define OCI_MAX_DEPTH 16

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define ANN_DOCKER_REFTYPE "vnd.docker.reference.type"

struct oci_walk {
    struct source *src;
    struct plan *plan;
    const char *stack[OCI_MAX_DEPTH + 1]; /* digests of the indexes being walked: cycles */
    int depth;
};

static bool oci_probe(struct source *s)
{
    return src_exists(s, "index.json");
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode standard base64 (descriptor "data"); NULL when malformed. */
static unsigned char *b64_decode(struct arena *a, const char *in, size_t *out_len)
{
    size_t n = strlen(in);
    unsigned char *out = arena_alloc(a, n / 4 * 3 + 3);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=') {
            while (i < n && in[i] == '=')
                i++;
            if (i != n)
                return NULL;
            break;
        }
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return NULL;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

/* Where a descriptor's blob is: inline data, or blobs/ALG/ENCODED. */
static int desc_blob(struct oci_walk *w, const cJSON *desc, const char *what, const char **member,
                     const unsigned char **data, size_t *len, struct err *e)
{
    const char *digest = json_str(desc, "digest");
    const char *b64 = json_str(desc, "data");
    *member = NULL;
    *data = NULL;
    if (!digest || !digest_valid(digest))
        return err_set(e, IMGSTAT_EINPUT, "%s: digest '%s' is not of the form algorithm:encoded",
                       what, digest ? digest : "(none)");
    if (b64) {
        if (!(*data = b64_decode(w->plan->arena, b64, len)))
            return err_set(e, IMGSTAT_EINPUT, "%s %s: \"data\" is not valid base64", what, digest);
        return IMGSTAT_OK;
    }
    char path[300];
    const char *colon = strchr(digest, ':');
    if (snprintf(path, sizeof path, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1) >=
        (int)sizeof path)
        return err_set(e, IMGSTAT_EINPUT, "%s: digest '%.80s...' is too long", what, digest);
    if (!(*member = arena_strdup(w->plan->arena, path)))
        return err_nomem(e);
    return IMGSTAT_OK;
}

/* Parse a descriptor's blob as JSON; *out NULL (no error) when the blob is absent. */
static int desc_json(struct oci_walk *w, const cJSON *desc, const char *what, cJSON **out,
                     struct err *e)
{
    const char *member;
    const unsigned char *data;
    size_t len;
    *out = NULL;
    if (desc_blob(w, desc, what, &member, &data, &len, e) != IMGSTAT_OK)
        return e->code;
    const struct member *m = NULL;
    if (!data && src_find(w->src, member, &m, e) != IMGSTAT_OK)
        return e->code; /* e.g. a blob that is a symlink leading outside the layout */
    if (!data && !m)
        return IMGSTAT_OK;
    if (!data && src_read(w->src, member, SRC_JSON_MAX, &data, &len, e) != IMGSTAT_OK)
        return e->code;
    if (w->src->opts.verify && digest_check(data, len, json_str(desc, "digest"), what, e))
        return e->code;
    return json_parse(data, len, what, out, e);
}

static int add_refs(struct oci_walk *w, struct image *img, const cJSON *desc,
                    const char *const *inherited, size_t ninherited, struct err *e)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
    const char *names[2] = {json_str(ann, ANN_REF_NAME), json_str(ann, ANN_CONTAINERD_NAME)};
    for (size_t i = 0; i < ninherited; i++)
        if (plan_add_ref(w->plan, img, inherited[i], e) != IMGSTAT_OK)
            return e->code;
    for (size_t i = 0; i < 2; i++)
        if (names[i] && plan_add_ref(w->plan, img, names[i], e) != IMGSTAT_OK)
            return e->code;
    return IMGSTAT_OK;
}

__attribute__((format(printf, 4, 5))) static int set_unusable(struct oci_walk *w, struct image *img,
                                                              struct err *e, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!(img->unusable = arena_strdup(w->plan->arena, buf)))
        return err_nomem(e);
    return IMGSTAT_OK;
}

static int oci_layers(struct oci_walk *w, struct image *img, const cJSON *layers, struct err *e)
{
    int n = cJSON_GetArraySize(layers);
    if (n > PLAN_MAX_LAYERS)
        return err_set(e, IMGSTAT_ELIMIT, "manifest %s: %d layers, more than %d (PLAN_MAX_LAYERS)",
                       img->manifest_digest, n, PLAN_MAX_LAYERS);
    img->layers = arena_zalloc(w->plan->arena, (size_t)(n ? n : 1) * sizeof *img->layers);
    if (!img->layers)
        return err_nomem(e);
    const cJSON *d;
    cJSON_ArrayForEach(d, layers)
    {
        struct layer_ref *l = &img->layers[img->nlayers++];
        char what[128];
        snprintf(what, sizeof what, "manifest %.80s layer %zu", img->manifest_digest, img->nlayers);
        if (!cJSON_IsObject(d))
            return err_set(e, IMGSTAT_EINPUT, "%s: expected a descriptor object, got %s", what,
                           json_kind(d));
        if (desc_blob(w, d, what, &l->member, &l->data, &l->data_len, e) != IMGSTAT_OK)
            return e->code;
        l->digest = arena_strdup(w->plan->arena, json_str(d, "digest")); /* checked above */
        const char *mt = json_str(d, "mediaType");
        l->media_type = mt ? arena_strdup(w->plan->arena, mt) : NULL;
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(d, "size");
        l->size = cJSON_IsNumber(size) && size->valuedouble > 0 ? (uint64_t)size->valuedouble : 0;
    }
    return IMGSTAT_OK;
}

/* An image manifest: config and layers; problems other than shape make it unusable. */
static int oci_image(struct oci_walk *w, const cJSON *desc, const char *const *inherited,
                     size_t ninherited, struct err *e)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
    const char *reftype = json_str(ann, ANN_DOCKER_REFTYPE);
    if (reftype && strcmp(reftype, "attestation-manifest") == 0)
        return IMGSTAT_OK; /* BuildKit provenance and SBOMs, not a filesystem */
    const char *digest = json_str(desc, "digest");
    if (!digest || !digest_valid(digest))
        return err_set(e, IMGSTAT_EINPUT,
                       "a manifest descriptor's digest '%.80s' is not of the "
                       "form algorithm:encoded",
                       digest ? digest : "(none)");
    struct image *img = plan_add(w->plan, e);
    if (!img)
        return e->code;
    img->format = "oci";
    if (!(img->manifest_digest = arena_strdup(w->plan->arena, digest)))
        return err_nomem(e);
    if (add_refs(w, img, desc, inherited, ninherited, e) != IMGSTAT_OK)
        return e->code;
    if (plan_set_platform(w->plan->arena, img, cJSON_GetObjectItemCaseSensitive(desc, "platform"),
                          e) != IMGSTAT_OK)
        return e->code;

    cJSON *man = NULL, *cfg = NULL;
    char what[128];
    snprintf(what, sizeof what, "manifest %.80s", img->manifest_digest);
    int rc = desc_json(w, desc, what, &man, e);
    if (rc != IMGSTAT_OK || !man) {
        cJSON_Delete(man);
        return rc != IMGSTAT_OK ? rc
                                : set_unusable(w, img, e, "its manifest blob %s is missing",
                                               img->manifest_digest);
    }
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(man, "config");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(man, "layers");
    const char *cmt = json_str(config, "mediaType");
    if (!cJSON_IsObject(man) || !cJSON_IsObject(config)) {
        rc = err_set(e, IMGSTAT_EINPUT, "%s: no \"config\" descriptor", what);
    } else if (layers && !cJSON_IsNull(layers) && !cJSON_IsArray(layers)) {
        rc = err_set(e, IMGSTAT_EINPUT, "%s: \"layers\" is %s, not an array", what,
                     json_kind(layers));
    } else if (json_str(man, "artifactType") ||
               (cmt && strcmp(cmt, MT_OCI_CONFIG) != 0 && strcmp(cmt, MT_DOCKER_CONFIG) != 0)) {
        /* manifest.md §Guidelines for Artifact Usage: not a container image */
        rc = set_unusable(w, img, e, "it is an artifact (config %s), not a container image",
                          cmt ? cmt : json_str(man, "artifactType"));
    } else if ((rc = oci_layers(w, img, layers, e)) == IMGSTAT_OK) {
        snprintf(what, sizeof what, "manifest %.80s config", img->manifest_digest);
        rc = desc_json(w, config, what, &cfg, e);
        img->id =
            rc == IMGSTAT_OK ? arena_strdup(w->plan->arena, json_str(config, "digest")) : NULL;
        if (rc == IMGSTAT_OK && !cfg)
            rc = set_unusable(w, img, e, "its config blob %s is missing", img->id);
        else if (rc == IMGSTAT_OK && (rc = plan_set_platform(w->plan->arena, img, cfg, e)) == 0)
            plan_diff_ids(w->plan->arena, img, cfg);
    }
    cJSON_Delete(man);
    cJSON_Delete(cfg);
    return rc;
}

static int oci_index(struct oci_walk *w, const cJSON *index, const char *what,
                     const char *const *inherited, size_t ninherited, struct err *e);

static bool is_type(const char *mt, const char *a, const char *b)
{
    return mt && (strcmp(mt, a) == 0 || strcmp(mt, b) == 0);
}

/* A nested index: its descriptors inherit the parent descriptor's ref names. */
static int oci_nested(struct oci_walk *w, const cJSON *desc, const char *const *inherited,
                      size_t ninherited, struct err *e)
{
    const char *digest = json_str(desc, "digest");
    if (w->depth >= OCI_MAX_DEPTH)
        return err_set(e, IMGSTAT_ELIMIT, "index %s: nested more than %d deep (OCI_MAX_DEPTH)",
                       digest ? digest : "?", OCI_MAX_DEPTH);
    for (int i = 0; i < w->depth; i++)
        if (digest && strcmp(w->stack[i], digest) == 0)
            return err_set(e, IMGSTAT_EINPUT, "index %s lists itself (a cycle)", digest);
    cJSON *sub;
    char what[128];
    snprintf(what, sizeof what, "index %.80s", digest ? digest : "?");
    if (desc_json(w, desc, what, &sub, e) != IMGSTAT_OK)
        return e->code;
    if (!sub)
        return IMGSTAT_OK; /* absent: the layout may rely on an external store */

    const char *refs[64];
    size_t n = 0;
    for (; n < ninherited && n < 62; n++)
        refs[n] = inherited[n];
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(desc, "annotations");
    if (json_str(ann, ANN_REF_NAME))
        refs[n++] = json_str(ann, ANN_REF_NAME);
    if (json_str(ann, ANN_CONTAINERD_NAME))
        refs[n++] = json_str(ann, ANN_CONTAINERD_NAME);
    w->stack[w->depth++] = digest;
    int rc = oci_index(w, sub, what, refs, n, e);
    w->depth--;
    cJSON_Delete(sub);
    return rc;
}

/* A descriptor without mediaType: look at the blob (manifests[] means an index). */
static const char *sniff_type(struct oci_walk *w, const cJSON *desc, struct err *e)
{
    cJSON *blob;
    const char *mt = NULL;
    if (desc_json(w, desc, "descriptor", &blob, e) == IMGSTAT_OK && blob) {
        if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(blob, "manifests")))
            mt = MT_OCI_INDEX;
        else if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(blob, "config")))
            mt = MT_OCI_MANIFEST;
    }
    cJSON_Delete(blob);
    return mt;
}

static int oci_index(struct oci_walk *w, const cJSON *index, const char *what,
                     const char *const *inherited, size_t ninherited, struct err *e)
{
    if (!cJSON_IsObject(index))
        return err_set(e, IMGSTAT_EINPUT, "%s: expected a JSON object, got %s", what,
                       json_kind(index));
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    if (!list || cJSON_IsNull(list))
        return IMGSTAT_OK; /* Docker 25 `save img@digest` wrote null (moby/moby#47210) */
    if (!cJSON_IsArray(list))
        return err_set(e, IMGSTAT_EINPUT, "%s: \"manifests\" is %s, not an array", what,
                       json_kind(list));
    const cJSON *desc;
    cJSON_ArrayForEach(desc, list)
    {
        if (!cJSON_IsObject(desc))
            return err_set(e, IMGSTAT_EINPUT, "%s: a manifests entry is %s, not an object", what,
                           json_kind(desc));
        const char *mt = json_str(desc, "mediaType");
        int rc = IMGSTAT_OK;
        if (!mt && !(mt = sniff_type(w, desc, e)) && e->code)
            return e->code;
        if (is_type(mt, MT_OCI_INDEX, MT_DOCKER_LIST))
            rc = oci_nested(w, desc, inherited, ninherited, e);
        else if (is_type(mt, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST))
            rc = oci_image(w, desc, inherited, ninherited, e);
        /* image-layout.md: an unknown mediaType MUST NOT generate an error */
        if (rc != IMGSTAT_OK)
            return rc;
    }
    return IMGSTAT_OK;
}

static int oci_list(struct source *s, struct plan *p, struct err *e)
{
    struct oci_walk w = {.src = s, .plan = p};
    cJSON *index;
    if (json_load(s, "index.json", &index, e) != IMGSTAT_OK)
        return e->code;
    int rc = oci_index(&w, index, "index.json", NULL, 0, e);
    cJSON_Delete(index);
    return rc;
}

const struct format fmt_oci = {"oci", oci_probe, oci_list};
