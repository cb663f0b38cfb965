/*
 * test_record: entry records (layers/record.h), rules S5-S7 of docs/rules.md.
 *
 *   S5/S6 round trip   entries recorded and replayed come back byte for byte (raw names with
 *                      "./", "//", "..", a leading or trailing '/', non-UTF-8 bytes, names
 *                      longer than PATH_MAX_BYTES, NULL and empty links, 64-bit sizes), from
 *                      a buffer's own table, from a shared one, and after export + import;
 *   S5 compactness     a long directory costs its bytes once, not once per entry;
 *   S7 export          self-contained: a layer exported from a shared table carries only its
 *                      own directories; export(import(x)) gives the same bytes;
 *   S7 refusals        every truncation and every flipped bit of a valid export is refused,
 *                      as are hand-made records that break one rule each (with a correct
 *                      checksum), and the buffer stays empty.
 * The expected entries are the inputs themselves; sizes are worked out in the comments.
 * Prints one line per failed check and ends with "N passed, N failed".
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "entry.h"
#include "err.h"
#include "imgstat.h"
#include "path.h"
#include "record.h"

static int passed, failed;

__attribute__((format(printf, 2, 3))) static void check(bool ok, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* ---- entries as the walker emits them ---------------------------------------------------- */

struct ent {
    uint8_t type;
    const char *path; /* NUL-terminated here; recorded by length */
    const char *link; /* NULL: none */
    uint64_t size;
};

static char long4096[PATH_MAX_BYTES + 1]; /* "d/d/.../d/f": exactly 4096 bytes, 2048 segments */
static char long4097[PATH_MAX_BYTES + 2]; /* one byte more: kept whole */
static char long5000[5001];               /* "x/" x 2500: kept whole */
static char dir3800[3801];                /* a 3800-byte directory of 40-byte segments */

static void fill_long(void)
{
    for (int i = 0; i < 2047; i++)
        memcpy(long4096 + 2 * i, "d/", 2);
    memcpy(long4096 + 4094, "ff", 2);
    memcpy(long4097, long4096, PATH_MAX_BYTES);
    long4097[PATH_MAX_BYTES] = 'g';
    for (int i = 0; i < 2500; i++)
        memcpy(long5000 + 2 * i, "x/", 2);
    for (int i = 0; i < 95; i++) {
        memset(dir3800 + 40 * i, 'a' + i % 26, 39);
        dir3800[40 * i + 39] = '/';
    }
    dir3800[3799] = 'z'; /* no trailing '/': the entries add it */
}

static const struct ent rows[] = {
    {ENT_REG, "/first", NULL, 2}, /* first: an empty segment before any name is stored */
    {ENT_DIR, "etc/", NULL, 0},
    {ENT_REG, "etc/passwd", NULL, 1234},
    {ENT_REG, "./etc/group", NULL, 5},
    {ENT_REG, "/abs/file", NULL, 7},
    {ENT_REG, "a//b/./c/../d", NULL, 1},
    {ENT_DIR, "", NULL, 0},
    {ENT_DIR, "./", NULL, 0},
    {ENT_DIR, "/", NULL, 0},
    {ENT_REG, "////", NULL, 0},
    {ENT_REG, "noslash", NULL, 0},
    {ENT_REG, "../../up/../x", NULL, 3},
    {ENT_REG, "x/.wh..wh..opq", NULL, 0},
    {ENT_REG, ".wh.gone", NULL, 0},
    {ENT_SYMLINK, "usr/bin/sh", "busybox", 0},
    {ENT_HARDLINK, "usr/bin/ls", "usr/bin/busybox", 0},
    {ENT_SYMLINK, "usr/bin/empty", "", 0},
    {ENT_REG, "usr/bin/big", NULL, UINT64_MAX},
    {ENT_REG, "\xff\xfe/\x80\x01name", NULL, 9},
    {ENT_CHR, "dev/null", NULL, 0},
    {ENT_BLK, "dev/sda", NULL, 0},
    {ENT_FIFO, "run/fifo", NULL, 0},
    {ENT_OTHER, "run/sock", NULL, 0},
    /* siblings and cousins: the interning cache must not confuse them */
    {ENT_REG, "p/q/r1", NULL, 1},
    {ENT_REG, "p/q/r2", NULL, 2},
    {ENT_REG, "p/s/t", NULL, 3},
    {ENT_REG, "p/q/r3", NULL, 4},
    {ENT_DIR, "p", NULL, 0},
    {ENT_DIR, "p/q", NULL, 0},
    {ENT_REG, "p/qq/r", NULL, 5},
    {ENT_REG, "p/q", NULL, 6},
    {ENT_REG, "pp/q/r", NULL, 7},
    {ENT_REG, "p//q/r", NULL, 8},
    {ENT_REG, long4096, NULL, 10},
    {ENT_REG, long4097, NULL, 11},
    {ENT_HARDLINK, long5000, long5000, 0},
    {ENT_REG, "d/d/short", NULL, 12},
};
#define NROWS (sizeof rows / sizeof *rows)

/* What a sink saw, copied. */
struct seen {
    size_t n, cap;
    struct layer_entry *v;
};

static int collect(void *ctx, const struct layer_entry *ent, struct err *e)
{
    (void)e;
    struct seen *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    struct layer_entry c = *ent;
    c.path = memcpy(malloc(ent->path_len + 1), ent->path, ent->path_len);
    if (ent->link)
        c.link = memcpy(malloc(ent->link_len + 1), ent->link, ent->link_len);
    s->v[s->n++] = c;
    return IMGSTAT_OK;
}

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((void *)s->v[i].path);
        free((void *)s->v[i].link);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

static struct layer_entry as_entry(const struct ent *r)
{
    struct layer_entry e = {r->path, strlen(r->path), r->link, r->link ? strlen(r->link) : 0,
                            r->size, r->type};
    return e;
}

static bool same(const struct layer_entry *a, const struct layer_entry *b)
{
    return a->type == b->type && a->size == b->size && a->path_len == b->path_len &&
           memcmp(a->path, b->path, a->path_len) == 0 && !a->link == !b->link &&
           a->link_len == b->link_len && (!a->link || memcmp(a->link, b->link, a->link_len) == 0);
}

static void record_rows(struct rec_buf *r, const struct ent *v, size_t n)
{
    struct err e = {0};
    for (size_t i = 0; i < n; i++) {
        struct layer_entry x = as_entry(&v[i]);
        check(rec_sink(r, &x, &e) == IMGSTAT_OK, "rec_sink row %zu: %s", i, e.msg);
    }
}

/* Replay r and compare with v[0..n). */
static void expect_rows(const char *what, const struct rec_buf *r, const struct ent *v, size_t n)
{
    struct seen s = {0};
    struct err e = {0};
    check(rec_replay(r, collect, &s, &e) == IMGSTAT_OK, "%s: replay: %s", what, e.msg);
    check(s.n == n, "%s: %zu entries replayed, want %zu", what, s.n, n);
    for (size_t i = 0; i < s.n && i < n; i++) {
        struct layer_entry want = as_entry(&v[i]);
        check(same(&s.v[i], &want), "%s: entry %zu differs (want '%.60s')", what, i, v[i].path);
    }
    seen_free(&s);
}

/* ---- S5/S6: round trips -------------------------------------------------------------------- */

static void test_round_trip(void)
{
    struct rec_buf a = {0}, b = {0};
    struct err e = {0};
    record_rows(&a, rows, NROWS);
    check(a.count == NROWS, "count %llu, want %zu", (unsigned long long)a.count, NROWS);
    expect_rows("own table", &a, rows, NROWS);

    unsigned char *x, *y;
    size_t xlen, ylen;
    check(rec_export(&a, &x, &xlen, &e) == IMGSTAT_OK, "export: %s", e.msg);
    check(rec_import(&b, x, xlen, &e) == IMGSTAT_OK, "import: %s", e.msg);
    expect_rows("imported", &b, rows, NROWS);
    check(rec_export(&b, &y, &ylen, &e) == IMGSTAT_OK, "export again: %s", e.msg);
    check(xlen == ylen && memcmp(x, y, xlen) == 0, "export(import(x)) != x (%zu, %zu bytes)", xlen,
          ylen);
    free(x);
    free(y);
    rec_free(&a);
    rec_free(&b);
    check(!a.head && !a.dirs && a.count == 0, "rec_free leaves a non-empty buffer");

    /* an empty buffer exports and imports */
    check(rec_export(&a, &x, &xlen, &e) == IMGSTAT_OK && rec_import(&b, x, xlen, &e) == IMGSTAT_OK,
          "empty buffer: %s", e.msg);
    check(b.count == 0, "empty buffer imports %llu entries", (unsigned long long)b.count);
    free(x);
    rec_free(&b);
}

/* Two layers in one shared table; each exports on its own. */
static void test_shared(void)
{
    static char path1[3801 + 10];
    snprintf(path1, sizeof path1, "%s/file", dir3800);
    const struct ent l1[] = {{ENT_REG, path1, NULL, 1}, {ENT_REG, "etc/a", NULL, 2}};
    const struct ent l2[] = {{ENT_REG, "etc/b", NULL, 3}, {ENT_DIR, "etc", NULL, 0}};
    struct rec_dirs *d = rec_dirs_new();
    struct rec_buf r1, r2, back = {0};
    struct err e = {0};
    rec_init(&r1, d);
    rec_init(&r2, d);
    record_rows(&r1, l1, 2);
    record_rows(&r2, l2, 2);
    expect_rows("shared layer 1", &r1, l1, 2);
    expect_rows("shared layer 2", &r2, l2, 2);
    unsigned char *x;
    size_t xlen;
    check(rec_export(&r2, &x, &xlen, &e) == IMGSTAT_OK, "export layer 2: %s", e.msg);
    /* layer 2: magic and version 5, 1 dir (count 1, parent 1 + length 1 + "etc" 3), entry
     * count 1, etc/b (flags 1, dir 1, length 1, "b" 1, size 1) and etc (flags 1, dir 1,
     * length 1, "etc" 3), checksum 8: 5 + 1 + 5 + 1 + 5 + 6 + 8 = 31 bytes, nothing of
     * layer 1's 3800-byte directory */
    check(xlen == 31, "layer 2 exports %zu bytes, want 31", xlen);
    check(rec_import(&back, x, xlen, &e) == IMGSTAT_OK, "import layer 2: %s", e.msg);
    expect_rows("layer 2 exported", &back, l2, 2);
    free(x);
    rec_free(&back);
    check(rec_export(&r1, &x, &xlen, &e) == IMGSTAT_OK && rec_import(&back, x, xlen, &e) == 0,
          "layer 1 round trip: %s", e.msg);
    expect_rows("layer 1 exported", &back, l1, 2);
    free(x);
    rec_free(&back);
    rec_free(&r1);
    rec_free(&r2);
    rec_dirs_free(d);
}

/* S5: 1000 files in one 3800-byte directory cost the directory once. */
static void test_compact(void)
{
    struct rec_buf r = {0};
    struct err e = {0};
    char path[4096];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(path, sizeof path, "%s/f%04d", dir3800, i);
        struct layer_entry x = {path, (size_t)n, NULL, 0, 100, ENT_REG};
        if (rec_sink(&r, &x, &e) != IMGSTAT_OK)
            break;
    }
    /* per entry: flags 1, dir id 1, name 1+5, size 1 = 9 bytes; 1000 entries 9000 bytes in
     * chunks of 1, 2, 4, 8 KiB (15 KiB and headers); the table holds 95 segments (3706
     * bytes) in a 4 KiB pool, plus the 28 KiB interning cache */
    size_t held = r.bytes + rec_dirs_bytes(r.dirs);
    check(r.count == 1000 && held < 64 * 1024,
          "1000 entries in a 3800-byte directory hold %zu bytes (the names alone: 3.8 MB)", held);
    unsigned char *x;
    size_t xlen;
    check(rec_export(&r, &x, &xlen, &e) == IMGSTAT_OK, "export: %s", e.msg);
    /* magic and version 5, dir count 1, 95 dirs (parent 1 + length 1 + name: 94 of 39
     * bytes, the last of 40) = 94 * 41 + 42 = 3896, entry count 2, entries 1000 * 9,
     * checksum 8: 5 + 1 + 3896 + 2 + 9000 + 8 = 12912 */
    check(xlen == 12912, "export of 1000 entries: %zu bytes, want 12912", xlen);
    free(x);
    rec_free(&r);
}

/* ---- S7: refusals ---------------------------------------------------------------------------- */

static void expect_refused(const char *what, const unsigned char *buf, size_t len, const char *word)
{
    struct rec_buf r = {0};
    struct err e = {0};
    int rc = rec_import(&r, buf, len, &e);
    check(rc == IMGSTAT_EINPUT, "%s: import gives %d, want EINPUT", what, rc);
    check(!word || strstr(e.msg, word), "%s: message '%s' lacks '%s'", what, e.msg, word);
    check(!r.head && r.count == 0, "%s: buffer not empty after a refusal", what);
    rec_free(&r);
}

static void test_truncated_and_flipped(void)
{
    struct rec_buf a = {0};
    struct err e = {0};
    record_rows(&a, rows, 12); /* a short record: every cut and every bit */
    unsigned char *x;
    size_t len;
    check(rec_export(&a, &x, &len, &e) == IMGSTAT_OK, "export: %s", e.msg);
    rec_free(&a);
    int bad = 0;
    for (size_t cut = 0; cut < len; cut++) {
        struct rec_buf r = {0};
        bad += rec_import(&r, x, cut, &e) != IMGSTAT_EINPUT;
        rec_free(&r);
    }
    check(bad == 0, "%d of %zu truncations accepted", bad, len);
    bad = 0;
    for (size_t bit = 0; bit < 8 * len; bit++) {
        struct rec_buf r = {0};
        x[bit / 8] ^= (unsigned char)(1u << bit % 8);
        bad += rec_import(&r, x, len, &e) != IMGSTAT_EINPUT;
        x[bit / 8] ^= (unsigned char)(1u << bit % 8);
        rec_free(&r);
    }
    check(bad == 0, "%d of %zu flipped bits accepted", bad, 8 * len);
    free(x);
}

/* Hand-made records: body bytes after the magic and version, sealed with a checksum. */
static size_t seal(unsigned char *out, int version, const unsigned char *body, size_t n)
{
    memcpy(out, "IMGR", 4);
    out[4] = (unsigned char)version;
    memcpy(out + 5, body, n);
    uint64_t h = XXH3_64bits(out, 5 + n);
    for (int i = 0; i < 8; i++)
        out[5 + n + i] = (unsigned char)(h >> (8 * i));
    return 5 + n + 8;
}

struct bad_row {
    const char *what;
    int version;
    const char *body; /* bytes, length in n */
    size_t n;
    const char *word; /* the message must contain it */
};

#define B(s) s, sizeof s - 1
static const struct bad_row bad_rows[] = {
    /* sanity: a valid record (1 dir "a", 1 entry a/b REG size 5) must be accepted: see below */
    {"version 2", 2, B("\x00\x00"), "version 2"},
    {"version 0", 0, B("\x00\x00"), "version 0"},
    {"no entry count", 1, B("\x00"), "truncated"},
    {"dir parent = own id", 1,
     B("\x01\x01\x01"
       "a"
       "\x00"),
     "directory"},
    {"dir name with '/'", 1,
     B("\x01\x00\x03"
       "a/b"
       "\x00"),
     "directory name"},
    {"dir count larger than bytes", 1, B("\x7f\x00"), "count"},
    {"entry count larger than bytes", 1, B("\x00\x05\x01\x00\x00"), "count"},
    {"entry in dir 2 of 1", 1,
     B("\x01\x00\x01"
       "a"
       "\x01\x01\x02\x01"
       "b"),
     "unknown directory"},
    {"type 0", 1,
     B("\x00\x01\x00\x00\x01"
       "b"),
     "type"},
    {"type 9", 1,
     B("\x00\x01\x09\x00\x01"
       "b"),
     "type"},
    {"unknown flag 0x40", 1,
     B("\x00\x01\x41\x00\x01"
       "b"),
     "type"},
    {"size flag with size 0", 1,
     B("\x00\x01\x21\x00\x01"
       "b\x00"),
     "size"},
    {"non-minimal varint", 1,
     B("\x00\x01\x01\x80\x00\x01"
       "b"),
     "truncated"},
    {"name past the end", 1,
     B("\x00\x01\x01\x00\x09"
       "b"),
     "truncated"},
    {"link past the end", 1,
     B("\x00\x01\x13\x00\x01"
       "b\x05"
       "ab"),
     "truncated"},
    {"name with '/' in a dir", 1,
     B("\x01\x00\x01"
       "a"
       "\x01\x01\x01\x03"
       "b/c"),
     "name"},
    {"bytes after the entries", 1,
     B("\x00\x01\x01\x00\x01"
       "b"
       "\x00"),
     "after"},
    {"varint beyond 64 bits", 1,
     B("\x00\x01\x21\x00\x01"
       "b\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"),
     "truncated"},
};
#define NBAD (sizeof bad_rows / sizeof *bad_rows)

static void test_bad_rows(void)
{
    static unsigned char buf[16384];
    struct rec_buf r = {0};
    struct err e = {0};
    /* the valid record the bad rows are variations of */
    size_t n = seal(buf, 1,
                    (const unsigned char *)"\x01\x00\x01"
                                           "a"
                                           "\x01\x21\x01\x01"
                                           "b\x05",
                    10);
    check(rec_import(&r, buf, n, &e) == IMGSTAT_OK && r.count == 1, "valid hand-made record: %s",
          e.msg);
    const struct ent ab[] = {{ENT_REG, "a/b", NULL, 5}};
    expect_rows("hand-made", &r, ab, 1);
    rec_free(&r);
    for (size_t i = 0; i < NBAD; i++) {
        n = seal(buf, bad_rows[i].version, (const unsigned char *)bad_rows[i].body, bad_rows[i].n);
        expect_refused(bad_rows[i].what, buf, n, bad_rows[i].word);
    }
    expect_refused("not records at all", (const unsigned char *)"{\"json\": 1}", 11, "not entry");
    /* a directory chain longer than a path: 2049 segments "a" = 4097 bytes */
    unsigned char *body = malloc(4 * 2049 + 16), *p = body;
    *p++ = 0x81, *p++ = 0x10; /* 2049 */
    for (unsigned i = 0; i < 2049; i++) {
        unsigned parent = i; /* the previous one; 0 for the first */
        if (parent < 128)
            *p++ = (unsigned char)parent;
        else
            *p++ = (unsigned char)(parent | 0x80), *p++ = (unsigned char)(parent >> 7);
        *p++ = 1, *p++ = 'a';
    }
    *p++ = 0;
    n = seal(buf, 1, body, (size_t)(p - body));
    expect_refused("directory longer than a path", buf, n, "longer");
    free(body);
}

int main(void)
{
    fill_long();
    test_round_trip();
    test_shared();
    test_compact();
    test_truncated_and_flipped();
    test_bad_rows();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
