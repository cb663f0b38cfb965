/*
 * docker-save tarballs with manifest.json (Docker 1.10 and later, skopeo, podman,
 * crane, Docker >= 25): an array of {Config, RepoTags, Layers} items, each path
 * relative to the archive root (moby/docker-image-spec spec.md).
 */
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "plan.h"
#include "err.h"
#include "imgstat.h"
#include "json.h"

#define DSAVE_MANIFEST "manifest.json"

static bool dsave_probe(struct source *s)
{
    return src_exists(s, DSAVE_MANIFEST);
}

/* Read the config: platform, and the diff_ids count that must match Layers (moby load.go).
 * A bad config makes this image unusable, not the whole archive. */
static int dsave_config(struct source *s, struct plan *p, struct image *img, const char *name,
                        struct err *e)
{
    struct err ce = {0};
    cJSON *cfg = NULL;
    const unsigned char *buf;
    size_t len;
    const struct member *m = NULL;
    if (src_find(s, name, &m, &ce) != IMGSTAT_OK)
        ;
    else if (!m)
        err_set(&ce, IMGSTAT_EINPUT, "config %s is missing from the archive", name);
    else if (src_read(s, name, SRC_JSON_MAX, &buf, &len, &ce) != IMGSTAT_OK ||
             (s->opts.verify && img->id &&
              digest_check(buf, len, img->id, name, &ce) != IMGSTAT_OK) ||
             json_parse(buf, len, name, &cfg, &ce) != IMGSTAT_OK)
        ;
    else if (!cJSON_IsObject(cfg))
        err_set(&ce, IMGSTAT_EINPUT, "%s: expected a JSON object, got %s", name, json_kind(cfg));
    else if (plan_set_platform(p->arena, img, cfg, &ce) == IMGSTAT_OK) {
        plan_diff_ids(p->arena, img, cfg);
        const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(cfg, "rootfs");
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
        if (cJSON_IsArray(ids) && (size_t)cJSON_GetArraySize(ids) != img->nlayers)
            err_set(&ce, IMGSTAT_EINPUT,
                    "%s: config lists %d diff_ids but manifest.json lists %zu layers", name,
                    cJSON_GetArraySize(ids), img->nlayers);
    }
    cJSON_Delete(cfg);
    if (ce.code == IMGSTAT_ENOMEM || ce.code == IMGSTAT_ESYS)
        return err_set(e, ce.code, "%s", ce.msg);
    if (ce.code && !(img->unusable = arena_strdup(p->arena, ce.msg)))
        return err_nomem(e);
    return IMGSTAT_OK;
}

static int dsave_item(struct source *s, struct plan *p, const cJSON *item, int idx, struct err *e)
{
    char what[64];
    snprintf(what, sizeof what, DSAVE_MANIFEST " item %d", idx);
    if (!cJSON_IsObject(item))
        return err_set(e, IMGSTAT_EINPUT, "%s: expected an object, got %s", what, json_kind(item));
    const cJSON *config = json_get_any_case(item, "Config");
    const cJSON *layers = json_get_any_case(item, "Layers");
    const cJSON *tags = json_get_any_case(item, "RepoTags");
    if (!cJSON_IsString(config))
        return err_set(e, IMGSTAT_EINPUT, "%s: \"Config\" is %s, not a string", what,
                       json_kind(config));
    if (!cJSON_IsArray(layers))
        return err_set(e, IMGSTAT_EINPUT, "%s: \"Layers\" is %s, not an array", what,
                       json_kind(layers));
    if (tags && !cJSON_IsNull(tags) && !cJSON_IsArray(tags))
        return err_set(e, IMGSTAT_EINPUT, "%s: \"RepoTags\" is %s, not an array", what,
                       json_kind(tags));
    int n = cJSON_GetArraySize(layers);
    if (n > PLAN_MAX_LAYERS)
        return err_set(e, IMGSTAT_ELIMIT, "%s: %d layers, more than %d (PLAN_MAX_LAYERS)", what, n,
                       PLAN_MAX_LAYERS);

    struct image *img = plan_add(p, e);
    if (!img)
        return e->code;
    img->format = "docker-archive";
    img->layers = arena_zalloc(p->arena, (size_t)(n ? n : 1) * sizeof *img->layers);
    if (!img->layers)
        return err_nomem(e);
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        if (!cJSON_IsString(l))
            return err_set(e, IMGSTAT_EINPUT, "%s: layer %zu is %s, not a string", what,
                           img->nlayers + 1, json_kind(l));
        struct layer_ref *ref = &img->layers[img->nlayers++];
        if (plan_member_name(p->arena, l->valuestring, what, &ref->member, e) != IMGSTAT_OK)
            return e->code;
        ref->digest = ref->member;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        if (!cJSON_IsString(t))
            return err_set(e, IMGSTAT_EINPUT, "%s: a RepoTags entry is %s, not a string", what,
                           json_kind(t));
        if (plan_add_ref(p, img, t->valuestring, e) != IMGSTAT_OK)
            return e->code;
    }
    const char *cfg;
    if (plan_member_name(p->arena, config->valuestring, what, &cfg, e) != IMGSTAT_OK)
        return e->code;
    img->id = digest_id_from_name(p->arena, cfg);
    return dsave_config(s, p, img, cfg, e);
}

static int dsave_list(struct source *s, struct plan *p, struct err *e)
{
    cJSON *root;
    if (json_load(s, DSAVE_MANIFEST, &root, e) != IMGSTAT_OK)
        return e->code;
    int rc = IMGSTAT_OK, idx = 0;
    if (!cJSON_IsArray(root)) {
        rc = err_set(e, IMGSTAT_EINPUT, DSAVE_MANIFEST ": expected a JSON array, got %s",
                     json_kind(root));
    } else {
        const cJSON *item;
        cJSON_ArrayForEach(item, root)
        {
            if ((rc = dsave_item(s, p, item, ++idx, e)) != IMGSTAT_OK)
                break;
        }
    }
    cJSON_Delete(root);
    return rc;
}

const struct format fmt_docker = {"docker-archive", dsave_probe, dsave_list};
