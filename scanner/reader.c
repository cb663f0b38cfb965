#include "reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "imgstat.h"

/* After a skip the next thing read is usually a 512-byte tar header: start at a page.
 * Sequential reads double up to RD_MAX; a tar walked with seeks stays at RD_SEEK_MAX,
 * since whatever lies beyond the next headers is file data it will skip. */
#define RD_MIN 4096
#define RD_SEEK_MAX (64 * 1024)
#define RD_MAX (1024 * 1024)

/* The first extent that ends after logical offset pos (n when none does). */
static size_t extent_at(const struct range_extent *ext, size_t n, uint64_t pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ext[mid].off + ext[mid].len <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Where logical bytes [pos, pos + *n) are: true with *at their file offset (*n cut at the end
 * of the extent), or false for a hole (*n cut where the next extent starts).  S1: a sparse
 * member's holes are zeros.
 */
static bool locate(const struct range_extent *ext, size_t next, uint64_t start, uint64_t pos,
                   size_t *n, uint64_t *at)
{
    if (!ext) {
        *at = start + pos;
        return true;
    }
    size_t i = extent_at(ext, next, pos);
    if (i == next || ext[i].off > pos) {
        uint64_t hole = i == next ? UINT64_MAX : ext[i].off - pos;
        if (hole < *n)
            *n = (size_t)hole;
        return false;
    }
    uint64_t left = ext[i].off + ext[i].len - pos;
    if (left < *n)
        *n = (size_t)left;
    *at = ext[i].at + (pos - ext[i].off);
    return true;
}

/* The next bytes of the member (holes as zeros): their count, 0 at its end, or -1 with
 * r->err_no set. */
static ssize_t range_next(struct range_reader *r, const unsigned char **out)
{
    uint64_t left = r->size - r->pos, at;
    size_t n = left < r->want ? (size_t)left : r->want;
    *out = r->buf;
    if (n == 0)
        return 0;
    ssize_t got;
    if (!locate(r->ext, r->next, r->start, r->pos, &n, &at)) {
        memset(r->buf, 0, n); /* a hole */
        got = (ssize_t)n;
    } else {
        do
            got = pread(r->fd, r->buf, n, (off_t)at);
        while (got < 0 && errno == EINTR);
    }
    if (got < 0) {
        r->err_no = errno;
        return -1;
    }
    r->pos += (uint64_t)got;
    if (r->want < r->max)
        r->want *= 2;
    return got;
}

static la_ssize_t range_read(struct archive *a, void *ctx, const void **out)
{
    const unsigned char *b;
    ssize_t n = range_next(ctx, &b);
    *out = b;
    if (n < 0)
        archive_set_error(a, ((struct range_reader *)ctx)->err_no, "read failed");
    return n;
}

static ssize_t src_read(void *ctx, const unsigned char **buf, struct err *e)
{
    struct range_reader *r = ctx;
    ssize_t n = range_next(r, buf);
    if (n < 0)
        return err_sys(e, r->err_no, "read failed");
    if (n == 0 && r->pos < r->size) /* pread found the file shorter than its index */
        return err_set(e, IMGSTAT_EINPUT, "file ends early (truncated or changed while read?)");
    return n;
}

static int64_t src_skip(void *ctx, uint64_t n, struct err *e)
{
    (void)e;
    struct range_reader *r = ctx;
    uint64_t left = r->size - r->pos;
    if (n > left)
        n = left;
    r->pos += n;
    r->want = RD_MIN;
    return (int64_t)n;
}

void range_src(struct range_reader *r, bool seekable, struct byte_src *out)
{
    *out = (struct byte_src){src_read, seekable ? src_skip : NULL, r};
    if (seekable)
        r->max = RD_SEEK_MAX;
}

static la_int64_t rd_skip(struct archive *a, void *ctx, la_int64_t request)
{
    (void)a;
    struct range_reader *r = ctx;
    uint64_t left = r->size - r->pos;
    uint64_t n = request < 0 ? 0 : (uint64_t)request;
    if (n > left)
        n = left;
    r->pos += n;
    r->want = RD_MIN;
    return (la_int64_t)n;
}

static la_int64_t rd_seek(struct archive *a, void *ctx, la_int64_t offset, int whence)
{
    (void)a;
    struct range_reader *r = ctx;
    int64_t size = (int64_t)r->size, base = 0;
    if (whence == SEEK_CUR)
        base = (int64_t)r->pos;
    else if (whence == SEEK_END)
        base = size;
    int64_t to = base + offset;
    if (to < 0 || to > size)
        return ARCHIVE_FATAL;
    r->pos = (uint64_t)to;
    r->want = RD_MIN;
    return to;
}

static int rd_close(struct archive *a, void *ctx)
{
    (void)a;
    range_fini(ctx);
    return ARCHIVE_OK;
}

int range_init(struct range_reader *r, int fd, uint64_t start, uint64_t len,
               const struct range_extent *ext, size_t next, struct err *e)
{
    r->fd = fd;
    r->start = start;
    r->size = len;
    r->pos = 0;
    r->ext = ext;
    r->next = next;
    r->want = RD_MIN;
    r->max = RD_MAX;
    r->err_no = 0;
    /* a read never exceeds what is left of the range: small members get small buffers */
    if (!(r->buf = malloc(len < RD_MAX ? (size_t)len + 1 : RD_MAX)))
        return err_nomem(e);
    return IMGSTAT_OK;
}

void range_fini(struct range_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

int range_open(struct archive *a, struct range_reader *r, int fd, uint64_t start, uint64_t len,
               const struct range_extent *ext, size_t next, struct err *e)
{
    if (range_init(r, fd, start, len, ext, next, e) != IMGSTAT_OK)
        return e->code;
    r->max = RD_SEEK_MAX;
    archive_read_set_read_callback(a, range_read);
    archive_read_set_skip_callback(a, rd_skip);
    archive_read_set_seek_callback(a, rd_seek);
    archive_read_set_close_callback(a, rd_close);
    archive_read_set_callback_data(a, r);
    if (archive_read_open1(a) != ARCHIVE_OK) {
        /* libarchive calls the close callback on failure, freeing buf */
        const char *msg = archive_error_string(a);
        return err_set(e, IMGSTAT_EINPUT, "%s", msg ? msg : "unreadable archive");
    }
    return IMGSTAT_OK;
}

int pread_full(int fd, void *buf, size_t len, uint64_t offset, const char *what, struct err *e)
{
    size_t done = 0;
    while (done < len) {
        ssize_t got = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return err_sys(e, errno, "%s: read", what);
        if (got == 0)
            return err_set(e, IMGSTAT_EINPUT, "%s: file ends early (truncated?)", what);
        done += (size_t)got;
    }
    return IMGSTAT_OK;
}

int range_pread(int fd, uint64_t start, const struct range_extent *ext, size_t next, void *buf,
                size_t len, uint64_t offset, const char *what, struct err *e)
{
    unsigned char *p = buf;
    while (len) {
        size_t n = len;
        uint64_t at;
        if (!locate(ext, next, start, offset, &n, &at))
            memset(p, 0, n);
        else if (pread_full(fd, p, n, at, what, e) != IMGSTAT_OK)
            return e->code;
        p += n;
        len -= n;
        offset += n;
    }
    return IMGSTAT_OK;
}
