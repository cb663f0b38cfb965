#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

/* Scans shorter than this never show a line; redraws at most 10 times a second. */
#define PROGRESS_DELAY 0.5
#define PROGRESS_HZ 10

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mib(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "%.1f MiB", (double)v / (1024.0 * 1024.0));
}

void progress_start(struct progress *p)
{
    p->start = p->last = now();
    p->shown = false;
}

void progress_update(void *ctx, const struct imgstat_progress *ip)
{
    struct progress *p = ctx;
    double t = now();
    if (t - p->start < PROGRESS_DELAY || t - p->last < 1.0 / PROGRESS_HZ)
        return;
    p->last = t;
    char done[32], total[32], left[32] = "";
    mib(done, sizeof done, ip->bytes_done);
    mib(total, sizeof total, ip->bytes_total);
    double rate = (double)ip->bytes_done / (t - p->start);
    if (ip->bytes_total > ip->bytes_done && rate > 0) {
        double secs = (double)(ip->bytes_total - ip->bytes_done) / rate;
        snprintf(left, sizeof left, ", %d:%02d left", (int)secs / 60, (int)secs % 60);
    }
    if (ip->reading)
        fprintf(stderr, "\r\033[Kreading %s%s%s, %" PRIu64 " entries, %.1f MiB/s%s", done,
                ip->bytes_total ? " of " : "", ip->bytes_total ? total : "", ip->entries,
                rate / (1024 * 1024), left);
    else
        fprintf(stderr,
                "\r\033[Klayer %" PRIu64 " of %" PRIu64 ", %s of %s, %" PRIu64
                " files, %.1f MiB/s%s",
                ip->layer, ip->nlayers, done, total, ip->files, rate / (1024 * 1024), left);
    fflush(stderr);
    p->shown = true;
}

void progress_end(struct progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
