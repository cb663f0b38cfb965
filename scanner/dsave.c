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
    size_t len, count;
    const struct member *m = NULL;
    if (src_find(s, name, &m, &ce) != IMGSTAT_OK)
        ;
    else if (!m)
        err_set(&ce, IMGSTAT_EINPUT, "config %s is missing from the archive", name);
    else if (src_read(s, name, SRC_JSON_MAX, &buf, &len, &ce) != IMGSTAT_OK ||
             (s->opts.verify && img->id &&
              digest_check(buf, len, img->id, name, &ce) != IMGSTAT_OK) ||
             json_decode(buf, len, &json_t_config, name, &cfg, &ce) != IMGSTAT_OK)
        ;
    else if (plan_set_platform(p->arena, img, cfg, &ce) == IMGSTAT_OK &&
             plan_history(p->arena, img, cfg, &ce) == IMGSTAT_OK &&
             plan_diff_ids(p->arena, img, cfg, &count, &ce) == IMGSTAT_OK && count != img->nlayers)
        /* moby load.go: "invalid manifest, layers length mismatch"; none counts as 0 (J6) */
        err_set(&ce, IMGSTAT_EINPUT,
                "%s: config lists %zu diff_ids but manifest.json lists %zu layers", name, count,
                img->nlayers);
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
    /* json_t_dsave gave every field its Go type; an absent or null Layers is none (J6) */
    const cJSON *config = json_field(item, "Config");
    const cJSON *layers = json_field(item, "Layers");
    const cJSON *tags = json_field(item, "RepoTags");
    if (!config || !*config->valuestring) /* moby: reading "" fails, the directory itself */
        return err_set(e, IMGSTAT_EINPUT, "%s: no \"Config\"", what);
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
        struct layer_ref *ref = &img->layers[img->nlayers++];
        if (plan_member_name(p->arena, l->valuestring, what, &ref->member, e) != IMGSTAT_OK)
            return e->code;
        ref->digest = ref->member;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
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
    if (json_load(s, DSAVE_MANIFEST, &json_t_dsave, &root, e) != IMGSTAT_OK)
        return e->code;
    int rc = IMGSTAT_OK, idx = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if ((rc = dsave_item(s, p, item, ++idx, e)) != IMGSTAT_OK)
            break;
    }
    cJSON_Delete(root);
    return rc;
}

const struct format fmt_docker = {"docker-archive", dsave_probe, dsave_list};
