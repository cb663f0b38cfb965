#include "output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "topn.h"

/* The --detail JSON's format version, [major, minor] as ncdu's export carries one: the major
 * changes when a key is removed, renamed or changes meaning, the minor when keys are added.
 * Consumers check the major and ignore keys they do not know. */
#define DETAIL_VERSION_MAJOR 1
#define DETAIL_VERSION_MINOR 1

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xe0) == 0xc0 ? 2
                 : (s[0] & 0xf0) == 0xe0 ? 3
                 : (s[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (len == 0 || len > n || (len == 2 && s[0] < 0xc2))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

void json_string(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    putc('"', f);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(s + i, len - i);
        if (n == 1 && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') {
            putc(s[i], f);
        } else if (n == 1 && (s[i] == '"' || s[i] == '\\')) {
            fprintf(f, "\\%c", s[i]);
        } else if (n > 1) {
            fwrite(s + i, 1, n, f);
        } else {
            fprintf(f, "\\u%04x", s[i]);
            n = 1;
        }
        i += n;
    }
    putc('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
    if (s)
        json_string(f, s, strlen(s));
    else
        fputs("null", f);
}

/* `, "key": "value"` (null for NULL); the first field of an object passes lead "{". */
static void json_field(FILE *f, const char *lead, const char *key, const char *value)
{
    fprintf(f, "%s\"%s\": ", lead, key);
    json_cstr(f, value);
}

uint64_t wasted_bytes(const struct imgstat_totals *t)
{
    return t->layer_bytes > t->bytes ? t->layer_bytes - t->bytes : 0;
}

double efficiency(const struct imgstat_totals *t)
{
    return t->layer_bytes ? (double)t->bytes / (double)t->layer_bytes : 1.0;
}

/* ---- the stats report ---- */

static void platform_str(const struct imgstat_image_info *im, char *buf, size_t cap)
{
    if (im->os && im->arch)
        snprintf(buf, cap, "%s/%s%s%s", im->os, im->arch, im->variant ? "/" : "",
                 im->variant ? im->variant : "");
    else
        buf[0] = '\0';
}

static void json_layers(FILE *f, imgstat *h, uint64_t n)
{
    fputs(", \"layers\": [", f);
    for (uint64_t i = 0; i < n; i++) {
        const struct imgstat_layer_info *l = imgstat_layer(h, i);
        json_field(f, i ? ", {" : "{", "digest", l->digest);
        json_field(f, ", ", "diff_id", l->diff_id);
        json_field(f, ", ", "media_type", l->media_type);
        json_field(f, ", ", "compression", l->compression);
        fprintf(f,
                ", \"compressed_bytes\": %" PRIu64 ", \"uncompressed_bytes\": %" PRIu64
                ", \"entries\": %" PRIu64 ", \"files_added\": %" PRIu64
                ", \"bytes_added\": %" PRIu64 ", \"files_replaced\": %" PRIu64
                ", \"bytes_replaced\": %" PRIu64 ", \"paths_removed\": %" PRIu64
                ", \"bytes_removed\": %" PRIu64 ", \"cached\": %s",
                l->compressed_bytes, l->uncompressed_bytes, l->entries, l->files_added,
                l->bytes_added, l->files_replaced, l->bytes_replaced, l->paths_removed,
                l->bytes_removed, l->cached ? "true" : "false");
        json_field(f, ", ", "created_by", l->created_by);
        fputc('}', f);
    }
    fputc(']', f);
}

static void json_identity(FILE *f, imgstat *h)
{
    const struct imgstat_image_info *im = imgstat_image(h);
    char plat[200];
    platform_str(im, plat, sizeof plat);
    json_field(f, ", \"image\": {", "format", im->format);
    json_field(f, ", ", "image_id", im->id);
    json_field(f, ", ", "manifest_digest", im->manifest_digest);
    fputs(", \"refs\": [", f);
    for (uint64_t i = 0; i < im->nrefs; i++) {
        if (i)
            fputs(", ", f);
        json_cstr(f, im->refs[i]);
    }
    json_field(f, "], ", "platform", plat[0] ? plat : NULL);
    fputc('}', f);
}

/* C6: the --top N paths whose copies the final view lost the most bytes of. */
static int json_wasted(FILE *f, const struct cli *c, imgstat *h)
{
    struct topn top;
    int rc = topn_collect(&top, c->top, h, true);
    fputs(", \"wasted_files\": [", f);
    for (size_t i = 0; i < top.n && rc == IMGSTAT_OK; i++) {
        const struct top_item *b = &top.v[i];
        fputs(i ? ", {\"file_path\": " : "{\"file_path\": ", f);
        json_string(f, b->path, b->len);
        fprintf(f, ", \"copies\": %" PRIu64 ", \"wasted_bytes\": %" PRIu64 ", \"layers\": [",
                b->copies, b->key);
        for (uint64_t k = 0; k < b->nlayers; k++)
            fprintf(f, "%s%" PRIu32, k ? ", " : "", b->layers[k]);
        fputs("]}", f);
    }
    fputc(']', f);
    topn_free(&top);
    return rc;
}

static int json_detail(FILE *f, const struct cli *c, imgstat *h, const struct imgstat_totals *t)
{
    const struct imgstat_image_info *im = imgstat_image(h);
    fprintf(f,
            ", \"dirs\": %" PRIu64 ", \"symlinks\": %" PRIu64 ", \"hardlinks\": %" PRIu64
            ", \"devices\": %" PRIu64 ", \"fifos\": %" PRIu64
            ", \"total_files_size_per_path\": %" PRIu64 ", \"layer_files_size\": %" PRIu64
            ", \"wasted_bytes\": %" PRIu64 ", \"efficiency\": %.6f",
            t->dirs, t->symlinks, t->hardlinks, t->devices, t->fifos, t->bytes_per_path,
            t->layer_bytes, wasted_bytes(t), efficiency(t));
    json_layers(f, h, im->nlayers);
    struct topn top;
    int rc = topn_collect(&top, c->top, h, false);
    fputs(", \"largest_files\": [", f);
    for (size_t i = 0; i < top.n && rc == IMGSTAT_OK; i++) {
        fputs(i ? ", {\"file_path\": " : "{\"file_path\": ", f);
        json_string(f, top.v[i].path, top.v[i].len);
        fprintf(f, ", \"size\": %" PRIu64 "}", top.v[i].key);
    }
    fputc(']', f);
    topn_free(&top);
    if (rc == IMGSTAT_OK)
        rc = json_wasted(f, c, h);
    return rc;
}

const char *human(uint64_t v, char *buf, size_t cap)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024 && u < 6) {
        d /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
    return buf;
}

void text_bytes(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(p + i, len - i);
        if (n == 1 && p[i] >= 0x20 && p[i] < 0x7f)
            putc(p[i], f);
        else if (n > 1)
            fwrite(p + i, 1, n, f);
        else {
            fprintf(f, "\\x%02x", p[i]);
            n = 1;
        }
        i += n;
    }
}

static void text_name(FILE *f, const char *s)
{
    text_bytes(f, s, strlen(s));
}

/* C6: the --top N paths that wasted the most, with the layers that wrote or lost a copy. */
static int text_wasted(FILE *f, const struct cli *c, imgstat *h)
{
    struct topn top;
    int rc = topn_collect(&top, c->top, h, true);
    if (rc == IMGSTAT_OK && top.n)
        fprintf(f, "\n  %10s %6s  %-12s %s\n", "wasted", "copies", "layers", "path");
    for (size_t i = 0; i < top.n && rc == IMGSTAT_OK; i++) {
        const struct top_item *w = &top.v[i];
        char hb[32], layers[16] = "", *at = layers;
        for (uint64_t k = 0; k < w->nlayers; k++) {
            int n = snprintf(at, (size_t)(layers + sizeof layers - at), "%s%" PRIu32, k ? "," : "",
                             w->layers[k]);
            if (n < 0 || at + n >= layers + sizeof layers - 1) {
                strcpy(layers + sizeof layers - 4, "...");
                break;
            }
            at += n;
        }
        fprintf(f, "  %10s %6" PRIu64 "  %-12s ", human(w->key, hb, sizeof hb), w->copies, layers);
        text_bytes(f, w->path, w->len);
        putc('\n', f);
    }
    topn_free(&top);
    return rc;
}

static int text_report(FILE *f, const struct cli *c, imgstat *h, const struct imgstat_totals *t)
{
    const struct imgstat_image_info *im = imgstat_image(h);
    char a[32], b[32], plat[200];
    platform_str(im, plat, sizeof plat);
    fputs("Image:      ", f);
    text_name(f, im->nrefs ? im->refs[0] : im->id ? im->id : "(unnamed)");
    fprintf(f, "\nFormat:     %s%s%s\n", im->format, plat[0] ? ", " : "", plat);
    if (im->id)
        fprintf(f, "Image ID:   %s\n", im->id);
    fprintf(f, "Files:      %" PRIu64 " (%s, %s counting every hard-link name)\n", t->files,
            human(t->bytes, a, sizeof a), human(t->bytes_per_path, b, sizeof b));
    fprintf(f,
            "Other:      %" PRIu64 " directories, %" PRIu64 " symlinks, %" PRIu64
            " hard-link names, %" PRIu64 " devices, %" PRIu64 " fifos\n",
            t->dirs, t->symlinks, t->hardlinks, t->devices, t->fifos);
    fprintf(f, "Wasted:     %s (efficiency %.1f%%)\n", human(wasted_bytes(t), a, sizeof a),
            100 * efficiency(t));
    if (!c->detail)
        return IMGSTAT_OK;
    fprintf(f, "\n  #  %-12s %-5s %10s %10s %8s %8s %8s %8s\n", "layer", "comp", "blob", "tar",
            "entries", "added", "replaced", "removed");
    for (uint64_t i = 0; i < im->nlayers; i++) {
        const struct imgstat_layer_info *l = imgstat_layer(h, i);
        const char *d = l->digest ? l->digest : "";
        const char *colon = strchr(d, ':');
        fprintf(f, "%3" PRIu64 "  %-12.12s %-5s %10s", i + 1, colon ? colon + 1 : d, l->compression,
                human(l->compressed_bytes, a, sizeof a));
        fprintf(f, " %10s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
                human(l->uncompressed_bytes, b, sizeof b), l->entries, l->files_added,
                l->files_replaced, l->paths_removed);
    }
    return text_wasted(f, c, h);
}

int report_stats(FILE *f, const struct cli *c, imgstat *h, const struct imgstat_totals *t,
                 const char *input)
{
    int rc = IMGSTAT_OK;
    if (c->format == FMT_TEXT) {
        if (input) {
            fputs("Input:      ", f);
            text_name(f, input);
            fputc('\n', f);
        }
        rc = text_report(f, c, h, t);
        if (input)
            fputc('\n', f);
    } else {
        fprintf(f, "{\"total_files_num\": %" PRIu64 ", \"total_files_size\": %" PRIu64, t->files,
                t->bytes);
        if (c->detail) /* after the API's two keys, which stay first and unchanged */
            fprintf(f, ", \"detail_version\": [%d, %d], \"imgstat_version\": \"%s\"",
                    DETAIL_VERSION_MAJOR, DETAIL_VERSION_MINOR, IMGSTAT_VERSION);
        if (input)
            json_field(f, ", ", "input", input);
        if (input || c->detail)
            json_identity(f, h);
        if (c->detail)
            rc = json_detail(f, c, h, t);
        fputs("}\n", f);
    }
    return rc;
}

void report_error(FILE *f, const struct cli *c, const char *input, const char *image,
                  const char *msg)
{
    if (c->format == FMT_TEXT) {
        fputs("Input:      ", f);
        text_name(f, input);
        fputs("\nError:      ", f);
        text_name(f, msg);
        fputs("\n\n", f);
        return;
    }
    json_field(f, "{", "input", input);
    json_field(f, ", ", "image", image);
    json_field(f, ", ", "error", msg);
    fputs("}\n", f);
}

/* ---- the file list ---- */

struct lister {
    const struct cli *c;
    FILE *f;
    uint64_t matched, printed;
    bool count_only;
};

static const char *base_of(const char *path, size_t len, size_t *blen)
{
    size_t i = len;
    while (i > 0 && path[i - 1] != '/')
        i--;
    *blen = len - i;
    return path + i;
}

static bool name_match(const char *name, size_t len, const char *want)
{
    size_t wl = strlen(want);
    if (wl == 0)
        return true;
    for (size_t i = 0; i + wl <= len; i++)
        if (memcmp(name + i, want, wl) == 0)
            return true;
    return false;
}

void csv_field(FILE *f, const char *s, size_t len)
{
    putc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            putc('"', f);
        putc(s[i], f);
    }
    putc('"', f);
}

static int list_one(void *ctx, const char *path, uint64_t len, uint64_t size)
{
    struct lister *l = ctx;
    size_t blen;
    const char *base = base_of(path, len, &blen);
    if (l->c->file_name && !name_match(base, blen, l->c->file_name))
        return 0;
    uint64_t idx = l->matched++;
    if (l->count_only || idx < l->c->offset || (l->c->limit && l->printed >= l->c->limit))
        return 0;
    FILE *f = l->f;
    switch (l->c->format) {
    case FMT_CSV:
        csv_field(f, base, blen);
        putc(',', f);
        csv_field(f, path, len);
        fprintf(f, ",%" PRIu64 "\n", size);
        break;
    case FMT_TEXT:
        fprintf(f, "%12" PRIu64 "  ", size);
        text_bytes(f, path, len); /* path is not NUL-terminated */
        putc('\n', f);
        break;
    default:
        if (l->c->format == FMT_JSON && l->printed)
            fputs(", ", f);
        fputs("{\"file_name\": ", f);
        json_string(f, base, blen);
        fputs(", \"file_path\": ", f);
        json_string(f, path, len);
        fprintf(f, ", \"size\": %" PRIu64 "}", size);
        if (l->c->format == FMT_JSONL)
            putc('\n', f);
    }
    l->printed++;
    return ferror(f) ? IMGSTAT_ESYS : 0;
}

int report_files(const struct cli *c, imgstat *h)
{
    struct lister l = {c, stdout, 0, 0, false};
    int rc = IMGSTAT_OK;
    if (c->format == FMT_JSON) {
        /* the API puts total_num first: count once, then list the page */
        l.count_only = true;
        if ((rc = imgstat_files(h, list_one, &l)) != 0)
            return rc;
        fprintf(stdout, "{\"total_num\": %" PRIu64 ", \"data_list\": [", l.matched);
        l = (struct lister){c, stdout, 0, 0, false};
        rc = imgstat_files(h, list_one, &l);
        fputs("]}\n", stdout);
        return rc;
    }
    if (c->format == FMT_CSV)
        fputs("file_name,file_path,size\n", stdout);
    return imgstat_files(h, list_one, &l);
}

/* ---- figures that do not fit (C4) ---- */

/* The first figure of layer i that does not fit, or NULL. */
static const char *layer_too_big(const struct imgstat_layer_info *l)
{
    const struct {
        const char *name;
        uint64_t v;
    } f[] = {{"compressed_bytes", l->compressed_bytes},
             {"uncompressed_bytes", l->uncompressed_bytes},
             {"entries", l->entries},
             {"files_added", l->files_added},
             {"bytes_added", l->bytes_added},
             {"files_replaced", l->files_replaced},
             {"bytes_replaced", l->bytes_replaced},
             {"paths_removed", l->paths_removed},
             {"bytes_removed", l->bytes_removed}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (f[i].v > IMGSTAT_MAX_FIGURE)
            return f[i].name;
    return NULL;
}

int figures_check(const struct cli *c, imgstat *h, const struct imgstat_totals *t, char *msg,
                  size_t cap)
{
    bool all = c->detail || c->format == FMT_TEXT; /* text always shows per path and wasted */
    const char *name = NULL, *lname = NULL;
    uint64_t layer = 0;
    if (t->bytes > IMGSTAT_MAX_FIGURE) /* imgstat_scan fails first; checked all the same */
        name = "total_files_size";
    else if ((all || c->max_wasted_set || c->min_eff_set) && t->layer_bytes > IMGSTAT_MAX_FIGURE)
        name = "layer_files_size";
    else if (all && t->bytes_per_path > IMGSTAT_MAX_FIGURE)
        name = "total_files_size_per_path";
    for (uint64_t i = 0; c->detail && !name && i < imgstat_image(h)->nlayers; i++)
        if ((lname = layer_too_big(imgstat_layer(h, i))))
            layer = i + 1;
    if (!name && !lname)
        return 0;
    if (name)
        snprintf(msg, cap, "%s does not fit", name);
    else
        snprintf(msg, cap, "layer %" PRIu64 "'s %s does not fit", layer, lname);
    size_t n = strlen(msg);
    snprintf(msg + n, cap - n,
             ": over %" PRIu64 " (2^63-1, IMGSTAT_MAX_FIGURE: the API's signed 64-bit integer)",
             IMGSTAT_MAX_FIGURE);
    return 1;
}

/* ---- CI gates ---- */

int gates(const struct cli *c, const char *input, const struct imgstat_totals *t)
{
    int rc = EXIT_OK;
    if (c->max_files_set && t->files > c->max_files) {
        fprintf(stderr, "imgstat: %s: %" PRIu64 " files, more than --max-files %" PRIu64 "\n",
                input, t->files, c->max_files);
        rc = EXIT_GATE;
    }
    if (c->max_size_set && t->bytes > c->max_size) {
        fprintf(stderr, "imgstat: %s: %" PRIu64 " bytes, more than --max-size %" PRIu64 "\n", input,
                t->bytes, c->max_size);
        rc = EXIT_GATE;
    }
    if (c->max_wasted_set && wasted_bytes(t) > c->max_wasted) {
        fprintf(stderr,
                "imgstat: %s: %" PRIu64 " wasted bytes, more than --max-wasted %" PRIu64 "\n",
                input, wasted_bytes(t), c->max_wasted);
        rc = EXIT_GATE;
    }
    if (c->min_eff_set && efficiency(t) < c->min_efficiency) {
        fprintf(stderr, "imgstat: %s: efficiency %.4f, below --min-efficiency %.4f\n", input,
                efficiency(t), c->min_efficiency);
        rc = EXIT_GATE;
    }
    return rc;
}

void scan_warning(const char *input, imgstat *h, const struct imgstat_totals *t)
{
    if (imgstat_warning(h))
        fprintf(stderr, "imgstat: %s: warning: %s (%" PRIu64 " in all)\n", input,
                imgstat_warning(h), t->warnings);
}
