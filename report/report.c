/*
 * report: the page (report.h): the HTML around the image's figures as JSON, and the JSON
 * itself, written so that no name can end the <script> element that holds it.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "report_impl.h"
#include "topn.h"
#include "report_page.h"

/* The format of the page's JSON, which the page's script checks (bumped when it changes). */
#define REPORT_DATA_VERSION 1

/* ---- JSON that is safe inside <script> -------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* The code point of a valid UTF-8 sequence of len bytes. */
static uint32_t utf8_cp(const unsigned char *s, size_t len)
{
    static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    uint32_t cp = s[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    return cp;
}

/* Bidirectional controls: shown, they would reorder the text around them, so that
 * "a<U+202E>txt.exe" reads "aexe.txt" (Unicode TR 36 §2.2: spoofing). */
static bool bidi_control(uint32_t cp)
{
    return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* What one character of a name becomes in the page's JSON: its bytes, or an escape. */
static size_t rj_char(const unsigned char *s, size_t n, char *out)
{
    size_t len = utf8_len(s, n);
    uint32_t cp = len > 1 ? utf8_cp(s, len) : 0;
    if (bidi_control(cp))
        return (size_t)snprintf(out, 8, "\\\\u%04x", (unsigned)cp); /* the text \uXXXX */
    if (len == 1 && (s[0] == '<' || s[0] == '>' || s[0] == '&'))
        return (size_t)snprintf(out, 8, "\\u%04x", s[0]); /* never "</script" or "<!--" */
    if (len == 1 && (s[0] == '"' || s[0] == '\\'))
        return (size_t)snprintf(out, 8, "\\%c", s[0]);
    if (len == 1 && s[0] >= 0x20 && s[0] < 0x7f) {
        out[0] = (char)s[0];
        return 1;
    }
    if (cp == 0x2028 || cp == 0x2029) /* line terminators in older JavaScript */
        return (size_t)snprintf(out, 8, "\\u%04x", (unsigned)cp);
    if (len > 1) {
        memcpy(out, s, len);
        return len;
    }
    return (size_t)snprintf(out, 8, "\\\\x%02x", s[0]); /* the text \xHH, one byte */
}

static size_t rj_step(const unsigned char *s, size_t n)
{
    size_t len = utf8_len(s, n);
    return len ? len : 1;
}

void rj_str(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    char buf[8];
    putc('"', f);
    for (size_t i = 0; i < len; i += rj_step(s + i, len - i))
        fwrite(buf, 1, rj_char(s + i, len - i, buf), f);
    putc('"', f);
}

size_t rj_len(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    char buf[8];
    size_t n = 2;
    for (size_t i = 0; i < len; i += rj_step(s + i, len - i))
        n += rj_char(s + i, len - i, buf);
    return n;
}

void rj_cstr(FILE *f, const char *s)
{
    if (s)
        rj_str(f, s, strlen(s));
    else
        fputs("null", f);
}

void rj_u64(FILE *f, uint64_t v)
{
    fprintf(f, v <= (UINT64_C(1) << 53) ? "%" PRIu64 : "\"%" PRIu64 "\"", v);
}

/* `"key": ` then the value */
static void rj_key(FILE *f, const char *lead, const char *key)
{
    fprintf(f, "%s\"%s\": ", lead, key);
}

static void rj_num(FILE *f, const char *lead, const char *key, uint64_t v)
{
    rj_key(f, lead, key);
    rj_u64(f, v);
}

static void rj_text(FILE *f, const char *lead, const char *key, const char *v)
{
    rj_key(f, lead, key);
    rj_cstr(f, v);
}

/* ---- the figures ------------------------------------------------------------------------ */

static void data_image(FILE *f, imgstat *h, const struct report_opts *o)
{
    const struct imgstat_image_info *im = imgstat_image(h);
    char plat[256] = "";
    if (im->os && im->arch)
        snprintf(plat, sizeof plat, "%s/%s%s%s", im->os, im->arch, im->variant ? "/" : "",
                 im->variant ? im->variant : "");
    const char *version = imgstat_version();
    rj_key(f, ", ", "generator");
    rj_str(f, version, strcspn(version, "\n"));
    rj_text(f, ", ", "input", o->input);
    rj_text(f, ", \"image\": {", "format", im->format);
    rj_text(f, ", ", "image_id", im->id);
    rj_text(f, ", ", "manifest_digest", im->manifest_digest);
    rj_text(f, ", ", "platform", plat[0] ? plat : NULL);
    fputs(", \"refs\": [", f);
    for (uint64_t i = 0; i < im->nrefs; i++) {
        fputs(i ? ", " : "", f);
        rj_cstr(f, im->refs[i]);
    }
    fputs("]}", f);
}

static void data_totals(FILE *f, const struct imgstat_totals *t)
{
    uint64_t wasted = t->layer_bytes > t->bytes ? t->layer_bytes - t->bytes : 0;
    rj_num(f, ", \"totals\": {", "total_files_num", t->files);
    rj_num(f, ", ", "total_files_size", t->bytes);
    rj_num(f, ", ", "total_files_size_per_path", t->bytes_per_path);
    rj_num(f, ", ", "dirs", t->dirs);
    rj_num(f, ", ", "symlinks", t->symlinks);
    rj_num(f, ", ", "hardlinks", t->hardlinks);
    rj_num(f, ", ", "devices", t->devices);
    rj_num(f, ", ", "fifos", t->fifos);
    rj_num(f, ", ", "entries", t->entries);
    rj_num(f, ", ", "layer_files_size", t->layer_bytes);
    rj_num(f, ", ", "wasted_bytes", wasted);
    /* as --detail prints it */
    fprintf(f, ", \"efficiency\": %.6f}",
            t->layer_bytes ? (double)t->bytes / (double)t->layer_bytes : 1.0);
}

static void data_layer(FILE *f, const struct imgstat_layer_info *l)
{
    rj_text(f, "{", "digest", l->digest);
    rj_text(f, ", ", "diff_id", l->diff_id);
    rj_text(f, ", ", "media_type", l->media_type);
    rj_text(f, ", ", "compression", l->compression);
    rj_num(f, ", ", "compressed_bytes", l->compressed_bytes);
    rj_num(f, ", ", "uncompressed_bytes", l->uncompressed_bytes);
    rj_num(f, ", ", "entries", l->entries);
    rj_num(f, ", ", "files_added", l->files_added);
    rj_num(f, ", ", "bytes_added", l->bytes_added);
    rj_num(f, ", ", "files_replaced", l->files_replaced);
    rj_num(f, ", ", "bytes_replaced", l->bytes_replaced);
    rj_num(f, ", ", "paths_removed", l->paths_removed);
    rj_num(f, ", ", "bytes_removed", l->bytes_removed);
    rj_text(f, ", ", "created_by", l->created_by);
    fputc('}', f);
}

static void data_layers(FILE *f, imgstat *h)
{
    const struct imgstat_image_info *im = imgstat_image(h);
    fputs(", \"layers\": [", f);
    for (uint64_t i = 0; i < im->nlayers; i++) {
        fputs(i ? ", " : "", f);
        data_layer(f, imgstat_layer(h, i));
    }
    fputs("], \"history\": [", f);
    for (uint64_t i = 0; i < im->nhistory; i++) {
        const struct imgstat_history *s = imgstat_history(h, i);
        rj_text(f, i ? ", {" : "{", "created_by", s->created_by);
        rj_text(f, ", ", "comment", s->comment);
        fprintf(f, ", \"empty_layer\": %s", s->empty_layer ? "true" : "false");
        rj_num(f, ", ", "layer", s->layer);
        fputc('}', f);
    }
    fputc(']', f);
}

/* ---- the wasted files ------------------------------------------------------------------- */

struct wasted_ctx {
    struct topn top;
    uint64_t paths; /* every path with wasted bytes */
};

static int wasted_add(void *ctx, const struct imgstat_waste *w)
{
    struct wasted_ctx *c = ctx;
    c->paths++;
    return topn_add(&c->top, w->wasted_bytes, w->path, w->path_len, w);
}

static int data_wasted(FILE *f, imgstat *h, uint64_t top)
{
    struct wasted_ctx c = {.paths = 0};
    if (topn_init(&c.top, top) != IMGSTAT_OK)
        return IMGSTAT_ENOMEM;
    int rc = imgstat_wasted_files(h, wasted_add, &c);
    if (rc == IMGSTAT_EUSAGE) /* not opened with IMGSTAT_WASTE */
        fputs(", \"wasted\": null", f);
    else if (rc == IMGSTAT_OK) {
        rj_num(f, ", \"wasted\": {", "paths", c.paths);
        fputs(", \"files\": ", f);
        report_top_write(f, &c.top, true);
        fputc('}', f);
    }
    topn_free(&c.top);
    return rc == IMGSTAT_EUSAGE ? IMGSTAT_OK : rc;
}

/* ---- the page --------------------------------------------------------------------------- */

const char *report_policy(void)
{
    return report_page_csp;
}

int report_write(FILE *f, imgstat *h, const struct imgstat_totals *t, const struct report_opts *o)
{
    static const struct report_opts none = {NULL, 0};
    o = o ? o : &none;
    uint64_t top = o->top ? o->top : REPORT_DEFAULT_TOP;
    fwrite(report_page_head, 1, report_page_head_len, f);
    fprintf(f, "{\"version\": %d", REPORT_DATA_VERSION);
    data_image(f, h, o);
    data_totals(f, t);
    data_layers(f, h);
    int rc = report_tree(f, h, top);
    if (rc == IMGSTAT_OK)
        rc = data_wasted(f, h, top);
    fputc('}', f);
    fwrite(report_page_tail, 1, report_page_tail_len, f);
    if (rc == IMGSTAT_OK && (fflush(f) != 0 || ferror(f)))
        rc = IMGSTAT_ESYS;
    return rc;
}
