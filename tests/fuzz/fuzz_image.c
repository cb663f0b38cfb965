/*
 * fuzz_image: the input is a whole image tarball (docker-save, oci-archive or
 * legacy; plain, gzip or zstd), as imgstat would find it in a file or a pipe.
 *
 * It is scanned twice through the public API: from a memfd (a seekable file, so
 * a plain tarball is indexed and its layers read with pread, in strict mode), and
 * through a pipe on stdin ("-", read in one pass; lenient mode, with --verify and the wasted
 * paths kept).  Every result
 * must keep imgstat.h's promises (see fz_scan).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_scan(fz_memfd_path(0, data, size), 0, 1);
    fz_scan_stdin(data, size, IMGSTAT_LENIENT | IMGSTAT_VERIFY | IMGSTAT_WASTE, 1);
    return 0;
}
