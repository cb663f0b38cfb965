#include "walk.h"

#include <string.h>

#include <archive_entry.h>

#include "err.h"
#include "imgstat.h"

struct archive *layer_archive_new(struct err *e)
{
    struct archive *a = archive_read_new();
    if (!a) {
        err_nomem(e);
        return NULL;
    }
    /* decompression happens before libarchive (scanner/decode.c): tar formats only */
    archive_read_support_filter_none(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a); /* 0-byte layers exist: docker/docker#18170 */
    return a;
}

static uint8_t entry_type(struct archive_entry *ae)
{
    if (archive_entry_hardlink(ae))
        return ENT_HARDLINK; /* libarchive: filetype 0 and size 0 for tar links */
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG: return ENT_REG;
    case AE_IFDIR: return ENT_DIR;
    case AE_IFLNK: return ENT_SYMLINK;
    case AE_IFCHR: return ENT_CHR;
    case AE_IFBLK: return ENT_BLK;
    case AE_IFIFO: return ENT_FIFO;
    default: return ENT_OTHER;
    }
}

int layer_walk(struct archive *a, layer_sink sink, void *ctx, struct err *e)
{
    struct archive_entry *ae;
    for (;;) {
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            return IMGSTAT_OK;
        /* WARN: e.g. a UTF-8 name not convertible to the locale; the raw bytes are kept */
        if (r < ARCHIVE_WARN || r == ARCHIVE_RETRY)
            return err_set(e, IMGSTAT_EINPUT, "%s",
                           archive_error_string(a) ? archive_error_string(a) : "unreadable tar");
        struct layer_entry ent = {0};
        ent.path = archive_entry_pathname(ae);
        if (!ent.path)
            ent.path = "";
        ent.path_len = strlen(ent.path);
        ent.type = entry_type(ae);
        if (ent.type == ENT_HARDLINK)
            ent.link = archive_entry_hardlink(ae);
        else if (ent.type == ENT_SYMLINK)
            ent.link = archive_entry_symlink(ae);
        if (ent.link)
            ent.link_len = strlen(ent.link);
        if (ent.type == ENT_REG && archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0)
            ent.size = (uint64_t)archive_entry_size(ae);
        int rc = sink(ctx, &ent, e);
        if (rc != IMGSTAT_OK)
            return rc;
    }
}
