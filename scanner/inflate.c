#include "inflate.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool gzin_magic(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    return len >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 0x08;
}

#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>

/* Output handed to libarchive per call: large enough to amortise the call. */
#define GZIN_OUT (256 * 1024)

struct gzin {
    up_read_fn up;
    void *up_ctx;
    struct inflate_state st;
    const unsigned char *in;
    size_t in_len;
    bool up_eof, done;
    unsigned char out[GZIN_OUT];
};

bool gzin_available(void)
{
    return true;
}

const char *gzin_name(void)
{
    return "ISA-L igzip";
}

/* More compressed input; false at the end of the upstream or on its error (*failed). */
static bool refill(struct archive *a, struct gzin *g, bool *failed)
{
    if (g->up_eof)
        return false;
    const void *buf;
    la_ssize_t n = g->up(a, g->up_ctx, &buf);
    if (n < 0) {
        *failed = true;
        return false;
    }
    if (n == 0) {
        g->up_eof = true;
        return false;
    }
    g->in = buf;
    g->in_len = (size_t)n;
    return true;
}

/* After one gzip member: another one follows (multi-member), or we are done. */
static void next_member(struct archive *a, struct gzin *g, bool *failed)
{
    if (g->in_len == 0 && !refill(a, g, failed)) {
        g->done = true;
        return;
    }
    /* a member boundary may split the magic; one byte is enough to tell junk apart */
    if (g->in[0] != 0x1f || (g->in_len > 1 && g->in[1] != 0x8b)) {
        g->done = true; /* trailing bytes after the last member: ignored, like gzip -d */
        return;
    }
    isal_inflate_reset(&g->st);
    g->st.crc_flag = ISAL_GZIP;
}

static la_ssize_t gzin_read(struct archive *a, void *ctx, const void **buf)
{
    struct gzin *g = ctx;
    bool failed = false;
    *buf = g->out;
    while (!g->done) {
        if (g->in_len == 0 && !refill(a, g, &failed)) {
            if (failed)
                return -1;
            archive_set_error(a, EINVAL, "truncated gzip data");
            return -1;
        }
        g->st.next_in = (uint8_t *)(uintptr_t)g->in;
        g->st.avail_in = (uint32_t)(g->in_len > UINT32_MAX ? UINT32_MAX : g->in_len);
        g->st.next_out = g->out;
        g->st.avail_out = GZIN_OUT;
        uint32_t before = g->st.avail_in;
        int r = isal_inflate(&g->st);
        if (r < 0) {
            archive_set_error(a, EINVAL, "corrupt gzip data (ISA-L error %d)", r);
            return -1;
        }
        size_t used = before - g->st.avail_in;
        g->in += used;
        g->in_len -= used;
        size_t produced = GZIN_OUT - g->st.avail_out;
        if (g->st.block_state == ISAL_BLOCK_FINISH) {
            next_member(a, g, &failed);
            if (failed)
                return -1;
        }
        if (produced)
            return (la_ssize_t)produced;
    }
    return 0;
}

static int gzin_close(struct archive *a, void *ctx)
{
    (void)a;
    free(ctx);
    return ARCHIVE_OK;
}

int gzin_open(struct archive *a, up_read_fn up, void *up_ctx)
{
    struct gzin *g = malloc(sizeof *g);
    if (!g) {
        archive_set_error(a, ENOMEM, "out of memory");
        return ARCHIVE_FATAL;
    }
    memset(g, 0, offsetof(struct gzin, out));
    g->up = up;
    g->up_ctx = up_ctx;
    isal_inflate_init(&g->st);
    g->st.crc_flag = ISAL_GZIP;
    return archive_read_open(a, g, NULL, gzin_read, gzin_close);
}

#else /* !HAVE_ISAL */

bool gzin_available(void)
{
    return false;
}

const char *gzin_name(void)
{
    return "zlib (libarchive)";
}

int gzin_open(struct archive *a, up_read_fn up, void *up_ctx)
{
    (void)up;
    (void)up_ctx;
    archive_set_error(a, ENOSYS, "built without ISA-L");
    return ARCHIVE_FATAL;
}

#endif
