/*
 * The containers "dir" transport (`skopeo copy ... dir:PATH`, `podman save --format
 * docker-dir`), as a directory or as a tarball of one (containers/image
 * directory/directory_transport.go, rule F7):
 *
 *   version         "Directory Transport Version: 1.1"
 *   manifest.json   the image manifest itself (Docker schema 2 or OCI); after a copy of
 *                   several instances (--all) an index, each instance's manifest then in
 *                   ENCODED.manifest.json
 *   ENCODED         every other blob (config, layers), named by its digest's encoded part
 *
 * The image ID is the config digest, the manifest digest that of manifest.json's bytes; a
 * dir holds no names.  The manifest and its blobs are read by oci.c, which knows the naming.
 */
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "err.h"
#include "imgstat.h"
#include "json.h"
#include "plan.h"

#define DIRT_MANIFEST "manifest.json"
#define DIRT_VERSION "version"
#define DIRT_VERSION_PREFIX "Directory Transport Version: "
/* The version file is one short line; anything longer is not one. */
#define DIRT_VERSION_MAX 256

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

/* A `version` file beside an object-shaped manifest.json: a docker-save manifest.json is an
 * array, so the two cannot be confused. */
static bool dirt_probe(struct source *s)
{
    const unsigned char *buf;
    size_t len, i = 0;
    struct err ignored = {0};
    if (!src_exists(s, DIRT_VERSION) ||
        src_read(s, DIRT_MANIFEST, SRC_JSON_MAX, &buf, &len, &ignored) != IMGSTAT_OK)
        return false;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    return i < len && buf[i] == '{';
}

/* "Directory Transport Version: MAJOR.MINOR": imgstat reads major version 1 (1.0 and 1.1
 * differ only in the instance manifests 1.1 added). */
static int dirt_version(struct source *s, struct err *e)
{
    const unsigned char *buf;
    size_t len, plen = strlen(DIRT_VERSION_PREFIX);
    if (src_read(s, DIRT_VERSION, DIRT_VERSION_MAX, &buf, &len, e) != IMGSTAT_OK)
        return e->code;
    char v[DIRT_VERSION_MAX + 1];
    memcpy(v, buf, len);
    v[len] = '\0';
    v[strcspn(v, "\r\n")] = '\0';
    if (strncmp(v, DIRT_VERSION_PREFIX, plen) != 0)
        return err_set(e, IMGSTAT_EINPUT,
                       DIRT_VERSION ": '%.60s' is not a dir transport version line", v);
    const char *num = v + plen;
    size_t major = strspn(num, "0123456789");
    if (major == 0 || num[major] != '.' || !num[major + 1] ||
        strspn(num + major + 1, "0123456789") != strlen(num + major + 1))
        return err_set(e, IMGSTAT_EINPUT, DIRT_VERSION ": version '%.40s' is not MAJOR.MINOR", num);
    if (major != 1 || num[0] != '1')
        return err_set(e, IMGSTAT_EINPUT,
                       DIRT_VERSION ": Directory Transport Version %.40s is not supported "
                                    "(imgstat reads 1.x)",
                       num);
    return IMGSTAT_OK;
}

static int sha256_of(const unsigned char *buf, size_t len, char *out, struct err *e)
{
    struct digest_ctx d;
    if (!digest_init(&d, "sha256"))
        return err_nomem(e);
    digest_update(&d, buf, len);
    digest_final(&d, out);
    return IMGSTAT_OK;
}

/* manifest.json is one image: describe it as an index entry would, for oci.c (which reads
 * the manifest's own shape, whatever the descriptor's type says). */
static int dirt_image(struct source *s, struct plan *p, const char *digest, struct err *e)
{
    cJSON *desc = cJSON_CreateObject();
    if (!desc || !cJSON_AddStringToObject(desc, "digest", digest) ||
        !cJSON_AddStringToObject(desc, "mediaType", MT_OCI_MANIFEST)) {
        cJSON_Delete(desc);
        return err_nomem(e);
    }
    int rc = oci_walk_manifest(s, p, "dir", desc, e);
    cJSON_Delete(desc);
    return rc;
}

static int dirt_list(struct source *s, struct plan *p, struct err *e)
{
    const unsigned char *buf;
    size_t len;
    char digest[DIGEST_MAX];
    cJSON *doc = NULL;
    if (dirt_version(s, e) != IMGSTAT_OK ||
        src_read(s, DIRT_MANIFEST, SRC_JSON_MAX, &buf, &len, e) != IMGSTAT_OK ||
        sha256_of(buf, len, digest, e) != IMGSTAT_OK ||
        json_decode(buf, len, &json_t_sniff, DIRT_MANIFEST, &doc, e) != IMGSTAT_OK)
        return e->code;
    const char *mt = json_str(doc, "mediaType");
    const cJSON *version = json_field(doc, "schemaVersion");
    bool index = mt ? (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0)
                    : json_field(doc, "manifests") && !json_field(doc, "config");
    int rc = IMGSTAT_OK;
    if (json_field(doc, "fsLayers") || (version && version->valuedouble == 1))
        rc = err_set(e, IMGSTAT_EINPUT,
                     DIRT_MANIFEST ": a Docker schema 1 manifest, which imgstat does not read "
                                   "(skopeo copy --format v2s2 or --format oci converts it)");
    else if (!index && !json_field(doc, "config"))
        rc = err_set(e, IMGSTAT_EINPUT,
                     DIRT_MANIFEST ": neither an image manifest nor an index (mediaType %.100s)",
                     mt ? mt : "absent");
    cJSON_Delete(doc); /* mt pointed into it */
    if (rc != IMGSTAT_OK)
        return rc;
    if (!index)
        return dirt_image(s, p, digest, e);
    if (json_decode(buf, len, &json_t_index, DIRT_MANIFEST, &doc, e) != IMGSTAT_OK)
        return e->code;
    rc = oci_walk_index(s, p, "dir", doc, DIRT_MANIFEST, e);
    cJSON_Delete(doc);
    return rc;
}

const struct format fmt_dir = {"dir", dirt_probe, dirt_list};
