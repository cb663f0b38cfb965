#include "pages.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct page {
    char *key; /* NULL: a free slot */
    char *data;
    size_t len;
    uint64_t used; /* p->tick when last returned: the smallest goes first */
};

struct pages {
    pthread_mutex_t mu;
    pthread_cond_t turn; /* a build ended: a page may be kept, a turn is free */
    struct page kept[PAGES_KEPT];
    size_t bytes;
    uint64_t gen, tick;
    char *building[PAGES_BUILDS]; /* keys being built (NULL: a free turn) */
};

struct pages *pages_new(void)
{
    struct pages *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->turn, NULL);
    return p;
}

static void drop(struct pages *p, struct page *pg)
{
    p->bytes -= pg->len;
    free(pg->key);
    free(pg->data);
    *pg = (struct page){0};
}

static void drop_all(struct pages *p)
{
    for (size_t i = 0; i < PAGES_KEPT; i++)
        if (p->kept[i].key)
            drop(p, &p->kept[i]);
}

void pages_free(struct pages *p)
{
    if (!p)
        return;
    drop_all(p);
    pthread_cond_destroy(&p->turn);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void pages_clear(struct pages *p)
{
    pthread_mutex_lock(&p->mu);
    drop_all(p);
    p->gen = 0; /* a new catalog counts its changes from 0 */
    pthread_mutex_unlock(&p->mu);
}

static struct page *find(struct pages *p, const char *key)
{
    for (size_t i = 0; i < PAGES_KEPT; i++)
        if (p->kept[i].key && strcmp(p->kept[i].key, key) == 0)
            return &p->kept[i];
    return NULL;
}

/* The turn building key, or a free one (*free_turn), or NULL when every turn is taken. */
static char **turn_of(struct pages *p, const char *key, bool *free_turn)
{
    char **empty = NULL;
    for (size_t i = 0; i < PAGES_BUILDS; i++) {
        if (p->building[i] && strcmp(p->building[i], key) == 0) {
            *free_turn = false;
            return &p->building[i];
        }
        if (!p->building[i] && !empty)
            empty = &p->building[i];
    }
    *free_turn = empty != NULL;
    return empty;
}

enum pages_got pages_get(struct pages *p, const char *key, uint64_t gen, struct jbuf *out)
{
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (gen > p->gen) { /* the catalog changed: what was built before may be stale */
            drop_all(p);
            p->gen = gen;
        }
        struct page *pg = gen == p->gen ? find(p, key) : NULL;
        if (pg) {
            pg->used = ++p->tick;
            jb_put(out, pg->data, pg->len);
            pthread_mutex_unlock(&p->mu);
            return PAGES_HIT;
        }
        bool free_turn;
        char **turn = turn_of(p, key, &free_turn);
        if (turn && free_turn && (*turn = strdup(key))) {
            pthread_mutex_unlock(&p->mu);
            return PAGES_BUILD;
        }
        if (turn && free_turn) { /* out of memory for the key: build without keeping */
            pthread_mutex_unlock(&p->mu);
            return PAGES_BUILD;
        }
        pthread_cond_wait(&p->turn, &p->mu); /* that page is being built, or no turn is free */
    }
}

/* Room for len more bytes in one slot: the least recently used go first. */
static struct page *make_room(struct pages *p, size_t len)
{
    for (;;) {
        struct page *lru = NULL, *free_slot = NULL;
        for (size_t i = 0; i < PAGES_KEPT; i++) {
            struct page *pg = &p->kept[i];
            if (!pg->key && !free_slot)
                free_slot = pg;
            else if (pg->key && (!lru || pg->used < lru->used))
                lru = pg;
        }
        if (free_slot && p->bytes + len <= PAGES_BYTES)
            return free_slot;
        if (!lru)
            return NULL;
        drop(p, lru);
    }
}

static void keep(struct pages *p, const char *key, const char *page, size_t len)
{
    if (len > PAGES_BYTES || find(p, key))
        return;
    char *k = strdup(key), *d = malloc(len ? len : 1);
    struct page *slot = k && d ? make_room(p, len) : NULL;
    if (!slot) {
        free(k);
        free(d);
        return;
    }
    memcpy(d, page, len);
    *slot = (struct page){k, d, len, ++p->tick};
    p->bytes += len;
}

void pages_put(struct pages *p, const char *key, uint64_t gen, const char *page, size_t len)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < PAGES_BUILDS; i++) {
        if (p->building[i] && strcmp(p->building[i], key) == 0) {
            free(p->building[i]);
            p->building[i] = NULL;
            break;
        }
    }
    if (page && gen == p->gen) /* built from the catalog as it is */
        keep(p, key, page, len);
    pthread_cond_broadcast(&p->turn);
    pthread_mutex_unlock(&p->mu);
}
