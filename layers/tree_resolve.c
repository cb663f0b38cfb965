/*
 * tree_resolve: finding the directory a name leads to in the merged view (P1-P5), for the
 * merge rules of tree.c.
 *
 * Names resolve as filepath-securejoin resolves them (P1, P4, P5): component by
 * component, `..` taking back the last one, symlinks expanded, a missing or
 * non-directory component kept as a mere name.  Two caches make that linear in the
 * entries: the last parent directory resolved (entries come grouped by directory) and,
 * per symlink, where its target leads (a memo), so a chain of links is walked once.
 * A cached answer is used only while it equals a fresh walk's.  A walk reads the
 * directories and symlinks it passes through, and finds names missing or files where
 * it went lexically; so it can change only when
 *   - a directory or symlink is removed (rm_epoch): the walk may have passed it;
 *   - a symlink is created (sym_epoch), for walks that took a name lexically: the
 *     name may now be that link;
 *   - the name a walk ended on lexically becomes a directory or symlink (checked on
 *     use: the walk would now go on into it).
 * Files and devices never change a walk, since a non-directory is taken lexically
 * exactly as a missing name is; nor does a new directory where a walk went
 * lexically, since it is empty and leads where the names led (a symlink created in
 * it later bumps sym_epoch).  Hops and depth are those of the fresh walk: a memo
 * keeps the links it followed, and the depth of a name does not depend on the walk.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tree_impl.h"

/* ------------------------------------------------------------------ resolving names */

static enum res walk_path(struct tree *t, struct walk *w, const char *p, size_t len);

/* Whether link's memo still says where a fresh walk of its target leads (see the top). */
static bool memo_valid(const struct tree *t, uint32_t link)
{
    uint32_t slot = N(t, link)->aux;
    if (!slot)
        return false;
    const struct memo *m = &t->memos[slot];
    if (m->rm_epoch != t->rm_epoch || (m->lexical && m->sym_epoch != t->sym_epoch))
        return false;
    if (m->extra == 0)
        return true;
    uint32_t c = tree_lookup(t, m->dir, m->first, m->first_len);
    return !c || (N(t, c)->type != ENT_DIR && N(t, c)->type != ENT_SYMLINK);
}

static void memo_store(struct tree *t, uint32_t link, const struct walk *w, uint32_t hops)
{
    uint32_t slot = N(t, link)->aux;
    if (!slot && !(slot = N(t, link)->aux = tree_memo_slot(t)))
        return; /* out of memory: the link is walked again next time */
    t->memos[slot] = (struct memo){.rm_epoch = t->rm_epoch,
                                   .sym_epoch = t->sym_epoch,
                                   .dir = w->dir,
                                   .extra = w->extra,
                                   .depth = w->depth,
                                   .hops = hops,
                                   .first = w->first,
                                   .first_len = (uint16_t)w->first_len,
                                   .lexical = w->lexical};
}

/* A symlink on the way: on to where its target leads from the link's directory (P1).
 * Hops count every link followed for the whole name, nested ones included. */
static enum res follow(struct tree *t, struct walk *w, uint32_t link)
{
    if (++w->hops > TREE_MAX_HOPS)
        return RES_LOOP;
    if (!w->fresh && memo_valid(t, link)) {
        const struct memo *m = &t->memos[N(t, link)->aux];
        if (w->hops + m->hops > TREE_MAX_HOPS)
            return RES_LOOP;
        w->dir = m->dir;
        w->extra = m->extra;
        w->depth = m->depth;
        w->hops += m->hops;
        w->first = m->first;
        w->first_len = m->first_len;
        w->lexical |= m->lexical;
        return RES_OK;
    }
    const struct inode *in = I(t, N(t, link)->ino);
    struct walk sub = *w;
    sub.lexical = false;
    enum res r = walk_path(t, &sub, in->target, in->target_len);
    if (r != RES_OK)
        return r;
    if (!w->fresh)
        memo_store(t, link, &sub, sub.hops - w->hops);
    sub.lexical |= w->lexical;
    *w = sub;
    return RES_OK;
}

/* One name: into a directory, through a symlink, or else lexically (P4). */
static enum res walk_name(struct tree *t, struct walk *w, const char *seg, size_t n)
{
    if (w->depth + 1 > TREE_MAX_DEPTH)
        return RES_DEEP;
    if (w->extra == 0) {
        uint32_t c = tree_lookup(t, w->dir, seg, n);
        uint8_t type = c ? N(t, c)->type : 0;
        if (type == ENT_DIR) {
            w->dir = c;
            w->depth++;
            return RES_OK;
        }
        if (type == ENT_SYMLINK)
            return follow(t, w, c);
        w->first = seg;
        w->first_len = n;
        w->lexical = true;
    }
    if (w->tail)
        w->tail[w->extra] = (struct tail_name){seg, n};
    w->extra++;
    w->depth++;
    return RES_OK;
}

/* Walk the raw path p (may hold "", ".", "..", a leading '/') on from where w stands. */
static enum res walk_path(struct tree *t, struct walk *w, const char *p, size_t len)
{
    size_t i = 0, n;
    const char *seg;
    int kind;
    if (len && p[0] == '/') { /* an absolute target starts again at the image root (P1) */
        w->dir = ROOT;
        w->extra = w->depth = 0;
    }
    while ((kind = path_next(p, len, &i, &seg, &n)) >= 0) {
        if (kind == SEG_NAME) {
            enum res r = walk_name(t, w, seg, n);
            if (r != RES_OK)
                return r;
        } else if (w->extra) { /* P4: `..` takes back a lexical name */
            w->extra--;
            w->depth--;
        } else if (w->dir != ROOT) { /* P1: and stops at the root */
            w->dir = N(t, w->dir)->parent;
            w->depth--;
        }
    }
    return RES_OK;
}

/* TREE_SELFCHECK: a fresh walk must give what the caches gave. */
static enum res check_walk(struct tree *t, const struct walk *w, enum res r, const char *p,
                           size_t len)
{
    struct walk f = {.dir = ROOT, .fresh = true};
    enum res fr = walk_path(t, &f, p, len);
    if (fr != r)
        return RES_CHECK;
    /* `lexical` may stay set after a missing name became a directory: it only makes the
     * answer depend on more than it needs to */
    if (r == RES_OK && (f.dir != w->dir || f.extra != w->extra || f.depth != w->depth ||
                        f.hops != w->hops || (f.lexical && !w->lexical)))
        return RES_CHECK;
    return r;
}

/* Resolve p (a canonical path) from the image root, creating nothing (P1, P4). */
enum res tree_resolve(struct tree *t, struct walk *w, const char *p, size_t len)
{
    *w = (struct walk){.dir = ROOT, .fresh = (t->debug & TREE_PLAIN) != 0};
    enum res r = walk_path(t, w, p, len);
    return t->debug & TREE_SELFCHECK ? check_walk(t, w, r, p, len) : r;
}

/* tree_resolve() for an entry's parent, through the last parent resolved (*hit: it was that). */
enum res tree_resolve_parent(struct tree *t, struct walk *w, const char *p, size_t len, bool *hit)
{
    *hit = t->cache_dir && t->cache_len == len && t->cache_rm == t->rm_epoch &&
           (!t->cache_lexical || t->cache_sym == t->sym_epoch) && !(t->debug & TREE_PLAIN) &&
           memcmp(t->cache_path, p, len) == 0;
    if (*hit) {
        *w = (struct walk){.dir = t->cache_dir, .lexical = t->cache_lexical};
        if (!(t->debug & TREE_SELFCHECK))
            return RES_OK;
        struct walk f;
        enum res r = tree_resolve(t, &f, p, len);
        return r == RES_OK && f.extra == 0 && f.dir == w->dir ? RES_OK : RES_CHECK;
    }
    return tree_resolve(t, w, p, len);
}

void tree_cache_parent(struct tree *t, const struct walk *w, const char *p, size_t len)
{
    memcpy(t->cache_path, p, len);
    t->cache_len = len;
    t->cache_dir = w->dir;
    t->cache_lexical = w->lexical;
    t->cache_rm = t->rm_epoch;
    t->cache_sym = t->sym_epoch;
}

/* P2, P3, P5: once the whole name is resolved, the names taken lexically become
 * directories, unless the first of them is a non-directory (P3); *made is the first one
 * made.  They are found again by a fresh walk that notes them, since a memo keeps only the
 * first. */
enum res tree_make_dirs(struct tree *t, struct walk *w, const char *p, size_t len, uint32_t *made)
{
    if (tree_lookup(t, w->dir, w->first, w->first_len))
        return RES_NOTDIR;
    if (!t->tail && !(t->tail = malloc(TREE_MAX_DEPTH * sizeof *t->tail)))
        return RES_NOMEM;
    struct walk f = {.dir = ROOT, .fresh = true, .tail = t->tail};
    enum res r = walk_path(t, &f, p, len);
    if (r != RES_OK || f.dir != w->dir || f.extra != w->extra)
        return r != RES_OK ? r : RES_CHECK;
    for (uint32_t i = 0; i < f.extra; i++) {
        const char *name = arena_strndup(&t->names, t->tail[i].p, t->tail[i].len);
        uint32_t id = name ? tree_node_new(t, f.dir, name, t->tail[i].len, ENT_DIR, 0) : 0;
        if (!id)
            return RES_NOMEM;
        f.dir = id;
        if (!*made)
            *made = id;
    }
    w->dir = f.dir;
    w->extra = 0;
    return RES_OK;
}
