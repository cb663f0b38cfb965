/*
 * fuzz_manifest: the input is one JSON document of an image (manifest.json,
 * index.json, an OCI image manifest, an image config or a legacy
 * `repositories`), placed in five tarballs around fixed, valid members:
 *
 *   A  docker-archive   manifest.json = input; config.json, layer.tar, layer2.tar.gz,
 *                       link.tar -> layer.tar
 *   B  oci-archive      index.json = input; oci-layout, blobs for the manifest M, the
 *                       nested index I, the config C and the layers L and G
 *   C  oci-archive      index.json -> blobs/sha256/X = input (an image manifest),
 *                       with C, L and G
 *   D  docker-archive   a fixed manifest.json whose config.json = input
 *   E  docker-legacy    repositories = input; two v1 layer directories 111..1 -> 222..2
 *   F  dir transport    manifest.json = input beside `version`; the blobs C, L, G named by
 *                       their hex, M as HEX.manifest.json (an instance an index may list)
 *
 * Every document is read by scanner/json.c's Go rules (J1-J6): the seeds and manifest.dict
 * hold keys written twice and in other cases (U+017F, U+212A, U+0131), nulls, numbers that are
 * no int64, bytes after the document.
 * A and B are also opened with --image app:1 and with --platform linux/arm64/v8 (when the
 * input holds "app" or "arm"), so the selection code meets the fuzzed refs and platforms.  Blob
 * names are sha256 of fixed labels ("imgstat-fuzz layer", ...), not of the content; make_seeds.py
 * uses the same names, and manifest.dict lists the words the readers look for.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_TGZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"

struct blob {
    char hex[65];
    char path[96]; /* blobs/sha256/HEX */
    unsigned char *data;
    size_t len;
};

static struct {
    struct blob L, G, C, M, I, X;
    char m_instance[96];   /* F: HEX.manifest.json of M */
    char *docker_manifest; /* the fixed manifest.json of variant D */
    char *fixed_index;     /* the fixed index.json of variant C */
    const char *layout;    /* oci-layout */
    const char *v1_json1, *v1_json2;
} F;

static void name_blob(struct blob *b, const char *label)
{
    fz_sha256_hex(label, strlen(label), b->hex);
    snprintf(b->path, sizeof b->path, "blobs/sha256/%s", b->hex);
}

static void set_text(struct blob *b, char *text)
{
    b->data = (unsigned char *)text;
    b->len = strlen(text);
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    static const char busybox[100] = "busybox";
    const struct fz_member l1[] = {
        {"etc/hostname", "fuzz\n", 5, NULL},
        {"bin/busybox", busybox, sizeof busybox, NULL},
        {"bin/sh", NULL, 0, "busybox"},
        {"tmp/.wh.gone", "", 0, NULL},
    };
    const struct fz_member l2[] = {
        {"etc/.wh.hostname", "", 0, NULL},
        {"usr/share/.wh..wh..opq", "", 0, NULL},
        {"usr/share/x", "abc", 3, NULL},
    };
    name_blob(&F.L, "imgstat-fuzz layer");
    name_blob(&F.G, "imgstat-fuzz layer2");
    name_blob(&F.C, "imgstat-fuzz config");
    name_blob(&F.M, "imgstat-fuzz manifest");
    name_blob(&F.I, "imgstat-fuzz index");
    name_blob(&F.X, "imgstat-fuzz input");
    F.L.data = fz_tar_bytes(l1, sizeof l1 / sizeof *l1, 0, &F.L.len);
    F.G.data = fz_tar_bytes(l2, sizeof l2 / sizeof *l2, 1, &F.G.len);
    set_text(&F.C, xprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                           "\"layers\",\"diff_ids\":[\"sha256:%s\",\"sha256:%s\"]}}",
                           F.L.hex, F.G.hex));
    set_text(&F.M, xprintf("{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
                           "\"config\":{\"mediaType\":\"" MT_CONFIG "\",\"digest\":\"sha256:%s\","
                           "\"size\":%zu},\"layers\":[{\"mediaType\":\"" MT_TAR "\",\"digest\":"
                           "\"sha256:%s\",\"size\":%zu},{\"mediaType\":\"" MT_TGZ "\",\"digest\":"
                           "\"sha256:%s\",\"size\":%zu}]}",
                           F.C.hex, F.C.len, F.L.hex, F.L.len, F.G.hex, F.G.len));
    set_text(&F.I, xprintf("{\"schemaVersion\":2,\"mediaType\":\"" MT_INDEX "\",\"manifests\":"
                           "[{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"sha256:%s\","
                           "\"size\":%zu,\"platform\":{\"architecture\":\"arm64\",\"os\":"
                           "\"linux\",\"variant\":\"v8\"}}]}",
                           F.M.hex, F.M.len));
    F.fixed_index = xprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_MANIFEST
                            "\",\"digest\":\"sha256:%s\",\"size\":1,\"annotations\":{"
                            "\"org.opencontainers.image.ref.name\":\"app:1\"}}]}",
                            F.X.hex);
    F.docker_manifest = xprintf("[{\"Config\":\"config.json\",\"RepoTags\":[\"app:1\"],"
                                "\"Layers\":[\"layer.tar\",\"layer2.tar.gz\"]}]");
    F.layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
    snprintf(F.m_instance, sizeof F.m_instance, "%s.manifest.json", F.M.hex);
    F.v1_json1 = "{\"id\":\"" ID1 "\",\"parent\":\"" ID2 "\",\"os\":\"linux\","
                 "\"architecture\":\"amd64\"}";
    F.v1_json2 = "{\"id\":\"" ID2 "\"}";
}

#define MEMBER(name, b)                                                                            \
    {                                                                                              \
        (name), (b).data, (b).len, NULL                                                            \
    }
#define TEXT(name, s)                                                                              \
    {                                                                                              \
        (name), (s), strlen(s), NULL                                                               \
    }
#define BYTES(name, d, n)                                                                          \
    {                                                                                              \
        (name), (d), (n), NULL                                                                     \
    }
#define N(v) (sizeof(v) / sizeof *(v))

/* Default options, then by ref and by platform where the input names them (an open costs
 * about half a millisecond under ASan: only where the selection code has something to do). */
static void scan_three(const char *path, const uint8_t *data, size_t size)
{
    struct imgstat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.jobs = 1;
    fz_scan_opt(path, &opt);
    if (memmem(data, size, "app", 3)) {
        opt.image = "app:1";
        fz_scan_opt(path, &opt);
        opt.image = NULL;
    }
    if (memmem(data, size, "arm", 3)) {
        opt.platform = "linux/arm64/v8";
        fz_scan_opt(path, &opt);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    { /* A: manifest.json */
        const struct fz_member m[] = {
            BYTES("manifest.json", data, size), MEMBER("config.json", F.C),
            MEMBER("layer.tar", F.L),           MEMBER("layer2.tar.gz", F.G),
            {"link.tar", NULL, 0, "layer.tar"},
        };
        scan_three(fz_tar_path(0, m, N(m)), data, size);
    }
    { /* B: index.json */
        const struct fz_member m[] = {
            TEXT("oci-layout", F.layout), BYTES("index.json", data, size), MEMBER(F.M.path, F.M),
            MEMBER(F.I.path, F.I),        MEMBER(F.C.path, F.C),           MEMBER(F.L.path, F.L),
            MEMBER(F.G.path, F.G),
        };
        scan_three(fz_tar_path(0, m, N(m)), data, size);
    }
    { /* C: an OCI image manifest */
        const struct fz_member m[] = {
            TEXT("oci-layout", F.layout), TEXT("index.json", F.fixed_index),
            BYTES(F.X.path, data, size),  MEMBER(F.C.path, F.C),
            MEMBER(F.L.path, F.L),        MEMBER(F.G.path, F.G),
        };
        fz_scan(fz_tar_path(0, m, N(m)), 0, 1);
    }
    { /* D: an image config */
        const struct fz_member m[] = {
            TEXT("manifest.json", F.docker_manifest),
            BYTES("config.json", data, size),
            MEMBER("layer.tar", F.L),
            MEMBER("layer2.tar.gz", F.G),
        };
        fz_scan(fz_tar_path(0, m, N(m)), 0, 1);
    }
    { /* E: legacy repositories */
        const struct fz_member m[] = {
            BYTES("repositories", data, size), TEXT(ID1 "/json", F.v1_json1),
            MEMBER(ID1 "/layer.tar", F.L),     TEXT(ID2 "/json", F.v1_json2),
            MEMBER(ID2 "/layer.tar", F.L),
        };
        fz_scan(fz_tar_path(0, m, N(m)), 0, 1);
    }
    { /* F: the dir transport's manifest.json */
        const struct fz_member m[] = {
            TEXT("version", "Directory Transport Version: 1.1\n"),
            BYTES("manifest.json", data, size),
            MEMBER(F.C.hex, F.C),
            MEMBER(F.L.hex, F.L),
            MEMBER(F.G.hex, F.G),
            MEMBER(F.m_instance, F.M),
        };
        scan_three(fz_tar_path(0, m, N(m)), data, size);
    }
    return 0;
}
