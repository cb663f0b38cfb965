#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "imgstat.h"
#include "json.h"
#include "path.h"

struct image *plan_add(struct plan *p, struct err *e)
{
    if (p->n >= PLAN_MAX_IMAGES) {
        err_set(e, IMGSTAT_ELIMIT, "more than %d images listed (PLAN_MAX_IMAGES)", PLAN_MAX_IMAGES);
        return NULL;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        struct image *v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            err_nomem(e);
            return NULL;
        }
        p->v = v;
        p->cap = cap;
    }
    struct image *img = &p->v[p->n++];
    memset(img, 0, sizeof *img);
    return img;
}

int plan_add_ref(struct plan *p, struct image *img, const char *ref, struct err *e)
{
    for (size_t i = 0; i < img->nrefs; i++)
        if (strcmp(img->refs[i], ref) == 0)
            return IMGSTAT_OK;
    const char **v = arena_alloc(p->arena, (img->nrefs + 1) * sizeof *v);
    const char *copy = arena_strdup(p->arena, ref);
    if (!v || !copy)
        return err_nomem(e);
    if (img->nrefs)
        memcpy(v, img->refs, img->nrefs * sizeof *v);
    v[img->nrefs++] = copy;
    img->refs = v;
    return IMGSTAT_OK;
}

void plan_free(struct plan *p)
{
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

/* The dir transport first: its manifest.json is an object beside a `version` file (F7).
 * Then manifest.json: Docker >= 25 tarballs are OCI layouts too, and their OCI manifest
 * had scrambled layers in 25.0.0 (SEMANTICS 1.6); the legacy chain is the last resort. */
static const struct format *const formats[] = {&fmt_dir, &fmt_docker, &fmt_oci, &fmt_legacy};

int plan_read(struct source *s, struct plan *p, struct err *e)
{
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (formats[i]->probe(s))
            return formats[i]->list(s, p, e);
    if (e->code)
        return e->code;
    return err_set(e, IMGSTAT_EINPUT,
                   s->kind == SRC_DIR
                       ? "not an OCI image layout (no index.json) nor an extracted docker save"
                       : "not a container image: no manifest.json, index.json or repositories "
                         "(a plain rootfs tarball?)");
}

int plan_diff_ids(struct arena *a, struct image *img, const cJSON *config, size_t *count,
                  struct err *e)
{
    const cJSON *ids = json_field(json_field(config, "rootfs"), "diff_ids");
    size_t i = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        /* json_t_config made every entry a string */
        if (i < img->nlayers && !(img->layers[i].diff_id = arena_strdup(a, id->valuestring)))
            return err_nomem(e);
        i++;
    }
    *count = i;
    return IMGSTAT_OK;
}

int plan_history(struct arena *a, struct image *img, const cJSON *config, struct err *e)
{
    const cJSON *steps = json_field(config, "history"), *step;
    size_t n = (size_t)cJSON_GetArraySize(steps), i = 0;
    if (!cJSON_IsArray(steps) || n == 0)
        return IMGSTAT_OK; /* none, null, or dropped as Go would refuse it (JT_LENIENT) */
    if (!(img->history = arena_zalloc(a, n * sizeof *img->history)))
        return err_nomem(e);
    cJSON_ArrayForEach(step, steps)
    {
        struct history_step *h = &img->history[i++];
        const char *by = json_str(step, "created_by"), *comment = json_str(step, "comment");
        h->empty_layer = cJSON_IsTrue(json_field(step, "empty_layer"));
        if ((by && !(h->created_by = arena_strdup(a, by))) ||
            (comment && !(h->comment = arena_strdup(a, comment))))
            return err_nomem(e);
    }
    img->nhistory = n;
    return IMGSTAT_OK;
}

int plan_member_name(struct arena *a, const char *raw, const char *what, const char **out,
                     struct err *e)
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

static const char *dup_str(struct arena *a, const cJSON *obj, const char *key)
{
    const char *v = json_str(obj, key);
    return v ? arena_strdup(a, v) : NULL;
}

int plan_set_platform(struct arena *a, struct image *img, const cJSON *obj, struct err *e)
{
    if (!cJSON_IsObject(obj))
        return IMGSTAT_OK;
    if ((!img->os && !(img->os = dup_str(a, obj, "os")) && json_str(obj, "os")) ||
        (!img->arch && !(img->arch = dup_str(a, obj, "architecture")) &&
         json_str(obj, "architecture")) ||
        (!img->variant && !(img->variant = dup_str(a, obj, "variant")) && json_str(obj, "variant")))
        return err_nomem(e);
    return IMGSTAT_OK;
}
