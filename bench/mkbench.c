/*
 * mkbench [--scale F] [--seed N] [--jobs N] OUTDIR
 * mkbench --stamp [--scale F] [--seed N]
 *
 * Writes the benchmark images of issue 3 into OUTDIR (see bench/README.md):
 *   docker.tar                  docker-archive (Docker <= 24 layout), plain layers
 *   oci-gzip/, oci-gzip.tar     OCI image layout / oci-archive, gzip layers
 *   oci-zstd/, oci-zstd.tar     the same with zstd layers
 *   many.tar                    docker-archive of 1M small files (x scale), 2 layers
 *   docker-layers/layerN.tar    the plain layers of docker.tar, for the baselines
 *   layers-{docker,oci-gzip,oci-zstd}.txt   layer files in stack order
 *   expected.json               the answer for each image, from the generator's model
 *   images.tsv                  name, path, bytes, layers, paths, files, file bytes
 *   .stamp                      what --stamp prints, to skip regeneration
 * and prints the images.tsv table on stdout, timings on stderr.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "mkbench.h"

#include <errno.h>
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MKB_FORMAT 1 /* bump when the output of a given scale changes */
#define REPO "imgstat-bench"
#define TAG "latest"

struct opts {
    double scale;
    uint64_t seed;
    int jobs;
    int stamp;
    const char *out;
};

struct image_info {
    const char *name;
    uint64_t bytes, layers, paths;
    struct expect ex;
};

static const char *outdir;

static char *outpath(const char *rel)
{
    return xasprintf("%s/%s", outdir, rel);
}

/* ---- options -------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: mkbench [--scale F] [--seed N] [--jobs N] OUTDIR\n"
          "       mkbench --stamp [--scale F] [--seed N]\n"
          "  --scale F  size factor, 0 < F <= 4 (1.0: ~600 MB in ~25k files, 1M-file many.tar)\n"
          "  --seed N   PRNG seed (default 1)\n"
          "  --jobs N   threads (default: online CPUs)\n"
          "  --stamp    print the stamp line for these options and exit\n",
          f);
}

static double parse_num(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > lo && v <= hi)) {
        fprintf(stderr, "mkbench: %s: bad value '%s' (want %g < N <= %g)\n", opt, s, lo, hi);
        exit(2);
    }
    return v;
}

static struct opts parse_opts(int argc, char **argv)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct opts o = {1.0, 1, ncpu > 0 ? (int)ncpu : 1, 0, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--stamp") == 0) {
            o.stamp = 1;
        } else if (i + 1 < argc && strcmp(a, "--scale") == 0) {
            o.scale = parse_num(a, argv[++i], 0, 4);
        } else if (i + 1 < argc && strcmp(a, "--seed") == 0) {
            o.seed = (uint64_t)parse_num(a, argv[++i], -1, 1e15);
        } else if (i + 1 < argc && strcmp(a, "--jobs") == 0) {
            o.jobs = (int)parse_num(a, argv[++i], 0, 256);
        } else if (a[0] != '-' && !o.out) {
            o.out = a;
        } else {
            fprintf(stderr, "mkbench: unexpected argument '%s'; try --help\n", a);
            exit(2);
        }
    }
    if (!o.out && !o.stamp) {
        fputs("mkbench: OUTDIR missing; try --help\n", stderr);
        exit(2);
    }
    return o;
}

static char *stamp_line(const struct opts *o)
{
    return xasprintf("mkbench-format=%d scale=%g seed=%llu\n", MKB_FORMAT, o->scale,
                     (unsigned long long)o->seed);
}

/* ---- output directory --------------------------------------------------------------- */

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    if (remove(path) != 0)
        die("%s: %s", path, strerror(errno));
    return 0;
}

static void rm_rf(const char *rel)
{
    char *p = outpath(rel);
    struct stat st;
    if (lstat(p, &st) == 0 && nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
        die("%s: cannot remove", p);
    free(p);
}

static void mkdir_rel(const char *rel)
{
    char *p = outpath(rel);
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        die("%s: %s", p, strerror(errno));
    free(p);
}

/* Removes only what mkbench writes, so a mistyped OUTDIR loses nothing else. */
static void clean_outdir(void)
{
    static const char *const ours[] = {"docker.tar",
                                       "oci-gzip.tar",
                                       "oci-zstd.tar",
                                       "many.tar",
                                       "oci-gzip",
                                       "oci-zstd",
                                       "docker-layers",
                                       ".tmp",
                                       "expected.json",
                                       "images.tsv",
                                       "layers-docker.txt",
                                       "layers-oci-gzip.txt",
                                       "layers-oci-zstd.txt",
                                       ".stamp"};
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        die("%s: %s", outdir, strerror(errno));
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
        rm_rf(ours[i]);
}

static uint64_t du_cb_total;

static int du_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path, (void)ftw;
    if (flag == FTW_F)
        du_cb_total += (uint64_t)st->st_size;
    return 0;
}

static uint64_t disk_bytes(const char *rel) /* single-threaded use only */
{
    char *p = outpath(rel);
    du_cb_total = 0;
    if (nftw(p, du_cb, 16, FTW_PHYS) != 0)
        die("%s: cannot walk", p);
    free(p);
    return du_cb_total;
}

/* ---- JSON documents ----------------------------------------------------------------- */

static void config_json(struct sbuf *b, char (*diff_ids)[65], size_t n, const char *what)
{
    sb_printf(b,
              "{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:"
              "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/sh\"]},"
              "\"created\":\"%s\",\"history\":[",
              MKB_CREATED);
    for (size_t i = 0; i < n; i++)
        sb_printf(b, "%s{\"created\":\"%s\",\"created_by\":\"mkbench %s layer %zu\"}", i ? "," : "",
                  MKB_CREATED, what, i);
    sb_printf(b, "],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
    for (size_t i = 0; i < n; i++)
        sb_printf(b, "%s\"sha256:%s\"", i ? "," : "", diff_ids[i]);
    sb_printf(b, "]}}");
}

/* Docker <= 24 `docker save` layout: <v1id>/{VERSION,json,layer.tar}, <config>.json,
 * manifest.json, repositories; members in lexical order, so the JSON comes last. */
static void write_docker(const char *rel, struct layer_out *L, size_t n, const char *what)
{
    struct sbuf cfg = {0}, man = {0}, repo = {0};
    char(*ids)[65] = xmalloc(n * sizeof *ids), cfghex[65], parent[65] = "";
    for (size_t i = 0; i < n; i++)
        memcpy(ids[i], L[i].diff_id, 65);
    config_json(&cfg, ids, n, what);
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, cfg.s, cfg.len);
    sha256_hex(&s, cfghex);
    size_t nm = 0;
    struct member *m = xmalloc((4 * n + 3) * sizeof *m);
    struct sbuf *v1json = xmalloc(n * sizeof *v1json);
    sb_printf(&man, "[{\"Config\":\"%s.json\",\"RepoTags\":[\"%s:%s\"],\"Layers\":[", cfghex, REPO,
              TAG);
    for (size_t i = 0; i < n; i++) {
        char v1id[65];
        sha256_init(&s); /* like Docker's v1 ids: a chain over the diff ids */
        sha256_update(&s, parent, strlen(parent));
        sha256_update(&s, L[i].diff_id, 64);
        sha256_hex(&s, v1id);
        v1json[i] = (struct sbuf){0};
        sb_printf(&v1json[i], "{\"id\":\"%s\"%s%s%s,\"created\":\"%s\",\"os\":\"linux\"}", v1id,
                  *parent ? ",\"parent\":\"" : "", parent, *parent ? "\"" : "", MKB_CREATED);
        m[nm++] = (struct member){xstrdup(v1id), NULL, 0, NULL, 1};
        m[nm++] = (struct member){xasprintf("%s/VERSION", v1id), "1.0", 3, NULL, 0};
        m[nm++] = (struct member){xasprintf("%s/json", v1id), v1json[i].s, v1json[i].len, NULL, 0};
        m[nm++] = (struct member){xasprintf("%s/layer.tar", v1id), NULL, 0, L[i].path, 0};
        sb_printf(&man, "%s\"%s/layer.tar\"", i ? "," : "", v1id);
        memcpy(parent, v1id, 65);
    }
    sb_printf(&man, "]}]");
    sb_printf(&repo, "{\"%s\":{\"%s\":\"%s\"}}\n", REPO, TAG, parent);
    m[nm++] = (struct member){xasprintf("%s.json", cfghex), cfg.s, cfg.len, NULL, 0};
    m[nm++] = (struct member){xstrdup("manifest.json"), man.s, man.len, NULL, 0};
    m[nm++] = (struct member){xstrdup("repositories"), repo.s, repo.len, NULL, 0};
    char *path = outpath(rel);
    write_outer(path, m, nm);
    free(path);
    for (size_t i = 0; i < nm; i++)
        free(m[i].name);
    for (size_t i = 0; i < n; i++)
        sb_free(&v1json[i]);
    free(v1json);
    free(m);
    free(ids);
    sb_free(&cfg);
    sb_free(&man);
    sb_free(&repo);
}

struct blob_out { /* one compressed layer blob */
    const char *src, *dir;
    enum comp comp;
    size_t index;
    char hex[65];
    uint64_t size;
};

static void compress_task(void *arg)
{
    struct blob_out *b = arg;
    char *tmp = xasprintf("%s/.tmp-%d-%zu", b->dir, (int)b->comp, b->index);
    compress_file(b->src, tmp, b->comp, b->hex, &b->size);
    char *final = xasprintf("%s/%s", b->dir, b->hex);
    if (rename(tmp, final) != 0)
        die("%s: %s", final, strerror(errno));
    free(tmp);
    free(final);
}

/* OCI image layout in OUTDIR/rel: config, manifest, index.json (ref name "latest"),
 * oci-layout. The layer blobs are already in rel/blobs/sha256. */
static void write_oci_layout(const char *rel, struct layer_out *L, struct blob_out *B, size_t n)
{
    const char *media = B[0].comp == COMP_GZIP ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                               : "application/vnd.oci.image.layer.v1.tar+zstd";
    struct sbuf cfg = {0}, man = {0}, idx = {0};
    char(*ids)[65] = xmalloc(n * sizeof *ids), cfghex[65], manhex[65];
    for (size_t i = 0; i < n; i++)
        memcpy(ids[i], L[i].diff_id, 65);
    config_json(&cfg, ids, n, "main");
    char *blobs = xasprintf("%s/%s/blobs/sha256", outdir, rel);
    write_blob(blobs, cfg.s, cfg.len, cfghex);
    sb_printf(&man,
              "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1"
              "+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
              "\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[",
              cfghex, cfg.len);
    for (size_t i = 0; i < n; i++)
        sb_printf(&man, "%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%llu}",
                  i ? "," : "", media, B[i].hex, (unsigned long long)B[i].size);
    sb_printf(&man, "]}");
    write_blob(blobs, man.s, man.len, manhex);
    sb_printf(&idx,
              "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
              "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
              "\"digest\":\"sha256:%s\",\"size\":%zu,\"platform\":{\"architecture\":\"amd64\","
              "\"os\":\"linux\"},\"annotations\":{\"io.containerd.image.name\":"
              "\"docker.io/library/%s:%s\",\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
              manhex, man.len, REPO, TAG, TAG);
    char *p = xasprintf("%s/%s/index.json", outdir, rel);
    write_file(p, idx.s, idx.len);
    free(p);
    p = xasprintf("%s/%s/oci-layout", outdir, rel);
    write_file(p, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
    free(p);
    free(blobs);
    free(ids);
    sb_free(&cfg);
    sb_free(&man);
    sb_free(&idx);
}

/* oci-archive: every file of the layout as a tar member, in lexical order (blobs first,
 * as `tar -cf x.tar -C layout .` and skopeo write them). */
static void write_oci_archive(const char *rel, const char *tarname)
{
    char *blobs = xasprintf("%s/%s/blobs/sha256", outdir, rel);
    DIR *d = opendir(blobs);
    if (!d)
        die("%s: %s", blobs, strerror(errno));
    size_t nm = 0, cap = 16;
    struct member *m = xmalloc(cap * sizeof *m);
    m[nm++] = (struct member){xstrdup("blobs"), NULL, 0, NULL, 1};
    m[nm++] = (struct member){xstrdup("blobs/sha256"), NULL, 0, NULL, 1};
    m[nm++] = (struct member){xstrdup("index.json"), NULL, 0,
                              xasprintf("%s/%s/index.json", outdir, rel), 0};
    m[nm++] = (struct member){xstrdup("oci-layout"), NULL, 0,
                              xasprintf("%s/%s/oci-layout", outdir, rel), 0};
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        if (nm == cap)
            m = xrealloc(m, (cap *= 2) * sizeof *m);
        m[nm++] = (struct member){xasprintf("blobs/sha256/%s", e->d_name), NULL, 0,
                                  xasprintf("%s/%s", blobs, e->d_name), 0};
    }
    closedir(d);
    char *path = outpath(tarname);
    write_outer(path, m, nm);
    for (size_t i = 0; i < nm; i++) {
        free(m[i].name);
        free(m[i].src);
    }
    free(m);
    free(path);
    free(blobs);
}

/* ---- the main image ------------------------------------------------------------------ */

struct main_layer {
    const struct layer_plan *lp;
    struct layer_out *out;
};

static void main_layer_task(void *arg)
{
    struct main_layer *t = arg;
    struct layer_writer *w = lw_open(t->out->path);
    for (size_t i = 0; i < t->lp->n; i++)
        lw_add(w, &t->lp->v[i]);
    lw_close(w, t->out->diff_id, &t->out->bytes, &t->out->entries);
}

struct assemble {
    int what; /* 0 docker.tar, 1 oci-gzip.tar, 2 oci-zstd.tar */
    struct layer_out *L;
};

static void assemble_task(void *arg)
{
    struct assemble *t = arg;
    if (t->what == 0)
        write_docker("docker.tar", t->L, MAIN_LAYERS, "main");
    else
        write_oci_archive(t->what == 1 ? "oci-gzip" : "oci-zstd",
                          t->what == 1 ? "oci-gzip.tar" : "oci-zstd.tar");
}

static void write_list(const char *rel, char **lines, size_t n)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++)
        sb_printf(&b, "%s\n", lines[i]);
    char *p = outpath(rel);
    write_file(p, b.s, b.len);
    free(p);
    sb_free(&b);
}

static void make_main(const struct opts *o, struct image_info info[5])
{
    double t0 = now_seconds();
    struct layer_plan lp[MAIN_LAYERS];
    struct expect ex;
    struct plan *plan = plan_main(o->scale, o->seed, lp, &ex);
    fprintf(stderr, "mkbench: planned main image in %.2fs\n", now_seconds() - t0);

    mkdir_rel("docker-layers");
    struct layer_out L[MAIN_LAYERS];
    struct main_layer ml[MAIN_LAYERS];
    for (int i = 0; i < MAIN_LAYERS; i++) {
        L[i].path = xasprintf("%s/docker-layers/layer%d.tar", outdir, i);
        ml[i] = (struct main_layer){&lp[i], &L[i]};
    }
    run_tasks(main_layer_task, ml, sizeof *ml, MAIN_LAYERS, o->jobs);
    fprintf(stderr, "mkbench: wrote 4 layer tars in %.2fs\n", now_seconds() - t0);

    const char *rels[2] = {"oci-gzip", "oci-zstd"};
    char *dirs[2];
    struct blob_out B[2][MAIN_LAYERS];
    for (int c = 0; c < 2; c++) {
        char *sub = xasprintf("%s/blobs", rels[c]);
        char *sha = xasprintf("%s/blobs/sha256", rels[c]);
        mkdir_rel(rels[c]), mkdir_rel(sub), mkdir_rel(sha);
        dirs[c] = outpath(sha);
        free(sub), free(sha);
        for (int i = 0; i < MAIN_LAYERS; i++)
            B[c][i] =
                (struct blob_out){L[i].path, dirs[c], c ? COMP_ZSTD : COMP_GZIP, (size_t)i, "", 0};
    }
    /* gzip tasks first: they are the slow ones */
    run_tasks(compress_task, &B[0][0], sizeof B[0][0], 2 * MAIN_LAYERS, o->jobs);
    fprintf(stderr, "mkbench: compressed gzip and zstd blobs at %.2fs\n", now_seconds() - t0);

    for (int c = 0; c < 2; c++)
        write_oci_layout(rels[c], L, B[c], MAIN_LAYERS);
    struct assemble as[3] = {{0, L}, {1, L}, {2, L}};
    run_tasks(assemble_task, as, sizeof *as, 3, o->jobs);
    fprintf(stderr, "mkbench: assembled docker.tar and oci archives at %.2fs\n",
            now_seconds() - t0);

    char *lines[3][MAIN_LAYERS];
    uint64_t paths = 0;
    for (int i = 0; i < MAIN_LAYERS; i++) {
        paths += L[i].entries;
        lines[0][i] = xasprintf("docker-layers/layer%d.tar", i);
        for (int c = 0; c < 2; c++)
            lines[c + 1][i] = xasprintf("%s/blobs/sha256/%s", rels[c], B[c][i].hex);
    }
    write_list("layers-docker.txt", lines[0], MAIN_LAYERS);
    write_list("layers-oci-gzip.txt", lines[1], MAIN_LAYERS);
    write_list("layers-oci-zstd.txt", lines[2], MAIN_LAYERS);
    static const char *const names[5] = {"docker.tar", "oci-gzip", "oci-gzip.tar", "oci-zstd",
                                         "oci-zstd.tar"};
    for (int k = 0; k < 5; k++)
        info[k] = (struct image_info){names[k], disk_bytes(names[k]), MAIN_LAYERS, paths, ex};
    for (int i = 0; i < MAIN_LAYERS; i++) {
        free(L[i].path);
        free(lp[i].v);
        for (int c = 0; c < 3; c++)
            free(lines[c][i]);
    }
    free(dirs[0]), free(dirs[1]);
    plan_free(plan);
}

static void make_many(const struct opts *o, struct image_info *info)
{
    double t0 = now_seconds();
    struct many_cfg c;
    many_config(&c, o->scale, o->seed);
    mkdir_rel(".tmp");
    struct many_layer ml[2];
    for (int i = 0; i < 2; i++)
        ml[i] = (struct many_layer){&c, i, {xasprintf("%s/.tmp/many%d.tar", outdir, i), "", 0, 0}};
    run_tasks(many_layer_task, ml, sizeof *ml, 2, o->jobs);
    struct layer_out L[2] = {ml[0].out, ml[1].out};
    write_docker("many.tar", L, 2, "many");
    *info = (struct image_info){"many.tar", 0, 2, L[0].entries + L[1].entries, {0, 0, 0}};
    many_expect(&c, &info->ex);
    info->bytes = disk_bytes("many.tar");
    for (int i = 0; i < 2; i++)
        free(L[i].path);
    rm_rf(".tmp");
    fprintf(stderr, "mkbench: wrote many.tar (%zu files) in %.2fs\n", c.n, now_seconds() - t0);
}

/* ---- reports -------------------------------------------------------------------------- */

static void write_reports(const struct opts *o, const struct image_info *im, size_t n)
{
    struct sbuf js = {0}, tsv = {0};
    sb_printf(&js, "{\n");
    sb_printf(&tsv, "name\tpath\tbytes\tlayers\tpaths\tfiles_num\tfiles_size\tdata_bytes\n");
    for (size_t i = 0; i < n; i++) {
        const struct expect *e = &im[i].ex;
        sb_printf(&js, "  \"%s\": {\"total_files_num\": %llu, \"total_files_size\": %llu}%s\n",
                  im[i].name, (unsigned long long)e->files_num, (unsigned long long)e->files_size,
                  i + 1 < n ? "," : "");
        sb_printf(&tsv, "%s\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\n", im[i].name, im[i].name,
                  (unsigned long long)im[i].bytes, (unsigned long long)im[i].layers,
                  (unsigned long long)im[i].paths, (unsigned long long)e->files_num,
                  (unsigned long long)e->files_size, (unsigned long long)e->data_bytes);
    }
    sb_printf(&js, "}\n");
    char *p = outpath("expected.json");
    write_file(p, js.s, js.len);
    free(p);
    p = outpath("images.tsv");
    write_file(p, tsv.s, tsv.len);
    free(p);
    char *stamp = stamp_line(o);
    p = outpath(".stamp");
    write_file(p, stamp, strlen(stamp));
    free(p);
    free(stamp);
    fputs(tsv.s, stdout);
    sb_free(&js);
    sb_free(&tsv);
}

int main(int argc, char **argv)
{
    struct opts o = parse_opts(argc, argv);
    if (o.stamp) {
        char *s = stamp_line(&o);
        fputs(s, stdout);
        free(s);
        return 0;
    }
    outdir = o.out;
    double t0 = now_seconds();
    clean_outdir();
    struct image_info info[6];
    make_main(&o, info);
    make_many(&o, &info[5]);
    write_reports(&o, info, 6);
    fprintf(stderr, "mkbench: done in %.2fs (scale %g, %d jobs)\n", now_seconds() - t0, o.scale,
            o.jobs);
    return 0;
}
