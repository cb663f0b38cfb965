#!/usr/bin/env python3
"""Fill tests/fuzz/seeds/{layer,manifest,image,record}/ from testdata/ (standard library only).

usage: make_seeds.py [--check]    (from anywhere; paths are relative to this file)

  layer/     every distinct layer blob of the images in testdata/ (tar, gzip, zstd; uncompressed
             tars cut after their end-of-archive marker), plus a few written here
  manifest/  every distinct JSON document of those images (manifest.json, index.json, OCI
             manifests, configs, repositories, v1 json), plus documents that name the fixed
             members of fuzz_manifest.c (blobs named by sha256 of a label, not of the content)
  image/     small whole images: the docker-save, legacy, oci-archive and broken tarballs of
             testdata/, repacked without directory members and the outer tar's padding
             (every member keeps its bytes: digests hold), plus the gzip and zstd tarballs
  record/    entry records in rec_export's format (layers/record_io.c) of the tar and gzip
             layer seeds, listed with tarfile and encoded here, plus a few written by hand;
             the checksum is left zero: fuzz_record.c seals every input before importing it

The seed directories are rewritten from scratch; running twice gives identical files.
--check only reports what would change and exits 1 if anything would.  Total size is kept
under 1 MB (the script stops if it is not).
"""
import base64
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TESTDATA = os.path.join(ROOT, "testdata")
MAX_TOTAL = 1024 * 1024
MAX_LAYER = 48 * 1024   # a larger layer blob is not a useful seed
MAX_IMAGE = 48 * 1024   # same for a whole image (after repacking)
# Whole images from testdata/ec: only those whose point is the image, not one layer (every
# layer of every image is a layer seed already).
EC_IMAGES = ("EC12", "EC14", "EC35", "EC36", "EC38", "EC41-", "EC46-", "EC49", "EC50a", "EC50c",
             "EC50e", "EC51", "EC63")
# Folders of many small variants whose point is their JSON (manifest seeds already): only
# their compressed tarballs become image seeds.
COMPRESSED_ONLY = ("json", "dir")
# Variants of a larger image whose point is in its JSON (a manifest seed already).
SKIP_IMAGES = ("docker25-manifests-null.tar", "docker25-scrambled-oci-order.tar",
               "lowercase-keys.docker.tar", "missing-layer-member.docker.tar")
# Images taken as they are, not repacked: their point is how the outer tar stores members.
RAW_IMAGES = ("S1-sparse-",)
# Images nothing is taken from: 260 zero-filled layers and their JSON, like every other.
SKIP_HARVEST = ("S3-docker-save-big-then-small.tar.gz",)

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"
ID1 = "1" * 64
ID2 = "2" * 64


def label_hex(label):
    """The blob names fuzz_manifest.c uses: sha256 of a fixed label."""
    return hashlib.sha256(label.encode()).hexdigest()


FIXED = {k: label_hex("imgstat-fuzz " + k) for k in
         ("layer", "layer2", "config", "manifest", "index", "input")}


def kind(data):
    """'json', 'gzip', 'zstd', 'xz', 'bzip2', 'tar' or None."""
    head = data[:512].lstrip()
    if head[:1] in (b"{", b"["):
        return "json"
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:4] == b"\x28\xb5\x2f\xfd" or (len(data) >= 4 and data[0] & 0xF0 == 0x50
                                           and data[1:4] == b"\x2a\x4d\x18"):
        return "zstd"
    if data[:6] == b"\xfd7zXZ\0":
        return "xz"
    if data[:3] == b"BZh":
        return "bzip2"
    if len(data) == 0 or data[257:262] == b"ustar" or data[:1024] == b"\0" * len(data[:1024]):
        return "tar"
    return None


def tar_size(hdr):
    f = hdr[124:136]
    if f[0] & 0x80:  # base-256
        return int.from_bytes(bytes([f[0] & 0x7F]) + f[1:], "big")
    s = f.split(b"\0")[0].strip()
    return int(s, 8) if s else 0


def cut_tar(data):
    """An uncompressed tar cut after its end marker (two zero blocks kept)."""
    off = 0
    try:
        while off + 512 <= len(data):
            hdr = data[off:off + 512]
            if hdr == b"\0" * 512:
                return data[:off] + b"\0" * 1024
            off += 512 + (tar_size(hdr) + 511) // 512 * 512
    except ValueError:
        pass
    return data


def slug(s):
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in s)
    return keep[:60].strip("._") or "x"


def short_member(name):
    """A readable tag for a member: 'v1-<hex8>-layer' for <hex>/layer.tar, 'blob-<hex8>' ..."""
    parts = name.strip("/").split("/")
    if parts[-1] in ("layer.tar", "json") and len(parts) >= 2:
        return "v1-" + parts[-2][:8] + "-" + parts[-1].split(".")[0]
    if "blobs" in parts:
        return "blob-" + parts[-1][:8]
    return slug(parts[-1])


class Seeds:
    def __init__(self):
        self.files = {"layer": {}, "manifest": {}, "image": {}, "record": {}}
        self.seen = {k: set() for k in self.files}

    def add(self, corpus, name, data):
        h = hashlib.sha256(data).hexdigest()
        if h in self.seen[corpus]:
            return
        self.seen[corpus].add(h)
        name = slug(name)
        while name in self.files[corpus]:
            name += "_"
        self.files[corpus][name] = data


def members_of_tar(path):
    """(name, bytes) of every regular member; [] when Python cannot read it (zstd)."""
    try:
        with tarfile.open(path) as t:
            out = []
            for m in t.getmembers():
                if m.isreg():
                    out.append((m.name, t.extractfile(m).read()))
            return out
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile):
        return []


def members_of_dir(path):
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as fh:
                    out.append((os.path.relpath(p, path), fh.read()))
    return out


def harvest(seeds, tag, members):
    for name, data in members:
        k = kind(data)
        base = name.rstrip("/").split("/")[-1]
        if k == "json" or base in ("repositories", "json", "index.json", "manifest.json"):
            if len(data) <= MAX_LAYER:
                seeds.add("manifest", tag + "--" + short_member(name), data)
        elif k in ("tar", "gzip", "zstd", "xz", "bzip2") and base not in ("oci-layout", "VERSION"):
            blob = cut_tar(data) if k == "tar" else data
            if len(blob) <= MAX_LAYER:
                seeds.add("layer", tag + "--" + short_member(name) + "." + k, blob)


def repack(path):
    """The image tarball without directory and VERSION members and without padding after its
    end marker.  Members keep their bytes, so digests and diff_ids still hold (--verify)."""
    out = io.BytesIO()
    with tarfile.open(path) as src, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        last_end = 0
        for m in src.getmembers():
            if m.isdir() or m.name.endswith("/VERSION"):
                continue  # nothing reads them
            data = src.extractfile(m).read() if m.isreg() else None
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
            last_end = dst.offset
    raw = out.getvalue()
    return raw[:last_end] + b"\0" * 1024


def from_testdata(seeds):
    images = []
    for dirpath, dirnames, filenames in os.walk(TESTDATA):
        dirnames.sort()
        rel = os.path.relpath(dirpath, TESTDATA)
        if os.path.isfile(os.path.join(dirpath, "oci-layout")) or \
                os.path.isfile(os.path.join(dirpath, "index.json")) or \
                os.path.isfile(os.path.join(dirpath, "version")):  # a dir transport directory
            tag = slug(rel.replace("/", "-"))
            harvest(seeds, tag, members_of_dir(dirpath))
            dirnames[:] = []
            continue
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            if f == "cases.json":
                continue
            images.append(p)
    for p in images:
        if os.path.basename(p) in SKIP_HARVEST:
            continue
        tag = slug(os.path.basename(p).split(".")[0])
        harvest(seeds, tag, members_of_tar(p))
        if os.path.basename(os.path.dirname(p)) == "ec" and \
                not os.path.basename(p).startswith(EC_IMAGES) or \
                os.path.basename(p) in SKIP_IMAGES:
            continue
        # tar/ and the codec layouts: their point is a layer (a layer seed already)
        if os.path.basename(os.path.dirname(p)) == "tar" or p.endswith(".oci.tar") and \
                os.path.basename(os.path.dirname(p)) == "codec":
            continue
        with open(p, "rb") as fh:
            raw = fh.read()
        k = kind(raw)
        if os.path.basename(os.path.dirname(p)) in COMPRESSED_ONLY and \
                k not in ("gzip", "zstd", "xz", "bzip2"):
            continue
        if k in ("gzip", "zstd", "xz", "bzip2") or os.path.basename(p).startswith(RAW_IMAGES):
            img = raw
        else:
            try:
                img = repack(p)
            except (tarfile.TarError, EOFError, OSError):
                img = raw  # broken on purpose (truncated, not an archive): keep as it is
        if len(img) <= MAX_IMAGE:
            seeds.add("image", os.path.basename(p), img)


def tar_bytes(entries, gz=False):
    """A small tar: entries are (name, bytes) files, (name, None, target) symlinks,
    (name, 'dir') directories or (name, 'hard', target) hard links."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e[0])
            ti.mtime = 0
            if len(e) == 3 and e[1] is None:
                ti.type, ti.linkname = tarfile.SYMTYPE, e[2]
                t.addfile(ti)
            elif len(e) == 3 and e[1] == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
                t.addfile(ti)
            elif e[1] == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.size = len(e[1])
                t.addfile(ti, io.BytesIO(e[1]))
        end = t.offset
    raw = out.getvalue()[:end] + b"\0" * 1024
    if gz:
        return gzip.compress(raw, mtime=0)
    return raw


def synthetic(seeds):
    """Seeds that reach what testdata/ does not: the fixed members of fuzz_manifest.c,
    inline data, every entry type and whiteout kind in one layer, gzip/zstd framing."""
    layer = tar_bytes([
        ("etc", "dir"), ("etc/passwd", b"root:x:0:0\n"), ("etc/link", None, "passwd"),
        ("etc/hard", "hard", "etc/passwd"), ("a/b/c", b"abc"), ("a/.wh.gone", b""),
        ("a/b/.wh..wh..opq", b""), ("x/../y", b"clamped"), ("./z", b"z"),
        ("d/s", None, "../etc"), ("d/s/through", b"t"), (".wh..wh.plnk", "dir"),
    ])
    seeds.add("layer", "synthetic-all-kinds.tar", layer)
    seeds.add("layer", "synthetic-all-kinds.gzip", gzip.compress(layer, mtime=0))
    # two gzip members back to back (pigz --independent, eStargz)
    half = len(layer) // 1024 * 512
    seeds.add("layer", "synthetic-two-gzip-members.gzip",
              gzip.compress(layer[:half], mtime=0) + gzip.compress(layer[half:], mtime=0))
    # a zstd frame of raw blocks (Python has no zstd encoder), after a skippable frame
    seeds.add("layer", "synthetic-zstd-raw.zstd",
              b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"skip" + zstd_raw(layer))
    # xz and bzip2 (D6), each also as two streams, xz with stream padding between
    seeds.add("layer", "synthetic-all-kinds.xz", lzma.compress(layer, format=lzma.FORMAT_XZ))
    seeds.add("layer", "synthetic-two-xz-streams.xz",
              lzma.compress(layer[:half], format=lzma.FORMAT_XZ) + b"\0" * 4 +
              lzma.compress(layer[half:], format=lzma.FORMAT_XZ))
    seeds.add("layer", "synthetic-all-kinds.bzip2", bz2.compress(layer, 9))
    seeds.add("layer", "synthetic-two-bzip2-streams.bzip2",
              bz2.compress(layer[:half], 9) + bz2.compress(layer[half:], 9))
    seeds.add("layer", "synthetic-empty", b"")
    seeds.add("layer", "synthetic-long-names.tar", tar_bytes([
        ("p/" + "n" * 200 + "/f", b"1"), ("q", None, "t" * 300), ("p/" + "n" * 200 + "/h", "hard", "q"),
    ]))

    L, G, C, M, I, X = (FIXED[k] for k in ("layer", "layer2", "config", "manifest", "index", "input"))
    # A: manifest.json naming config.json, layer.tar, layer2.tar.gz, link.tar
    seeds.add("manifest", "fixed-A-docker-manifest.json", json.dumps(
        [{"Config": "config.json", "RepoTags": ["app:1"], "Layers": ["layer.tar", "layer2.tar.gz"]}]).encode())
    seeds.add("manifest", "fixed-A-docker-two-images.json", json.dumps(
        [{"Config": "config.json", "RepoTags": ["app:1", "docker.io/library/app:2"], "Layers": ["link.tar"]},
         {"config": "config.json", "repoTags": None, "layers": ["./layer.tar", "layer2.tar.gz", "layer.tar"]}]).encode())
    # B: index.json naming the fixed manifest, nested index, inline manifest
    seeds.add("manifest", "fixed-B-index.json", json.dumps({
        "schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
            {"mediaType": MT_MANIFEST, "digest": "sha256:" + M, "size": 1,
             "annotations": {"org.opencontainers.image.ref.name": "app:1"},
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": MT_INDEX, "digest": "sha256:" + I, "size": 1,
             "annotations": {"io.containerd.image.name": "docker.io/library/app:2"}},
            {"digest": "sha256:" + I, "size": 1},
            {"mediaType": MT_MANIFEST, "digest": "sha256:" + M, "size": 1,
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]}).encode())
    small = tar_bytes([("etc/os-release", b"ID=fuzz\n"), ("bin/sh", None, "busybox")])
    inline_manifest = json.dumps({
        "schemaVersion": 2, "config": {"mediaType": MT_CONFIG, "digest": "sha256:" + C, "size": 1},
        "layers": [{"mediaType": MT_TAR, "digest": "sha256:" + "e" * 64, "size": len(small),
                    "data": base64.b64encode(small).decode()},
                   {"mediaType": MT_TGZ, "digest": "sha256:" + G, "size": 1}]})
    seeds.add("manifest", "fixed-B-index-inline.json", json.dumps({
        "schemaVersion": 2, "manifests": [
            {"mediaType": MT_MANIFEST, "digest": "sha256:" + "f" * 64, "size": len(inline_manifest),
             "data": base64.b64encode(inline_manifest.encode()).decode()}]}).encode())
    # C: an OCI image manifest naming the fixed config and layers
    seeds.add("manifest", "fixed-C-manifest.json", json.dumps({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": "sha256:" + C, "size": 1},
        "layers": [{"mediaType": MT_TAR, "digest": "sha256:" + L, "size": 1},
                   {"mediaType": MT_TGZ, "digest": "sha256:" + G, "size": 1}]}).encode())
    seeds.add("manifest", "fixed-C-manifest-inline.json", inline_manifest.encode())
    seeds.add("manifest", "fixed-C-artifact.json", json.dumps({
        "schemaVersion": 2, "artifactType": "application/vnd.example+type",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:" + C, "size": 2},
        "layers": []}).encode())
    # D: a config
    seeds.add("manifest", "fixed-D-config.json", json.dumps({
        "architecture": "arm64", "os": "linux", "variant": "v8",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + L, "sha256:" + G]}}).encode())
    # E: legacy repositories
    seeds.add("manifest", "fixed-E-repositories.json", json.dumps({"app": {"1": ID1, "2": ID2}}).encode())
    go_rules(seeds, L, G, C, M)


def go_rules(seeds, L, G, C, M):
    """Documents whose meaning is in Go's JSON rules (docs/rules.md J1-J6, F6, F7): keys
    written twice or spelled in another case (U+017F LONG S and U+212A KELVIN SIGN fold to
    S and K, U+0131 does not fold), null, numbers that are no int64, bytes after the document,
    lone surrogates, and the dir transport's manifest.json (variant F of fuzz_manifest.c)."""
    lay = '{"mediaType":"%s","digest":"sha256:%s","size":1}'
    l1, l2 = lay % (MT_TAR, L), lay % (MT_TGZ, G)
    cfg = '{"mediaType":"%s","digest":"sha256:%s","size":1}' % (MT_CONFIG, C)
    docs = {
        "J1-A-docker-dup-folded.json":
            '[{"Config":"missing.json","CONFIG":"config.json","RepoTags":["old:1"],'
            '"repotags":["app:1"],"Layers":["layer.tar"],"LAYER\\u017f":["layer.tar",'
            '"layer2.tar.gz"]}]',
        "J1-B-index-dup-folded.json":
            '{"schemaVersion":2,"manifests":[],"Manifests":[{"mediaType":"%s","digest":'
            '"sha256:%s","size":1,"annotations":{"org.opencontainers.image.ref.name":"old",'
            '"org.opencontainers.image.ref.name":"app:1"}}],"man\\u0131fests":null}' % (MT_MANIFEST, M),
        "F6-B-index-descriptor-type.json":
            '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.descriptor.v1+json",'
            '"digest":"sha256:%s","size":1,"platform":{"os":"linux","architecture":"arm64"}}]}' % M,
        "J1-C-manifest-dup-folded.json":
            '{"schemaVersion":2,"config":{"digest":"sha256:%s"},"CONFIG":%s,"layers":[%s],'
            '"LAYERS":[%s,%s],"layer\\u017f":[{"digest":"sha256:%s"}]}' % (L, cfg, l1, l1, l2, G),
        "J4-C-manifest-numbers.json":
            '{"schemaVersion":2.0,"config":%s,"layers":[{"digest":"sha256:%s","size":1e3},'
            '{"digest":"sha256:%s","size":-1}]}' % (cfg, L, G),
        "J6-C-manifest-nulls.json":
            '{"schemaVersion":2,"config":%s,"config":null,"layers":[%s,null],"layers":null,'
            '"annotations":null}' % (cfg, l1),
        "J2-C-manifest-trailing.json": '{"schemaVersion":2,"config":%s,"layers":[%s]} }' % (cfg, l1),
        "J3-C-manifest-surrogates.json":
            '{"schemaVersion":2,"config":%s,"layers":[%s],"annotations":{"\\ud800x":"\\udc00",'
            '"k":"\\ud83d\\ude00\\u0000"}}' % (cfg, l1),
        "J1-D-config-folded.json":
            '{"os":"linux","\\u212aarch":"x","Architecture":"arm64","rootfs":{"type":"layers",'
            '"diff_ids":["sha256:%s"]},"RootFS":{"Diff_IDs":["sha256:%s","sha256:%s"],'
            '"d\\u0131ff_ids":[]}}' % (L, L, G),
        "F8-D-config-fewer-diff-ids.json":
            '{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":'
            '["sha256:%s"]}}' % L,
        "J6-E-repositories-dup.json":
            '{"app":{"1":"%s"},"app":{"2":"%s","2":"%s"},"APP":{"1":null}}' % (ID1, ID1, ID2),
        "F7-F-dir-index.json":
            '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":'
            '"sha256:%s","size":1,"platform":{"os":"linux","architecture":"arm64"}}]}'
            % (MT_INDEX, MT_MANIFEST, M),
        "F7-F-dir-schema1.json":
            '{"schemaVersion":1,"name":"app","tag":"1","fsLayers":[{"blobSum":"sha256:%s"}]}' % L,
    }
    for name, text in docs.items():
        seeds.add("manifest", "go-" + name, text.encode())


def zstd_raw(data):
    """A zstd frame holding data in raw blocks (no compression, no checksum)."""
    out = bytearray(b"\x28\xb5\x2f\xfd")
    out += bytes([0xA0])                      # FCS 4 bytes, single segment
    out += len(data).to_bytes(4, "little")
    blocks = [data[i:i + 65536] for i in range(0, len(data), 65536)] or [b""]
    for n, b in enumerate(blocks):
        last = 1 if n == len(blocks) - 1 else 0
        out += ((len(b) << 3) | last).to_bytes(3, "little")  # block type 0 = raw
        out += b
    return bytes(out)


# ---- entry records (layers/record_io.c, REC_FORMAT_VERSION 1) -------------------------------

REC_TYPES = {tarfile.REGTYPE: 1, tarfile.AREGTYPE: 1, tarfile.CONTTYPE: 1, tarfile.DIRTYPE: 2,
             tarfile.SYMTYPE: 3, tarfile.LNKTYPE: 4, tarfile.CHRTYPE: 5, tarfile.BLKTYPE: 6,
             tarfile.FIFOTYPE: 7}
MAX_RECORD = 8 * 1024


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def record_bytes(entries):
    """rec_export's bytes for entries (type, raw path, link or None, size): directories
    interned by raw segment, numbered in order of first use; checksum left zero."""
    dirs, table = {}, []

    def intern(path):
        parent = 0
        for seg in path.split(b"/"):
            if (parent, seg) not in dirs:
                table.append((parent, seg))
                dirs[(parent, seg)] = len(table)
            parent = dirs[(parent, seg)]
        return parent

    body = bytearray()
    for typ, path, link, size in entries:
        flags = typ | (0x10 if link is not None else 0) | (0x20 if size else 0)
        d, name = 0, path
        if len(path) <= 4096 and b"/" in path:
            head, name = path.rsplit(b"/", 1)
            d = intern(head)
        body += bytes([flags]) + varint(d) + varint(len(name)) + name
        if link is not None:
            body += varint(len(link)) + link
        if size:
            body += varint(size)
    out = bytearray(b"IMGR\x01") + varint(len(table))
    for parent, seg in table:
        out += varint(parent) + varint(len(seg)) + seg
    return bytes(out + varint(len(entries)) + body + b"\0" * 8)


def layer_entries(blob):
    """What tarfile lists in a tar or gzip layer blob, or None when it cannot read it."""
    try:
        with tarfile.open(fileobj=io.BytesIO(blob)) as t:
            out = []
            for m in t.getmembers():
                link = m.linkname.encode("utf-8", "surrogateescape") if m.type in (
                    tarfile.SYMTYPE, tarfile.LNKTYPE) else None
                out.append((REC_TYPES.get(m.type, 8),
                            m.name.encode("utf-8", "surrogateescape"), link,
                            m.size if m.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0))
            return out
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile, zlib_error()):
        return None


def zlib_error():
    import zlib
    return zlib.error


def records(seeds):
    for name, blob in sorted(seeds.files["layer"].items()):
        ents = layer_entries(blob) if kind(blob) in ("tar", "gzip") else None
        if ents:
            rec = record_bytes(ents)
            if len(rec) <= MAX_RECORD:
                seeds.add("record", name.rsplit(".", 1)[0] + ".rec", rec)
    seeds.add("record", "empty.rec", record_bytes([]))
    deep = b"/".join([b"d"] * 2047) + b"/f"          # 4096 bytes: the longest path interned
    seeds.add("record", "deepest-path.rec", record_bytes([(1, deep, None, 1),
                                                           (1, deep + b"x", None, 2)]))
    seeds.add("record", "raw-spellings.rec", record_bytes([
        (2, b"./", None, 0), (1, b"/abs", None, 1), (1, b"a//b/./c/../d", None, 2),
        (1, b"../../up", None, 0), (3, b"l", b"", 0), (4, b"h", b"a//b", 0),
        (1, b"\xff\xfe/\x80", None, (1 << 64) - 1)]))


def write(seeds, check):
    total = sum(len(d) for c in seeds.files.values() for d in c.values())
    if total > MAX_TOTAL:
        sys.exit(f"make_seeds: {total} bytes of seeds, more than {MAX_TOTAL}")
    changed = []
    for corpus, files in seeds.files.items():
        d = os.path.join(HERE, "seeds", corpus)
        old = {}
        if os.path.isdir(d):
            for f in os.listdir(d):
                with open(os.path.join(d, f), "rb") as fh:
                    old[f] = fh.read()
        for f in sorted(set(old) | set(files)):
            if old.get(f) != files.get(f):
                changed.append(f"{corpus}/{f}")
        if not check:
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            for f, data in files.items():
                with open(os.path.join(d, f), "wb") as fh:
                    fh.write(data)
    for corpus, files in seeds.files.items():
        size = sum(len(x) for x in files.values())
        print(f"seeds/{corpus}: {len(files)} files, {size} bytes")
    print(f"total {total} bytes; {len(changed)} files {'would change' if check else 'changed'}")
    return 1 if check and changed else 0


def main():
    check = "--check" in sys.argv[1:]
    seeds = Seeds()
    from_testdata(seeds)
    synthetic(seeds)
    records(seeds)
    return write(seeds, check)


if __name__ == "__main__":
    sys.exit(main())
