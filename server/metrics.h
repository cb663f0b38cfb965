/*
 * metrics: what /metrics reports, in Prometheus' text format.  Request counters and the
 * duration histogram are updated with relaxed atomics from the server's threads; the
 * catalog's figures (images by status, scans, memo) are read from the store when asked.
 */
#ifndef SERVER_METRICS_H
#define SERVER_METRICS_H

#include <stdint.h>

#include "jbuf.h"
#include "request.h"
#include "store.h"

/* Status codes counted one by one (others count as their class, e.g. "4xx"). */
#define METRICS_NSTATUS 14
/* Upper bounds of the duration histogram's buckets, seconds (then +Inf). */
#define METRICS_NBUCKETS 14

struct metrics {
    uint64_t requests[EP_COUNT][METRICS_NSTATUS + 3]; /* + 2xx..5xx overflow classes */
    uint64_t buckets[METRICS_NBUCKETS + 1];
    uint64_t duration_us_sum, duration_count;
    uint64_t auth_failures;
};

void metrics_request(struct metrics *m, enum endpoint ep, unsigned status, uint64_t micros);
/* The whole exposition into b. */
void metrics_render(const struct metrics *m, const struct store_counts *sc, struct jbuf *b);

#endif
