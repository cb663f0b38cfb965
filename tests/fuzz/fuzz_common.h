/*
 * Helpers shared by the fuzz targets: inputs placed in a memfd (or a pipe on
 * stdin) so the public API reads them like a file, tarballs written with
 * libarchive around fuzzed members, and the API's promises checked after
 * every call (a broken promise aborts, which libFuzzer reports as a crash).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "imgstat.h"

struct err;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message when cond is false: an oracle, not an assert (kept in release). */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                       \
    } while (0)

_Noreturn void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A member of a tarball the target writes; symlink != NULL makes a symlink. */
struct fz_member {
    const char *name;
    const void *data;
    size_t len;
    const char *symlink;
};

/* The path ("/proc/self/fd/N") of memfd number `slot` (0..3), now holding exactly data. */
const char *fz_memfd_path(int slot, const void *data, size_t len);

/* The same, holding an uncompressed tarball of the members, in order. */
const char *fz_tar_path(int slot, const struct fz_member *m, size_t n);

/* A tarball of the members in malloc'ed memory, gzip-compressed when gzip != 0. */
unsigned char *fz_tar_bytes(const struct fz_member *m, size_t n, int gzip, size_t *len);

/* Open and scan path with the public API and check every promise of imgstat.h on the way.
 * Returns the first failing result code, or IMGSTAT_OK. */
int fz_scan(const char *path, unsigned flags, unsigned jobs);
/* The same with every option given. */
int fz_scan_opt(const char *path, const struct imgstat_options *opt);

/* The same with the bytes fed through a pipe on stdin ("-"), when the pipe can hold them
 * all; returns 1 (and does nothing) when it cannot. */
int fz_scan_stdin(const void *data, size_t len, unsigned flags, unsigned jobs);

/* Check an internal API's failure: a code < 0 and a one-line message. */
void fz_check_err(int rc, const struct err *e, const char *what);

/* Check the totals' internal consistency. */
void fz_check_totals(const struct imgstat_totals *t);

/* SHA-256 of the bytes as 64 lowercase hex digits (blob names that match their content). */
void fz_sha256_hex(const void *data, size_t len, char out[65]);

#endif
