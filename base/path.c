#include "path.h"

#include <string.h>

int path_next(const char *p, size_t len, size_t *pos, const char **seg, size_t *n)
{
    size_t i = *pos;
    for (;;) {
        while (i < len && p[i] == '/')
            i++;
        if (i >= len) {
            *pos = i;
            return -1;
        }
        size_t s = i;
        while (i < len && p[i] != '/')
            i++;
        if (i - s == 1 && p[s] == '.')
            continue;
        *pos = i;
        *seg = p + s;
        *n = i - s;
        return *n == 2 && p[s] == '.' && p[s + 1] == '.' ? SEG_DOTDOT : SEG_NAME;
    }
}

long path_normalize(const char *in, size_t len, char *out, bool *clamped)
{
    size_t o = 0, i = 0, n;
    const char *seg;
    int kind;
    *clamped = false;
    if (len > PATH_MAX_BYTES)
        return -1;
    while ((kind = path_next(in, len, &i, &seg, &n)) >= 0) {
        if (kind == SEG_DOTDOT) {
            if (o == 0) {
                *clamped = true;
                continue;
            }
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the separator before the dropped segment */
            continue;
        }
        if (o > 0)
            out[o++] = '/';
        memcpy(out + o, seg, n);
        o += n;
    }
    out[o] = '\0';
    return (long)o;
}

size_t path_base_len(const char *p, size_t len)
{
    size_t i = len;
    while (i > 0 && p[i - 1] != '/')
        i--;
    return len - i;
}

enum wh_kind wh_classify(const char *path, size_t len)
{
    static const char aufs[] = WH_PREFIX WH_PREFIX; /* ".wh..wh." */
    const size_t alen = sizeof aufs - 1, olen = sizeof WH_OPAQUE_NAME - 1;
    size_t blen = path_base_len(path, len);
    const char *base = path + len - blen;

    /* moby go-archive: ".wh..wh.*" at the root is AUFS metadata (plnk, aufs, orph), with its
     * children; only the opaque marker itself is meaningful there (SEMANTICS A3). */
    if (len >= alen && memcmp(path, aufs, alen) == 0 &&
        !(len == olen && memcmp(path, WH_OPAQUE_NAME, olen) == 0))
        return WH_AUFS;
    if (blen < WH_PREFIX_LEN || memcmp(base, WH_PREFIX, WH_PREFIX_LEN) != 0)
        return WH_NONE;
    /* exact match only: a prefix match wiped /etc in stereoscope (#696) */
    if (blen == olen && memcmp(base, WH_OPAQUE_NAME, olen) == 0)
        return WH_OPAQUE;
    if (blen == WH_PREFIX_LEN)
        return WH_BARE;
    return WH_FILE;
}
