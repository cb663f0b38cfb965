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
    const char *format;     /* "oci", or "dir" for the containers dir transport (dirt.c) */
    const char *top_digest; /* dir: the digest of manifest.json, which holds that manifest */
    bool sniffing;          /* reading a blob only to learn its type: no --verify */
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

/* The member holding a blob: blobs/ALG/ENCODED in a layout; in a dir transport directory
 * ENCODED, or ENCODED.manifest.json for a manifest an index lists (containers/image
 * directory_transport.go; F7). */
static int blob_member(struct oci_walk *w, const char *digest, bool manifest, char *path,
                       size_t cap)
{
    const char *colon = strchr(digest, ':');
    if (strcmp(w->format, "dir") != 0)
        return snprintf(path, cap, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
    if (w->top_digest && strcmp(digest, w->top_digest) == 0)
        return snprintf(path, cap, "manifest.json");
    return snprintf(path, cap, "%s%s", colon + 1, manifest ? ".manifest.json" : "");
}

/* Where a descriptor's blob is: inline data, or the member blob_member() names. */
static int desc_blob(struct oci_walk *w, const cJSON *desc, const char *what, bool manifest,
                     const char **member, const unsigned char **data, size_t *len, struct err *e)
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
    if (blob_member(w, digest, manifest, path, sizeof path) >= (int)sizeof path)
        return err_set(e, IMGSTAT_EINPUT, "%s: digest '%.80s...' is too long", what, digest);
    if (!(*member = arena_strdup(w->plan->arena, path)))
        return err_nomem(e);
    return IMGSTAT_OK;
}

/* Decode a descriptor's blob as the Go type t; *out NULL (no error) when the blob is absent. */
static int desc_json(struct oci_walk *w, const cJSON *desc, const char *what,
                     const struct json_type *t, cJSON **out, struct err *e)
{
    const char *member;
    const unsigned char *data;
    size_t len;
    *out = NULL;
    if (desc_blob(w, desc, what, t != &json_t_config, &member, &data, &len, e) != IMGSTAT_OK)
        return e->code;
    const struct member *m = NULL;
    if (!data && src_find(w->src, member, &m, e) != IMGSTAT_OK)
        return e->code; /* e.g. a blob that is a symlink leading outside the layout */
    if (!data && !m)
        return IMGSTAT_OK;
    if (!data && src_read(w->src, member, SRC_JSON_MAX, &data, &len, e) != IMGSTAT_OK)
        return e->code;
    if (w->src->opts.verify && !w->sniffing &&
        digest_check(data, len, json_str(desc, "digest"), what, e))
        return e->code;
    return json_decode(data, len, t, what, out, e);
}

static int add_refs(struct oci_walk *w, struct image *img, const cJSON *desc,
                    const char *const *inherited, size_t ninherited, struct err *e)
{
    const cJSON *ann = json_field(desc, "annotations");
    const char *names[2] = {json_map_str(ann, ANN_REF_NAME),
                            json_map_str(ann, ANN_CONTAINERD_NAME)};
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
        if (desc_blob(w, d, what, false, &l->member, &l->data, &l->data_len, e) != IMGSTAT_OK)
            return e->code;
        l->digest = arena_strdup(w->plan->arena, json_str(d, "digest")); /* checked above */
        const char *mt = json_str(d, "mediaType");
        l->media_type = mt ? arena_strdup(w->plan->arena, mt) : NULL;
        const cJSON *size = json_field(d, "size");
        l->size = cJSON_IsNumber(size) && size->valuedouble > 0 ? (uint64_t)size->valuedouble : 0;
    }
    return IMGSTAT_OK;
}

/* F8: a config whose diff_ids do not match the layers one to one.  containerd refuses it
 * (umoci 0.4.7 ignores extra diff_ids and panics on too few); imgstat scans the manifest's
 * layers with a warning, and --verify (which checks each layer against its diff_id) makes
 * it an error. */
static int oci_diff_ids(struct oci_walk *w, struct image *img, const cJSON *cfg, struct err *e)
{
    size_t count;
    if (plan_diff_ids(w->plan->arena, img, cfg, &count, e) != IMGSTAT_OK)
        return e->code;
    if (count == img->nlayers)
        return IMGSTAT_OK;
    char buf[256];
    snprintf(buf, sizeof buf, "config %.80s lists %zu diff_ids for %zu layers", img->id, count,
             img->nlayers);
    if (!(img->warning = arena_strdup(w->plan->arena, buf)))
        return err_nomem(e);
    return IMGSTAT_OK;
}

/* An image manifest: config and layers; problems other than shape make it unusable. */
static int oci_image(struct oci_walk *w, const cJSON *desc, const char *const *inherited,
                     size_t ninherited, struct err *e)
{
    const cJSON *ann = json_field(desc, "annotations");
    const char *reftype = json_map_str(ann, ANN_DOCKER_REFTYPE);
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
    img->format = w->format;
    if (!(img->manifest_digest = arena_strdup(w->plan->arena, digest)))
        return err_nomem(e);
    if (add_refs(w, img, desc, inherited, ninherited, e) != IMGSTAT_OK)
        return e->code;
    if (plan_set_platform(w->plan->arena, img, json_field(desc, "platform"), e) != IMGSTAT_OK)
        return e->code;

    cJSON *man = NULL, *cfg = NULL;
    char what[128];
    snprintf(what, sizeof what, "manifest %.80s", img->manifest_digest);
    int rc = desc_json(w, desc, what, &json_t_manifest, &man, e);
    if (rc != IMGSTAT_OK || !man) {
        cJSON_Delete(man);
        return rc != IMGSTAT_OK ? rc
                                : set_unusable(w, img, e, "its manifest blob %s is missing",
                                               img->manifest_digest);
    }
    const cJSON *config = json_field(man, "config");
    const cJSON *layers = json_field(man, "layers");
    const char *cmt = json_str(config, "mediaType");
    if (!cJSON_IsObject(config)) {
        rc = err_set(e, IMGSTAT_EINPUT, "%s: no \"config\" descriptor", what);
    } else if (json_str(man, "artifactType") ||
               (cmt && strcmp(cmt, MT_OCI_CONFIG) != 0 && strcmp(cmt, MT_DOCKER_CONFIG) != 0)) {
        /* manifest.md §Guidelines for Artifact Usage: not a container image */
        rc = set_unusable(w, img, e, "it is an artifact (config %s), not a container image",
                          cmt ? cmt : json_str(man, "artifactType"));
    } else if ((rc = oci_layers(w, img, layers, e)) == IMGSTAT_OK) {
        snprintf(what, sizeof what, "manifest %.80s config", img->manifest_digest);
        rc = desc_json(w, config, what, &json_t_config, &cfg, e);
        img->id =
            rc == IMGSTAT_OK ? arena_strdup(w->plan->arena, json_str(config, "digest")) : NULL;
        if (rc == IMGSTAT_OK && !cfg)
            rc = set_unusable(w, img, e, "its config blob %s is missing", img->id);
        else if (rc == IMGSTAT_OK && (rc = plan_set_platform(w->plan->arena, img, cfg, e)) == 0 &&
                 (rc = plan_history(w->plan->arena, img, cfg, e)) == 0)
            rc = oci_diff_ids(w, img, cfg, e);
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
    if (desc_json(w, desc, what, &json_t_index, &sub, e) != IMGSTAT_OK)
        return e->code;
    if (!sub)
        return IMGSTAT_OK; /* absent: the layout may rely on an external store */

    const char *refs[64];
    size_t n = 0;
    for (; n < ninherited && n < 62; n++)
        refs[n] = inherited[n];
    const cJSON *ann = json_field(desc, "annotations");
    if (json_map_str(ann, ANN_REF_NAME))
        refs[n++] = json_map_str(ann, ANN_REF_NAME);
    if (json_map_str(ann, ANN_CONTAINERD_NAME))
        refs[n++] = json_map_str(ann, ANN_CONTAINERD_NAME);
    w->stack[w->depth++] = digest;
    int rc = oci_index(w, sub, what, refs, n, e);
    w->depth--;
    cJSON_Delete(sub);
    return rc;
}

/* What a blob of unknown type is, by its own mediaType or its shape (containerd's
 * validateMediaType): MT_OCI_INDEX, MT_OCI_MANIFEST, or NULL for anything else (schema 1,
 * artifact manifests, layers, what is absent or does not parse).  F6. */
static const char *sniff_type(struct oci_walk *w, const cJSON *desc, struct err *e)
{
    cJSON *blob = NULL;
    struct err se = {0};
    const char *member;
    const unsigned char *data;
    size_t len;
    /* a malformed descriptor is an error whatever its type; what its blob holds is not */
    if (desc_blob(w, desc, "descriptor", true, &member, &data, &len, e) != IMGSTAT_OK)
        return NULL;
    w->sniffing = true; /* read as it is: --verify checks it when it is read for real */
    int rc = desc_json(w, desc, "descriptor", &json_t_sniff, &blob, &se);
    w->sniffing = false;
    if (rc == IMGSTAT_ENOMEM || rc == IMGSTAT_ESYS) {
        *e = se;
        return NULL;
    }
    const char *own = json_str(blob, "mediaType"), *mt = NULL;
    bool manifests = json_field(blob, "manifests") != NULL;
    bool image = json_field(blob, "config") || json_field(blob, "layers");
    if (rc != IMGSTAT_OK || !blob || json_field(blob, "fsLayers"))
        mt = NULL;
    else if (own)
        mt = is_type(own, MT_OCI_INDEX, MT_DOCKER_LIST)          ? MT_OCI_INDEX
             : is_type(own, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST) ? MT_OCI_MANIFEST
                                                                 : NULL;
    else if (manifests != image)
        mt = manifests ? MT_OCI_INDEX : MT_OCI_MANIFEST;
    cJSON_Delete(blob);
    return mt;
}

static int oci_index(struct oci_walk *w, const cJSON *index, const char *what,
                     const char *const *inherited, size_t ninherited, struct err *e)
{
    (void)what;
    /* J6: "manifests": null is an empty list (Docker 25 `save img@digest` wrote it,
     * moby/moby#47210); json_t_index made every entry an object */
    const cJSON *desc;
    cJSON_ArrayForEach(desc, json_field(index, "manifests"))
    {
        const char *mt = json_str(desc, "mediaType");
        int rc = IMGSTAT_OK;
        /* F6: a type imgstat does not know is decided by the blob itself */
        if (!is_type(mt, MT_OCI_INDEX, MT_DOCKER_LIST) &&
            !is_type(mt, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST) && !(mt = sniff_type(w, desc, e)) &&
            e->code)
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

/* The images an index lists, for oci_list and the dir transport (dirt.c). */
int oci_walk_index(struct source *s, struct plan *p, const char *format, const cJSON *index,
                   const char *what, struct err *e)
{
    struct oci_walk w = {.src = s, .plan = p, .format = format};
    return oci_index(&w, index, what, NULL, 0, e);
}

/* One image manifest held in a member of its own (the dir transport's manifest.json). */
int oci_walk_manifest(struct source *s, struct plan *p, const char *format, const cJSON *desc,
                      struct err *e)
{
    struct oci_walk w = {.src = s, .plan = p, .format = format};
    w.top_digest = json_str(desc, "digest");
    return oci_image(&w, desc, NULL, 0, e);
}

static int oci_list(struct source *s, struct plan *p, struct err *e)
{
    cJSON *index;
    if (json_load(s, "index.json", &json_t_index, &index, e) != IMGSTAT_OK)
        return e->code;
    int rc = oci_walk_index(s, p, "oci", index, "index.json", e);
    cJSON_Delete(index);
    return rc;
}

const struct format fmt_oci = {"oci", oci_probe, oci_list};
