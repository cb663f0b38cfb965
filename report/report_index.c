/*
 * report_index: the page of report_index.h: the HTML around the entries as JSON, written with
 * report.c's writers, so that no name can end the <script> element that holds them.
 */
#include "report_index.h"

#include <inttypes.h>
#include <string.h>

#include "imgstat.h"
#include "report_impl.h"
#include "report_page.h"

/* The format of the page's JSON, which the page's script checks (bumped when it changes). */
#define REPORT_INDEX_VERSION 1

const char *report_index_policy(void)
{
    return index_page_csp;
}

void report_index_begin(struct report_index *ix, FILE *f)
{
    const char *version = imgstat_version();
    ix->f = f;
    ix->n = 0;
    fwrite(index_page_head, 1, index_page_head_len, f);
    fprintf(f, "{\"version\": %d, \"generator\": ", REPORT_INDEX_VERSION);
    rj_str(f, version, strcspn(version, "\n"));
    fputs(", \"entries\": [", f);
}

static void text(FILE *f, const char *key, const char *v)
{
    fprintf(f, ", \"%s\": ", key);
    rj_cstr(f, v);
}

/* A figure, or null when it is not known. */
static void figure(FILE *f, const char *key, bool known, uint64_t v)
{
    fprintf(f, ", \"%s\": ", key);
    if (known)
        rj_u64(f, v);
    else
        fputs("null", f);
}

void report_index_entry(struct report_index *ix, const struct report_entry *e)
{
    FILE *f = ix->f;
    fputs(ix->n++ ? ", {\"ref\": " : "{\"ref\": ", f);
    rj_cstr(f, e->ref);
    text(f, "name", e->name);
    text(f, "tag", e->tag);
    text(f, "image_id", e->image_id);
    text(f, "input", e->input);
    figure(f, "index", true, e->index);
    text(f, "status", e->status);
    text(f, "failed_desc", e->failed_desc);
    figure(f, "files", e->figures, e->files);
    figure(f, "bytes", e->figures, e->bytes);
    figure(f, "wasted", e->figures && e->has_wasted, e->wasted);
    figure(f, "image_size", e->figures, e->image_size);
    figure(f, "scanned_ms", e->scanned_ms > 0, (uint64_t)e->scanned_ms);
    text(f, "format", e->format);
    text(f, "platform", e->platform);
    fputc('}', f);
}

int report_index_end(struct report_index *ix, uint64_t total)
{
    FILE *f = ix->f;
    fputs("], \"total\": ", f);
    rj_u64(f, total);
    fputc('}', f);
    fwrite(index_page_tail, 1, index_page_tail_len, f);
    return fflush(f) != 0 || ferror(f) ? IMGSTAT_ESYS : IMGSTAT_OK;
}
