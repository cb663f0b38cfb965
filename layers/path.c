#include "path.h"

#include <string.h>

long path_normalize(const char *in, size_t len, char *out, bool *clamped)
{
    size_t o = 0, i = 0;
    *clamped = false;
    if (len > PATH_MAX_BYTES)
        return -1;
    while (i < len) {
        while (i < len && in[i] == '/')
            i++;
        size_t s = i;
        while (i < len && in[i] != '/')
            i++;
        size_t n = i - s;
        if (n == 0 || (n == 1 && in[s] == '.'))
            continue;
        if (n == 2 && in[s] == '.' && in[s + 1] == '.') {
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
        memcpy(out + o, in + s, n);
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
