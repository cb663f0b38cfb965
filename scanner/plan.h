/*
 * plan: the images an input holds, as the format readers find them, and the
 * one the user chose.  All strings and arrays live in the plan's arena.
 */
#ifndef IMGSTAT_PLAN_H
#define IMGSTAT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "source.h"

/* Layers in one image: Docker allows 127, OCI names no limit; this bounds a crafted list. */
#define PLAN_MAX_LAYERS 4096
/* Images listed in one input (index entries, manifest.json items, tags). */
#define PLAN_MAX_IMAGES 65536

struct layer_ref {
    const char *member;        /* member holding the blob, or NULL when inline */
    const unsigned char *data; /* inline blob (descriptor "data") */
    size_t data_len;
    const char *digest;     /* for messages: descriptor digest or member name */
    const char *media_type; /* NULL when the format has none */
    const char *diff_id;    /* the config's rootfs.diff_ids entry, or NULL */
    uint64_t size;          /* descriptor size, or 0 when unknown */
};

/* A step of the config's history (image-spec config.md), for display. */
struct history_step {
    const char *created_by, *comment; /* NULL when absent */
    bool empty_layer;
};

struct image {
    const char *format; /* "docker-archive", "oci", "docker-legacy" */
    const char **refs;  /* tags and ref names, as written */
    size_t nrefs;
    const char *id;              /* image ID: config digest "sha256:..." (or legacy v1 id) */
    const char *manifest_digest; /* OCI manifest digest, else NULL */
    const char *os, *arch, *variant;
    struct layer_ref *layers;
    size_t nlayers;
    const char *unusable; /* why it cannot be scanned (missing blob, artifact), or NULL */
    const char *warning;  /* F8: a problem the scan warns about and --verify refuses, or NULL */
    struct history_step *history; /* the config's history, in order */
    size_t nhistory;
};

struct plan {
    struct arena *arena;
    struct image *v;
    size_t n, cap;
};

/* Append a zeroed image; NULL with e set when out of memory or over PLAN_MAX_IMAGES. */
struct image *plan_add(struct plan *p, struct err *e);
/* Append a ref (copied) to an image. */
int plan_add_ref(struct plan *p, struct image *img, const char *ref, struct err *e);
void plan_free(struct plan *p);

/* A reader of one input format: recognise it, then list its images. */
struct format {
    const char *name;
    bool (*probe)(struct source *s);
    int (*list)(struct source *s, struct plan *p, struct err *e);
};

extern const struct format fmt_dir, fmt_docker, fmt_oci, fmt_legacy;

/* The images an OCI index (or docker manifest list) lists, each made an image of `format`
 * ("oci" or "dir": the dir transport names blobs by their encoded digest). */
int oci_walk_index(struct source *s, struct plan *p, const char *format, const cJSON *index,
                   const char *what, struct err *e);
/* One image whose manifest is the member manifest.json, described by desc (digest of its
 * bytes, mediaType) */
int oci_walk_manifest(struct source *s, struct plan *p, const char *format, const cJSON *desc,
                      struct err *e);

/* Run the first format whose probe accepts the source (docker manifest.json first). */
int plan_read(struct source *s, struct plan *p, struct err *e);

/* Choose the image by ref and platform (either may be NULL); see select.c for the rules. */
int plan_select(struct plan *p, const char *ref, const char *platform, struct image **out,
                struct err *e);

/* One entry per image: entries for the same image (one per tag in index.json, or the same
 * config and layers) become one with all their refs.  Call before taking image pointers. */
int plan_merge(struct plan *p, struct err *e);

/* The images that can be scanned, each once (out has room for p->n); returns the count. */
size_t plan_distinct(struct plan *p, struct image **out);

/* Parse "os/arch[/variant]"; IMGSTAT_EUSAGE when malformed. */
int platform_check(const char *platform, struct err *e);

/* Canonical member name (in the arena) for a path a manifest gives; refuses absolute and
 * escaping paths, naming `what` in the error. */
int plan_member_name(struct arena *a, const char *raw, const char *what, const char **out,
                     struct err *e);

/* Copy os/architecture/variant from an image config (or a descriptor's platform) where the
 * image has none yet; IMGSTAT_ENOMEM with e set when a copy fails. */
int plan_set_platform(struct arena *a, struct image *img, const cJSON *obj, struct err *e);

/* Copy a decoded config's history (json_t_config read it for display) into the image. */
int plan_history(struct arena *a, struct image *img, const cJSON *config, struct err *e);

/* Copy a decoded config's rootfs.diff_ids into the image's layers, as many as both have;
 * *count is how many the config lists (absent or null: none, J6). */
int plan_diff_ids(struct arena *a, struct image *img, const cJSON *config, size_t *count,
                  struct err *e);

#endif
