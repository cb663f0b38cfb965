/*
 * mkbench: deterministic generator of big synthetic container images for the
 * benchmark (issue 3). Shared declarations of its five files:
 *
 *   mkbench.c    options, orchestration, the JSON/TSV reports
 *   mkb_plan.c   the main 4-layer image: what each layer holds, and the
 *                bookkeeping model that gives the expected final view
 *   mkb_many.c   many.tar: 1M small files in 2 layers, from a formula
 *   mkb_write.c  layer tars (libarchive), gzip/zstd blobs, outer archives,
 *                a tiny parallel task runner
 *   mkb_util.c   SHA-256, PRNG, file-content generator, string buffer
 *
 * Everything is a pure function of (--scale, --seed): same inputs, same bytes.
 * Layers are streamed to files; nothing holds a layer in memory.
 * Errors are fatal: a generator has nobody to report to but the user (die()).
 */
#ifndef MKBENCH_H
#define MKBENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Fixed timestamp of every entry and of the config: 2023-11-14T22:13:20Z. */
#define MKB_MTIME 1700000000
#define MKB_CREATED "2023-11-14T22:13:20Z"

/* ---- mkb_util.c ---------------------------------------------------------- */

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double now_seconds(void);

struct sha256 {
    void *ctx; /* libcrypto's EVP_MD_CTX */
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Finalises s and writes 64 lowercase hex digits plus NUL. */
void sha256_hex(struct sha256 *s, char out[65]);

/* xoshiro256** seeded through splitmix64. */
struct rng {
    uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n); /* uniform in [0, n), n > 0 */
double rng_unit(struct rng *r);                /* uniform in [0, 1) */
uint64_t mix64(uint64_t x);                    /* splitmix64 finaliser */

/*
 * File contents that compress like binaries (gzip ratio about 2.5): runs of
 * random bytes, of a skewed 16-symbol alphabet, and copies of recent output.
 * gen_next() returns n <= GEN_CHUNK fresh bytes, valid until the next call.
 */
#define GEN_HIST 16384
#define GEN_CHUNK 65536
struct gen {
    struct rng r;
    int kind;
    size_t end; /* bytes of win in use */
    unsigned char win[GEN_HIST + GEN_CHUNK];
};
void gen_start(struct gen *g, uint64_t seed);
const unsigned char *gen_next(struct gen *g, size_t n);

/* Growable string. */
struct sbuf {
    char *s;
    size_t len, cap;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

/* ---- mkb_write.c --------------------------------------------------------- */

enum ent_kind { ENT_DIR, ENT_REG, ENT_HARDLINK, ENT_SYMLINK, ENT_WHITEOUT };

/* One layer-tar entry as the writer sees it. */
struct ent {
    const char *path;   /* no leading "./" or "/", no trailing "/" */
    const char *target; /* SYMLINK target, or HARDLINK target path */
    uint64_t size;      /* REG only */
    uint64_t seed;      /* REG only: content seed */
    uint32_t mode;      /* permission bits */
    enum ent_kind kind;
};

struct layer_writer;
struct layer_writer *lw_open(const char *path);
void lw_add(struct layer_writer *w, const struct ent *e);
/* Closes the tar; returns its sha256 (the diff_id), size and entry count. */
void lw_close(struct layer_writer *w, char diff_id[65], uint64_t *bytes, uint64_t *entries);

enum comp { COMP_GZIP, COMP_ZSTD };
/* Compresses file src into dst; returns the sha256 and size of dst. */
void compress_file(const char *src, const char *dst, enum comp c, char hex[65], uint64_t *size);

/* A member of an outer archive: in-memory data, a file, or a directory. */
struct member {
    char *name;
    const char *data; /* if non-NULL: len bytes */
    size_t len;
    char *src; /* else if non-NULL: a file to copy */
    int is_dir;
};
/* Writes the members, sorted by name, as a pax-restricted tar. */
void write_outer(const char *path, struct member *m, size_t n);
void write_file(const char *path, const char *data, size_t len);
/* Writes data to dir/<sha256(data)> and returns the digest hex. */
void write_blob(const char *dir, const char *data, size_t len, char hex[65]);

/* Runs fn(arg + i*stride) for i in [0, n) on up to jobs threads. */
void run_tasks(void (*fn)(void *), void *args, size_t stride, size_t n, int jobs);

/* The answer for an image, from the generator's bookkeeping. */
struct expect {
    uint64_t files_num;  /* regular-file paths of the final view */
    uint64_t files_size; /* their bytes, once per inode */
    uint64_t data_bytes; /* file bytes written over all layers */
};

/* One written layer tar. */
struct layer_out {
    char *path;
    char diff_id[65];
    uint64_t bytes, entries;
};

/* ---- mkb_many.c ---------------------------------------------------------- */

/* many.tar: n small files, layer 0 holds the first 70%, layer 1 the rest and
 * whiteouts of 1% of layer 0. */
struct many_cfg {
    size_t n, n0;
    uint64_t seed;
};
void many_config(struct many_cfg *c, double scale, uint64_t seed);
void many_expect(const struct many_cfg *c, struct expect *ex);

struct many_layer {
    const struct many_cfg *c;
    int layer;
    struct layer_out out;
};
/* Task for run_tasks(): writes layer t->layer to t->out.path, fills t->out. */
void many_layer_task(void *arg);

/* ---- mkb_plan.c ---------------------------------------------------------- */

#define MAIN_LAYERS 4

struct layer_plan {
    struct ent *v;
    size_t n, cap;
};

struct plan;
/* Plans the 4-layer image; layer i's sorted entries are in *out_layers[i]. */
struct plan *plan_main(double scale, uint64_t seed, struct layer_plan out_layers[MAIN_LAYERS],
                       struct expect *ex);
void plan_free(struct plan *p);

#endif
