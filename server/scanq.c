#include "scanq.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct job {
    struct job *next;
    struct input_id id;
    char path[];
};

struct scanq {
    struct srv *srv;
    pthread_mutex_t mu;
    pthread_cond_t work, idle;
    struct job *head, *tail;
    char **running; /* the path each worker scans, or NULL */
    bool *again;    /* that path was submitted again meanwhile */
    pthread_t *threads;
    unsigned nworkers, alive;
    bool stopping;
};

static bool queued(struct scanq *q, const char *path)
{
    for (struct job *j = q->head; j; j = j->next)
        if (strcmp(j->path, path) == 0)
            return true;
    return false;
}

static int running_slot(struct scanq *q, const char *path)
{
    for (unsigned i = 0; i < q->nworkers; i++)
        if (q->running[i] && strcmp(q->running[i], path) == 0)
            return (int)i;
    return -1;
}

void scanq_submit(struct scanq *q, const char *path, const struct input_id *id)
{
    char why[256];
    pthread_mutex_lock(&q->mu);
    int slot = running_slot(q, path);
    bool known = slot >= 0 || queued(q, path);
    if (slot >= 0)
        q->again[slot] = true;
    pthread_mutex_unlock(&q->mu);
    if (known)
        return;
    /* marked before it is queued: a worker's result must never be overwritten by this */
    if (store_input_mark(q->srv->store, path, id, ST_WAITING, why, sizeof why) != 0)
        log_line("catalog: %s: %s", path, why);
    struct job *j = malloc(sizeof *j + strlen(path) + 1);
    if (!j)
        return;
    j->next = NULL;
    j->id = *id;
    strcpy(j->path, path);
    pthread_mutex_lock(&q->mu);
    *(q->tail ? &q->tail->next : &q->head) = j;
    q->tail = j;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
}

void scanq_cancel(struct scanq *q, const char *path)
{
    pthread_mutex_lock(&q->mu);
    struct job **at = &q->head, *prev = NULL;
    while (*at) {
        struct job *j = *at;
        if (strcmp(j->path, path) == 0) {
            *at = j->next;
            if (q->tail == j)
                q->tail = prev;
            free(j);
        } else {
            prev = j;
            at = &j->next;
        }
    }
    int slot = running_slot(q, path);
    if (slot >= 0)
        q->again[slot] = false;
    pthread_mutex_unlock(&q->mu);
}

unsigned scanq_busy(struct scanq *q)
{
    unsigned n = 0;
    pthread_mutex_lock(&q->mu);
    for (struct job *j = q->head; j; j = j->next)
        n++;
    for (unsigned i = 0; i < q->nworkers; i++)
        n += q->running[i] != NULL;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static void scan(struct scanq *q, const char *path, const struct input_id *id)
{
    char why[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_rwlock_rdlock(&q->srv->store_lock);
    struct store *st = q->srv->store;
    int rc = st ? store_input_mark(st, path, id, ST_SCANNING, why, sizeof why) : 0;
    if (st && rc == 0)
        rc = store_input_scan(st, path, id, 0, why, sizeof why);
    pthread_rwlock_unlock(&q->srv->store_lock);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc != 0)
        log_line("scan: %s: cannot record: %s", path, why);
    else
        log_line("scan: %s: done in %.3f s", path, secs);
}

struct worker_arg {
    struct scanq *q;
    unsigned slot;
};

static void *worker(void *arg)
{
    struct scanq *q = ((struct worker_arg *)arg)->q;
    unsigned slot = ((struct worker_arg *)arg)->slot;
    free(arg);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->work, &q->mu);
        if (q->stopping)
            break;
        struct job *j = q->head;
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->running[slot] = j->path;
        q->again[slot] = false;
        pthread_mutex_unlock(&q->mu);
        scan(q, j->path, &j->id);
        pthread_mutex_lock(&q->mu);
        q->running[slot] = NULL;
        if (q->again[slot] && !q->stopping) { /* changed while scanned: once more, last */
            j->next = NULL;
            *(q->tail ? &q->tail->next : &q->head) = j;
            q->tail = j;
        } else {
            free(j);
        }
    }
    q->alive--;
    pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static void scanq_free(struct scanq *q)
{
    while (q->head) {
        struct job *j = q->head;
        q->head = j->next;
        free(j);
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->idle);
    free(q->running);
    free(q->again);
    free(q->threads);
    free(q);
}

struct scanq *scanq_start(struct srv *s, unsigned workers)
{
    struct scanq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->srv = s;
    q->nworkers = workers ? workers : 1;
    q->running = calloc(q->nworkers, sizeof *q->running);
    q->again = calloc(q->nworkers, sizeof *q->again);
    q->threads = calloc(q->nworkers, sizeof *q->threads);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->idle, NULL);
    if (!q->running || !q->again || !q->threads) {
        scanq_free(q);
        return NULL;
    }
    for (unsigned i = 0; i < q->nworkers; i++) {
        struct worker_arg *a = malloc(sizeof *a);
        if (a)
            *a = (struct worker_arg){q, i};
        pthread_mutex_lock(&q->mu);
        q->alive++;
        pthread_mutex_unlock(&q->mu);
        if (!a || pthread_create(&q->threads[i], NULL, worker, a) != 0) {
            free(a);
            pthread_mutex_lock(&q->mu);
            q->alive--;
            pthread_mutex_unlock(&q->mu);
            scanq_stop(q, 60000);
            return NULL;
        }
    }
    return q;
}

bool scanq_stop(struct scanq *q, unsigned wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_broadcast(&q->work);
    int rc = 0;
    while (q->alive > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&q->idle, &q->mu, &until);
    bool done = q->alive == 0;
    pthread_mutex_unlock(&q->mu);
    if (!done)
        return false;
    for (unsigned i = 0; i < q->nworkers; i++)
        if (q->threads[i])
            pthread_join(q->threads[i], NULL);
    scanq_free(q);
    return true;
}
