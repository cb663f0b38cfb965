/*
 * Legacy docker-save (Docker < 1.10): no manifest.json, only `repositories`
 * ({repo: {tag: top layer id}}) and per-layer `<id>/json` with a `parent` id.
 * Layers apply from the root ancestor down (moby image/spec/v1.md).
 */
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "plan.h"
#include "err.h"
#include "imgstat.h"
#include "json.h"

static bool legacy_probe(struct source *s)
{
    return src_exists(s, "repositories");
}

/* v1 layer ids are 64 hex digits; anything else must not become a member path. */
static bool v1_id_valid(const char *id)
{
    return strlen(id) == 64 && digest_is_hex(id, 64);
}

/* Follow the parent chain from `top`, then reverse it into the image's layers. */
static int legacy_chain(struct source *s, struct plan *p, struct image *img, const char *top,
                        struct err *e)
{
    const char *ids[PLAN_MAX_LAYERS];
    size_t n = 0;
    char name[80];
    int rc = IMGSTAT_OK;
    for (const char *id = top; id && rc == IMGSTAT_OK;) {
        if (!v1_id_valid(id))
            return err_set(e, IMGSTAT_EINPUT, "repositories: layer id '%.80s' is not 64 hex digits",
                           id);
        if (n == PLAN_MAX_LAYERS)
            return err_set(e, IMGSTAT_ELIMIT, "%s: parent chain longer than %d layers (a cycle?)",
                           top, PLAN_MAX_LAYERS);
        if (!(ids[n++] = arena_strdup(p->arena, id)))
            return err_nomem(e);
        snprintf(name, sizeof name, "%s/json", id);
        cJSON *j;
        if ((rc = json_load(s, name, &json_t_v1, &j, e)) != IMGSTAT_OK)
            return rc;
        if (n == 1)
            rc = plan_set_platform(p->arena, img, j, e);
        const char *parent = json_str(j, "parent");
        id = parent && *parent ? arena_strdup(p->arena, parent) : NULL;
        cJSON_Delete(j);
    }
    if (rc != IMGSTAT_OK)
        return rc;
    if (!(img->layers = arena_zalloc(p->arena, n * sizeof *img->layers)))
        return err_nomem(e);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s/layer.tar", ids[n - 1 - i]);
        struct layer_ref *l = &img->layers[img->nlayers++];
        if (!(l->member = l->digest = arena_strdup(p->arena, name)))
            return err_nomem(e);
    }
    img->id = ids[0];
    return IMGSTAT_OK;
}

static int legacy_list(struct source *s, struct plan *p, struct err *e)
{
    cJSON *repos; /* map[string]map[string]string: keys exact, the last duplicate wins (J6) */
    if (json_load(s, "repositories", &json_t_repos, &repos, e) != IMGSTAT_OK)
        return e->code;
    int rc = IMGSTAT_OK;
    const cJSON *repo, *tag;
    cJSON_ArrayForEach(repo, repos)
    {
        cJSON_ArrayForEach(tag, repo)
        {
            struct image *img = NULL;
            for (size_t i = 0; i < p->n && !img; i++)
                if (strcmp(p->v[i].id, tag->valuestring) == 0)
                    img = &p->v[i];
            if (!img) {
                if (!(img = plan_add(p, e)))
                    return cJSON_Delete(repos), e->code;
                img->format = "docker-legacy";
                if ((rc = legacy_chain(s, p, img, tag->valuestring, e)) != IMGSTAT_OK)
                    break;
            }
            char ref[1024];
            snprintf(ref, sizeof ref, "%s:%s", repo->string, tag->string);
            if ((rc = plan_add_ref(p, img, ref, e)) != IMGSTAT_OK)
                break;
        }
        if (rc != IMGSTAT_OK)
            break;
    }
    cJSON_Delete(repos);
    return rc;
}

const struct format fmt_legacy = {"docker-legacy", legacy_probe, legacy_list};
