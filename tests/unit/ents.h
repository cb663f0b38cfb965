/*
 * ents: the unit tables' vocabulary for layers written as lists of entries (test_merge,
 * test_waste), and feeding them to a tree as struct layer_entry values.
 *
 *   LAYERS(LAYER(F("a", 3), D("d")), LAYER(WH(".wh.a")))
 */
#ifndef IMGSTAT_TEST_ENTS_H
#define IMGSTAT_TEST_ENTS_H

#include <stdint.h>
#include <string.h>

#include "err.h"
#include "imgstat.h"
#include "tree.h"

struct ent {
    uint8_t type; /* enum ent_type; 0 ends a layer */
    const char *path;
    uint64_t size;
    const char *link;
};

#define F(p, n)                                                                                    \
    {                                                                                              \
        ENT_REG, (p), (n), NULL                                                                    \
    }
#define WH(p)                                                                                      \
    {                                                                                              \
        ENT_REG, (p), 0, NULL                                                                      \
    } /* whiteouts are empty regular files in docker's tars */
#define D(p)                                                                                       \
    {                                                                                              \
        ENT_DIR, (p), 0, NULL                                                                      \
    }
#define SL(p, t)                                                                                   \
    {                                                                                              \
        ENT_SYMLINK, (p), 0, (t)                                                                   \
    }
#define HL(p, t)                                                                                   \
    {                                                                                              \
        ENT_HARDLINK, (p), 0, (t)                                                                  \
    }
#define CHR(p)                                                                                     \
    {                                                                                              \
        ENT_CHR, (p), 0, NULL                                                                      \
    }
#define BLK(p)                                                                                     \
    {                                                                                              \
        ENT_BLK, (p), 0, NULL                                                                      \
    }
#define FIFO(p)                                                                                    \
    {                                                                                              \
        ENT_FIFO, (p), 0, NULL                                                                     \
    }
#define SOCK(p)                                                                                    \
    {                                                                                              \
        ENT_OTHER, (p), 0, NULL                                                                    \
    }

#define LAYER(...) ((const struct ent[]){__VA_ARGS__, {0}})
#define EMPTY_LAYER ((const struct ent[]){{0}})
#define LAYERS(...) ((const struct ent *const[]){__VA_ARGS__, NULL})
#define NO_LAYERS ((const struct ent *const[]){NULL})

/* Apply the layers (a NULL-ended list) to t, each begun with tree_begin_layer; the first
 * failing code of tree_apply, else IMGSTAT_OK (tree_end is the caller's). */
static inline int ents_feed(struct tree *t, const struct ent *const *layers, struct err *e)
{
    for (const struct ent *const *l = layers; *l; l++) {
        tree_begin_layer(t);
        for (const struct ent *x = *l; x->type; x++) {
            struct layer_entry le = {
                .path = x->path,
                .path_len = strlen(x->path),
                .link = x->link,
                .link_len = x->link ? strlen(x->link) : 0,
                .size = x->type == ENT_REG ? x->size : 0,
                .type = x->type,
            };
            int rc = tree_apply(t, &le, e);
            if (rc != IMGSTAT_OK)
                return rc;
        }
    }
    return IMGSTAT_OK;
}

#endif
