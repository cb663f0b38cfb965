/*
 * mkb_many.c: many.tar, the memory benchmark image: 1M small files (times
 * --scale) in two layers, written straight from a formula so that neither the
 * generator nor its bookkeeping holds a list of the files.
 *
 * File i lives in usr/lib/node_modules/group<g>/dist/d<d>/module-<i>.js with
 * d = i / 1000 and g = d / 32. Layer 0 holds files [0, n0), layer 1 the rest
 * plus a whiteout of every L0 file with i % 100 == 37. Half the files are
 * empty, the others 1..599 bytes.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "mkbench.h"

#include <math.h>
#include <string.h>

#define MANY_PER_DIR 1000
#define MANY_PREFIX "usr/lib/node_modules"
#define MANY_DIR_FMT MANY_PREFIX "/group%02zu/dist/d%04zu/"

static uint64_t many_size(const struct many_cfg *c, size_t i, uint64_t *seed)
{
    uint64_t h = mix64(c->seed ^ mix64(i));
    *seed = h;
    return h & 1 ? 0 : 1 + (h >> 8) % 599;
}

static int many_whiteout(const struct many_cfg *c, size_t i)
{
    return i < c->n0 && i % 100 == 37;
}

static void many_dirs(struct layer_writer *w, size_t d, size_t *last_g)
{
    char path[128];
    struct ent e = {path, NULL, 0, 0, 0755, ENT_DIR};
    if (*last_g != d / 32) {
        *last_g = d / 32;
        snprintf(path, sizeof path, MANY_PREFIX "/group%02zu", d / 32);
        lw_add(w, &e);
        snprintf(path, sizeof path, MANY_PREFIX "/group%02zu/dist", d / 32);
        lw_add(w, &e);
    }
    snprintf(path, sizeof path, MANY_PREFIX "/group%02zu/dist/d%04zu", d / 32, d);
    lw_add(w, &e);
}

static void many_dir_content(struct layer_writer *w, const struct many_layer *t, size_t d)
{
    const struct many_cfg *c = t->c;
    char path[128];
    struct ent e = {path, NULL, 0, 0, 0, ENT_WHITEOUT};
    size_t lo = d * MANY_PER_DIR, hi = lo + MANY_PER_DIR < c->n ? lo + MANY_PER_DIR : c->n;
    for (size_t i = lo; t->layer == 1 && i < hi; i++) { /* ".wh." sorts before "module-" */
        if (!many_whiteout(c, i))
            continue;
        int k = snprintf(path, sizeof path, MANY_DIR_FMT, d / 32, d);
        snprintf(path + k, sizeof path - (size_t)k, ".wh.module-%07zu.js", i);
        lw_add(w, &e);
    }
    for (size_t i = lo; i < hi; i++) {
        if ((i < c->n0) != (t->layer == 0))
            continue;
        int k = snprintf(path, sizeof path, MANY_DIR_FMT, d / 32, d);
        snprintf(path + k, sizeof path - (size_t)k, "module-%07zu.js", i);
        struct ent f = {path, NULL, 0, 0, 0644, ENT_REG};
        f.size = many_size(c, i, &f.seed);
        lw_add(w, &f);
    }
}

static int many_dir_used(const struct many_layer *t, size_t d)
{
    size_t lo = d * MANY_PER_DIR, hi = lo + MANY_PER_DIR;
    if (t->layer == 0)
        return lo < t->c->n0;
    return hi > t->c->n0 || lo < t->c->n0; /* new files, or whiteouts of L0 files */
}

void many_layer_task(void *arg)
{
    struct many_layer *t = arg;
    struct layer_writer *w = lw_open(t->out.path);
    static const char *const top[] = {"usr", "usr/lib", MANY_PREFIX};
    for (int k = 0; k < 3; k++) {
        struct ent e = {top[k], NULL, 0, 0, 0755, ENT_DIR};
        lw_add(w, &e);
    }
    size_t ndirs = (t->c->n + MANY_PER_DIR - 1) / MANY_PER_DIR, last_g = SIZE_MAX;
    for (size_t d = 0; d < ndirs; d++) {
        if (!many_dir_used(t, d))
            continue;
        many_dirs(w, d, &last_g);
        many_dir_content(w, t, d);
    }
    lw_close(w, t->out.diff_id, &t->out.bytes, &t->out.entries);
}

void many_config(struct many_cfg *c, double scale, uint64_t seed)
{
    double n = floor(1e6 * scale + 0.5);
    c->n = n < 10 ? 10 : (size_t)n;
    c->n0 = c->n * 7 / 10;
    c->seed = mix64(seed ^ 0x6d616e79);
}

void many_expect(const struct many_cfg *c, struct expect *ex)
{
    memset(ex, 0, sizeof *ex);
    for (size_t i = 0; i < c->n; i++) {
        uint64_t seed, size = many_size(c, i, &seed);
        ex->data_bytes += size;
        if (many_whiteout(c, i))
            continue;
        ex->files_num++;
        ex->files_size += size;
    }
}
