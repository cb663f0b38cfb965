/*
 * scanq: the background scans, a bounded pool of worker threads (-j) taking inputs from a
 * queue.  An input is queued at most once; one that changes while it is being scanned is
 * scanned again afterwards.  Each scan records its result in the store (store_input_scan),
 * so a scan that is interrupted (the process killed) leaves the input unrecorded or in
 * status scanning, and is done again at the next start.
 */
#ifndef SERVER_SCANQ_H
#define SERVER_SCANQ_H

#include <stdbool.h>

#include "handler.h"
#include "store.h"

/* Workers at most (-j): each may hold a large image's tree in memory. */
#define SCANQ_MAX_WORKERS 64

struct scanq;

/* Start workers threads scanning into s->store; NULL on failure (out of memory, threads). */
struct scanq *scanq_start(struct srv *s, unsigned workers);
/* Queue path (marked waiting_for_scan in the store). */
void scanq_submit(struct scanq *q, const char *path, const struct input_id *id);
/* Drop path from the queue (it was removed). */
void scanq_cancel(struct scanq *q, const char *path);
/* Inputs queued or being scanned. */
unsigned scanq_busy(struct scanq *q);
/* Stop taking work and wait up to wait_ms for the scans in progress; true when every worker
 * has ended (the handle is then freed), false when some are still scanning (the handle is
 * left to them: the process is about to exit). */
bool scanq_stop(struct scanq *q, unsigned wait_ms);

#endif
