/*
 * test_path: path_normalize, path_base_len and wh_classify, one table each.
 *
 * Expected values come from SEMANTICS.md §2.3 A1 (normalisation, ".." clamped at
 * the root), A3 (AUFS metadata at the root), A4 (whiteout names), EC1, EC2, EC14,
 * EC15, and the contracts in layers/path.h; never from the code's own output.
 * Prints one line per failed row and a final "N passed, N failed" line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "path.h"

/* Long inputs are built at start-up (fill_long) and referred to by the rows. */
static char a4096[PATH_MAX_BYTES + 1];       /* 4096 x 'a' */
static char a4097[PATH_MAX_BYTES + 2];       /* 4097 x 'a' */
static char slash_a4095[PATH_MAX_BYTES + 1]; /* "/" + 4095 x 'a' */
static char dots4097[PATH_MAX_BYTES + 2];    /* "./" x 2048 + "x": 4097 bytes, canonical "x" */
static char up4096[PATH_MAX_BYTES + 1];      /* "../" x 1365 + "x": 4096 bytes, clamps to "x" */

static void fill_long(void)
{
    memset(a4096, 'a', PATH_MAX_BYTES);
    memset(a4097, 'a', PATH_MAX_BYTES + 1);
    slash_a4095[0] = '/';
    memset(slash_a4095 + 1, 'a', PATH_MAX_BYTES - 1);
    for (int i = 0; i < 2048; i++)
        memcpy(dots4097 + 2 * i, "./", 2);
    dots4097[4096] = 'x';
    for (int i = 0; i < 1365; i++)
        memcpy(up4096 + 3 * i, "../", 3);
    up4096[4095] = 'x';
}

struct norm_row {
    const char *in;
    size_t len;      /* 0: strlen(in) */
    const char *out; /* expected canonical form (unused when ret == -1) */
    long ret;        /* expected return: length of out, or -1 */
    bool clamped;
};

static const struct norm_row norm_rows[] = {
    /* A1 / EC1: one spelling per node */
    {"etc/x", 0, "etc/x", 5, false},
    {"./etc/x", 0, "etc/x", 5, false},
    {"/etc/x", 0, "etc/x", 5, false},
    {"///etc/x", 0, "etc/x", 5, false},
    {"etc//x", 0, "etc/x", 5, false},
    {"etc/x/", 0, "etc/x", 5, false},
    {"etc/x//", 0, "etc/x", 5, false},
    {"./etc/./x/.", 0, "etc/x", 5, false},
    {"a/./b", 0, "a/b", 3, false},
    {"./.wh.x", 0, ".wh.x", 5, false},
    {"/.wh..wh..opq", 0, ".wh..wh..opq", 12, false},
    /* A2: the root is the empty string */
    {"", 0, "", 0, false},
    {".", 0, "", 0, false},
    {"./", 0, "", 0, false},
    {"/", 0, "", 0, false},
    {"//", 0, "", 0, false},
    {".//./", 0, "", 0, false},
    /* ".." resolved against the segments so far */
    {"a/b/../c", 0, "a/c", 3, false},
    {"a/b/c/../../d", 0, "a/d", 3, false},
    {"a/b/..", 0, "a", 1, false},
    {"a/..", 0, "", 0, false},
    {"a/b/../../c/..", 0, "", 0, false},
    /* EC2: ".." above the root is clamped and reported */
    {"..", 0, "", 0, true},
    {"../", 0, "", 0, true},
    {"../../x", 0, "x", 1, true},
    {"/../etc/x", 0, "etc/x", 5, true},
    {"a/../../x", 0, "x", 1, true},
    {"a/b/../../..", 0, "", 0, true},
    {"x/../../y/../z", 0, "z", 1, true},
    /* names that only look special */
    {"...", 0, "...", 3, false},
    {"..a/.b/a..", 0, "..a/.b/a..", 10, false},
    {".../x", 0, ".../x", 5, false},
    {"a\\b", 0, "a\\b", 3, false},
    /* raw bytes: no locale, no UTF-8 assumption */
    {"caf\xe9/\xff\xfe", 0, "caf\xe9/\xff\xfe", 7, false},
    {"\x80/../\xc3", 0, "\xc3", 1, false},
    {"caf\xc3\xa9", 0, "caf\xc3\xa9", 5, false},
    /* PATH_MAX_BYTES: the limit is on the input's length */
    {a4096, PATH_MAX_BYTES, a4096, PATH_MAX_BYTES, false},
    {a4097, PATH_MAX_BYTES + 1, NULL, -1, false},
    {slash_a4095, PATH_MAX_BYTES, slash_a4095 + 1, PATH_MAX_BYTES - 1, false},
    {dots4097, PATH_MAX_BYTES + 1, NULL, -1, false},
    {up4096, PATH_MAX_BYTES, "x", 1, true},
};

static const char *kind_name(enum wh_kind k)
{
    switch (k) {
    case WH_NONE: return "WH_NONE";
    case WH_FILE: return "WH_FILE";
    case WH_OPAQUE: return "WH_OPAQUE";
    case WH_BARE: return "WH_BARE";
    case WH_AUFS: return "WH_AUFS";
    }
    return "?";
}

struct wh_row {
    const char *path; /* canonical */
    enum wh_kind want;
};

static const struct wh_row wh_rows[] = {
    /* A4: ".wh.NAME" hides sibling NAME */
    {".wh.x", WH_FILE},
    {"a/.wh.x", WH_FILE},
    {"a/b/.wh.x", WH_FILE},
    {"a/.wh..opq", WH_FILE},        /* sibling ".opq" */
    {"a/.wh..wh.x", WH_FILE},       /* sibling ".wh.x" */
    {"a/.wh..wh.plnk", WH_FILE},    /* AUFS names mean metadata only at the root (A3) */
    {"a/.wh..wh.", WH_FILE},        /* sibling ".wh." */
    {"etc/.wh..wh..opqX", WH_FILE}, /* EC15: exact match only (stereoscope#696) */
    /* A4: the opaque marker, exactly */
    {".wh..wh..opq", WH_OPAQUE},
    {"a/.wh..wh..opq", WH_OPAQUE},
    {"a/b/.wh..wh..opq", WH_OPAQUE},
    /* A4 / EC14: bare ".wh." names nothing */
    {".wh.", WH_BARE},
    {"a/.wh.", WH_BARE},
    {"etc/x/.wh.", WH_BARE},
    /* A3: ".wh..wh.*" at the root, other than the opaque marker, is AUFS metadata */
    {".wh..wh.plnk", WH_AUFS},
    {".wh..wh.plnk/123", WH_AUFS},
    {".wh..wh.plnk/123.456", WH_AUFS},
    {".wh..wh.aufs", WH_AUFS},
    {".wh..wh.orph", WH_AUFS},
    {".wh..wh.orph/x", WH_AUFS},
    {".wh..wh.", WH_AUFS},
    {".wh..wh..opqX", WH_AUFS}, /* full path starts ".wh..wh." and is not the marker */
    {".wh..wh..opq/x", WH_AUFS},
    /* ordinary names */
    {"x", WH_NONE},
    {"x.wh.y", WH_NONE},
    {"a/x.wh.y", WH_NONE},
    {".whatever", WH_NONE},
    {"a/.whatever", WH_NONE},
    {".wh", WH_NONE},
    {"a/.wh", WH_NONE},
    {".WH.x", WH_NONE},
    {".wh.x/y", WH_NONE}, /* only the last segment is classified */
    {"a/.wh..wh..opq/y", WH_NONE},
    {"wh.x", WH_NONE},
    {"", WH_NONE},
};

struct base_row {
    const char *path;
    size_t want;
};

static const struct base_row base_rows[] = {
    {"", 0}, {"a", 1}, {"abc", 3}, {"a/b", 1}, {"a/bc", 2}, {"ab/c/def", 3}, {".wh..wh..opq", 12},
};

static int passed, failed;

/* Printable form of n raw bytes: the first 60, escaped, then the length if longer. */
static void show(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < 60 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            dst[o++] = (char)c;
        else
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
    }
    dst[o] = '\0';
    if (n > 60)
        snprintf(dst + o, cap - o, "...[%zu bytes]", n);
}

static void run_norm(void)
{
    for (size_t i = 0; i < sizeof norm_rows / sizeof *norm_rows; i++) {
        const struct norm_row *r = &norm_rows[i];
        size_t len = r->len ? r->len : strlen(r->in);
        /* a guard byte after the documented maximum catches overruns */
        char out[PATH_MAX_BYTES + 2];
        out[PATH_MAX_BYTES + 1] = 0x5a;
        bool clamped = !r->clamped;
        long got = path_normalize(r->in, len, out, &clamped);
        char in_s[300], want_s[300], got_s[300];
        show(in_s, sizeof in_s, r->in, len);
        bool ok = got == r->ret && out[PATH_MAX_BYTES + 1] == 0x5a;
        if (ok && got >= 0)
            ok = memcmp(out, r->out, (size_t)got) == 0 && clamped == r->clamped;
        if (ok) {
            passed++;
            continue;
        }
        failed++;
        show(want_s, sizeof want_s, r->out ? r->out : "", r->ret > 0 ? (size_t)r->ret : 0);
        show(got_s, sizeof got_s, out, got > 0 ? (size_t)got : 0);
        printf("FAIL path_normalize row %zu \"%s\" (len %zu): want %ld \"%s\" clamped=%d, "
               "got %ld \"%s\" clamped=%d%s\n",
               i, in_s, len, r->ret, want_s, r->clamped, got, got_s, clamped,
               out[PATH_MAX_BYTES + 1] == 0x5a ? "" : " (wrote past out[PATH_MAX_BYTES])");
    }
}

static void run_wh(void)
{
    for (size_t i = 0; i < sizeof wh_rows / sizeof *wh_rows; i++) {
        const struct wh_row *r = &wh_rows[i];
        enum wh_kind got = wh_classify(r->path, strlen(r->path));
        if (got == r->want) {
            passed++;
            continue;
        }
        failed++;
        printf("FAIL wh_classify \"%s\": want %s, got %s\n", r->path, kind_name(r->want),
               kind_name(got));
    }
}

static void run_base(void)
{
    for (size_t i = 0; i < sizeof base_rows / sizeof *base_rows; i++) {
        const struct base_row *r = &base_rows[i];
        size_t got = path_base_len(r->path, strlen(r->path));
        if (got == r->want) {
            passed++;
            continue;
        }
        failed++;
        printf("FAIL path_base_len \"%s\": want %zu, got %zu\n", r->path, r->want, got);
    }
}

int main(void)
{
    fill_long();
    run_norm();
    run_wh();
    run_base();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
