#include "metrics.h"

#include <inttypes.h>

static const unsigned statuses[METRICS_NSTATUS] = {200, 400, 401, 403, 404, 405, 409,
                                                   413, 414, 431, 500, 503, 501, 505};
static const char *const classes[3] = {"2xx", "4xx", "5xx"};
static const double bounds[METRICS_NBUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

static void add(uint64_t *at, uint64_t v)
{
    __atomic_fetch_add(at, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *at)
{
    return __atomic_load_n(at, __ATOMIC_RELAXED);
}

static unsigned status_slot(unsigned status)
{
    for (unsigned i = 0; i < METRICS_NSTATUS; i++)
        if (statuses[i] == status)
            return i;
    return METRICS_NSTATUS + (status >= 500 ? 2 : status >= 400 ? 1 : 0);
}

void metrics_request(struct metrics *m, enum endpoint ep, unsigned status, uint64_t micros)
{
    add(&m->requests[ep][status_slot(status)], 1);
    unsigned b = 0;
    while (b < METRICS_NBUCKETS && (double)micros / 1e6 > bounds[b])
        b++;
    add(&m->buckets[b], 1);
    add(&m->duration_us_sum, micros);
    add(&m->duration_count, 1);
    if (status == 401)
        add(&m->auth_failures, 1);
}

static void render_requests(const struct metrics *m, struct jbuf *b)
{
    jb_puts(b, "# HELP imgstat_http_requests_total HTTP requests answered, by endpoint and "
               "status.\n# TYPE imgstat_http_requests_total counter\n");
    for (int ep = 0; ep < EP_COUNT; ep++) {
        for (unsigned s = 0; s < METRICS_NSTATUS + 3; s++) {
            uint64_t v = get(&m->requests[ep][s]);
            if (!v)
                continue;
            jb_printf(b, "imgstat_http_requests_total{endpoint=\"%s\",status=\"",
                      endpoint_names[ep]);
            if (s < METRICS_NSTATUS)
                jb_printf(b, "%u", statuses[s]);
            else
                jb_puts(b, classes[s - METRICS_NSTATUS]);
            jb_printf(b, "\"} %" PRIu64 "\n", v);
        }
    }
}

static void render_durations(const struct metrics *m, struct jbuf *b)
{
    jb_puts(b, "# HELP imgstat_http_request_duration_seconds Time from a request's first "
               "line to its reply.\n# TYPE imgstat_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (unsigned i = 0; i <= METRICS_NBUCKETS; i++) {
        cum += get(&m->buckets[i]);
        if (i < METRICS_NBUCKETS)
            jb_printf(b, "imgstat_http_request_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                      bounds[i], cum);
        else
            jb_printf(b, "imgstat_http_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                      cum);
    }
    jb_printf(b, "imgstat_http_request_duration_seconds_sum %.6f\n",
              (double)get(&m->duration_us_sum) / 1e6);
    jb_printf(b, "imgstat_http_request_duration_seconds_count %" PRIu64 "\n",
              get(&m->duration_count));
}

static void render_catalog(const struct store_counts *sc, struct jbuf *b)
{
    jb_puts(b, "# HELP imgstat_images Images of the catalog, by scan_status.\n"
               "# TYPE imgstat_images gauge\n");
    for (int s = 0; s < ST_COUNT; s++)
        jb_printf(b, "imgstat_images{scan_status=\"%s\"} %" PRIu64 "\n",
                  scan_status_name((enum scan_status)s), sc->by_status[s]);
    jb_printf(b,
              "# HELP imgstat_scans_total Inputs scanned since the server started.\n"
              "# TYPE imgstat_scans_total counter\nimgstat_scans_total %" PRIu64 "\n"
              "# HELP imgstat_scans_failed_total Scans that recorded a failure.\n"
              "# TYPE imgstat_scans_failed_total counter\nimgstat_scans_failed_total %" PRIu64 "\n"
              "# HELP imgstat_memo_hits_total Layers answered from the layer memo.\n"
              "# TYPE imgstat_memo_hits_total counter\nimgstat_memo_hits_total %" PRIu64 "\n"
              "# HELP imgstat_memo_misses_total Layers that had to be read.\n"
              "# TYPE imgstat_memo_misses_total counter\nimgstat_memo_misses_total %" PRIu64 "\n",
              sc->scans_done, sc->scans_failed, sc->memo_hits, sc->memo_misses);
}

void metrics_render(const struct metrics *m, const struct store_counts *sc, struct jbuf *b)
{
    render_requests(m, b);
    render_durations(m, b);
    render_catalog(sc, b);
    jb_printf(b,
              "# HELP imgstat_auth_failures_total Requests refused with 401.\n"
              "# TYPE imgstat_auth_failures_total counter\nimgstat_auth_failures_total %" PRIu64
              "\n",
              get(&m->auth_failures));
}
