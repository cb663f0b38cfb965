#!/usr/bin/env python3
"""Write the layer memo's folder benchmark next to mkbench's images (bench/memo.sh).

usage: mkfolder.py BENCH_OUT [--images 20] [--own-files 400]

From BENCH_OUT/oci-gzip (mkbench's OCI gzip layout) it takes the first three layers as a
shared base, and writes three OCI image layouts:

  folder/       20 images (refs img01..img20), each the 3-layer base plus 2 layers of its
                own; the base blobs are stored once, as a layout stores a shared blob
  folder-base/  the base alone, one image
  folder-own/   one image of all 40 own layers, on no base

so that "the folder, first time" can be set against "the base once plus each own layer
once" (folder-base + folder-own).  An own layer holds --own-files files of 100 B to 64 KiB
(log-uniform) of hex text (gzip about 2x), under /app/imgNN/lM/.  The output is a pure
function of the arguments and of oci-gzip: fixed mtimes, content from sha256, gzip mtime 0.
Rewritten only when its stamp differs.
"""
import gzip
import hashlib
import io
import json
import math
import os
import shutil
import sys
import tarfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF = "org.opencontainers.image.ref.name"


def sha(b):
    return hashlib.sha256(b).hexdigest()


def jbytes(o):
    return json.dumps(o, separators=(",", ":")).encode()


def text(tag, size):
    out, i = bytearray(), 0
    while len(out) < size:
        out += hashlib.sha256(b"%s#%d" % (tag, i)).hexdigest().encode() + b"\n"
        i += 1
    return bytes(out[:size])


def own_layer(img, k, nfiles):
    """(gzip blob, diff_id) of image img's k-th own layer."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for i in range(nfiles):
            tag = b"img%02d-l%d-f%d" % (img, k, i)
            u = int(sha(tag)[:8], 16) / 2**32
            size = int(math.exp(math.log(100) + u * (math.log(65536) - math.log(100))))
            ti = tarfile.TarInfo("app/img%02d/l%d/f%05d.dat" % (img, k, i))
            ti.size, ti.mtime, ti.mode = size, 0, 0o644
            t.addfile(ti, io.BytesIO(text(tag, size)))
    tar = buf.getvalue()
    return gzip.compress(tar, compresslevel=6, mtime=0), "sha256:" + sha(tar)


class Layout:
    def __init__(self, path):
        self.path = path
        self.manifests = []
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(os.path.join(path, "blobs", "sha256"))

    def blob(self, data, media):
        d = sha(data)
        p = os.path.join(self.path, "blobs", "sha256", d)
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(data)
        return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}

    def copy_blob(self, src, desc):
        p = os.path.join(self.path, "blobs", "sha256", desc["digest"].split(":")[1])
        if not os.path.exists(p):
            shutil.copyfile(src, p)  # a copy, not a link: its own file, as in a real folder
        return desc

    def image(self, ref, layers, diff_ids):
        cfg = self.blob(jbytes({"architecture": "amd64", "os": "linux",
                                "rootfs": {"type": "layers", "diff_ids": diff_ids}}), MT_CONFIG)
        m = self.blob(jbytes({"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cfg,
                              "layers": layers}), MT_MANIFEST)
        m["annotations"] = {REF: ref}
        self.manifests.append(m)

    def close(self):
        with open(os.path.join(self.path, "oci-layout"), "wb") as f:
            f.write(jbytes({"imageLayoutVersion": "1.0.0"}))
        with open(os.path.join(self.path, "index.json"), "wb") as f:
            f.write(jbytes({"schemaVersion": 2, "mediaType": MT_INDEX,
                            "manifests": self.manifests}))


def base_of(out):
    src = os.path.join(out, "oci-gzip")
    idx = json.load(open(os.path.join(src, "index.json")))
    blob = lambda d: os.path.join(src, "blobs", "sha256", d.split(":")[1])  # noqa: E731
    man = json.load(open(blob(idx["manifests"][0]["digest"])))
    cfg = json.load(open(blob(man["config"]["digest"])))
    return [(blob(l["digest"]), l) for l in man["layers"][:3]], cfg["rootfs"]["diff_ids"][:3]


def main(argv):
    out = argv[0]
    n = int(argv[argv.index("--images") + 1]) if "--images" in argv else 20
    nfiles = int(argv[argv.index("--own-files") + 1]) if "--own-files" in argv else 400
    base, base_ids = base_of(out)
    stamp = "mkfolder 1 images=%d own-files=%d base=%s" % (n, nfiles, base[0][1]["digest"])
    stamp_file = os.path.join(out, "folder", ".stamp")
    if os.path.exists(stamp_file) and open(stamp_file).read() == stamp:
        print("mkfolder: %s/folder is current" % out)
        return
    folder, fbase, fown = (Layout(os.path.join(out, d)) for d in
                           ("folder", "folder-base", "folder-own"))
    for lay in (folder, fbase):
        descs = [lay.copy_blob(src, dict(d)) for src, d in base]
        if lay is fbase:
            lay.image("base", descs, base_ids)
    own_all, own_ids = [], []
    for i in range(1, n + 1):
        descs, ids = [folder.copy_blob(src, dict(d)) for src, d in base], list(base_ids)
        for k in range(2):
            blob, diff_id = own_layer(i, k, nfiles)
            descs.append(folder.blob(blob, MT_GZIP))
            own_all.append(fown.blob(blob, MT_GZIP))
            ids.append(diff_id)
            own_ids.append(diff_id)
        folder.image("img%02d" % i, descs, ids)
    fown.image("own", own_all, own_ids)
    for lay in (folder, fbase, fown):
        lay.close()
    with open(stamp_file, "w") as f:
        f.write(stamp)
    print("mkfolder: wrote %s/folder (%d images), folder-base, folder-own" % (out, n))


if __name__ == "__main__":
    main(sys.argv[1:])
