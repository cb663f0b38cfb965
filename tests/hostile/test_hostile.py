#!/usr/bin/env python3
"""The hostile suite (issue 5, item 7): broken and crafted images, each built here.

usage: test_hostile.py IMGSTAT [-k SUBSTRING] [--list] [--keep] [-v] [--record-fuzzer PATH]

Every case writes its input into a fresh temporary directory with this file's own code
(tar headers written byte by byte, zlib for gzip, raw zstd frames, json, zipfile; no fixture
files, nothing downloaded) and runs the CLI on it once.  Unless a case says otherwise it must:

  * exit with status 1 (and never be killed by a signal: that is a crash);
  * print nothing on stdout;
  * print exactly one line on stderr, starting "imgstat: " and naming the input path
    (a sanitizer report or a second line fails this);
  * say something specific: the line must contain one of the case's words, if it lists any
    (compared case-insensitively);
  * finish within its time bound (TIME_BOUND unless stated) and stay within its peak
    memory bound (MEM_BOUND unless stated), measured with wait4()'s ru_maxrss of the run.

Under AddressSanitizer (detected from the binary) time bounds are multiplied by
ASAN_TIME_FACTOR, memory bounds by ASAN_MEM_FACTOR plus ASAN_MEM_EXTRA (redzones, shadow
memory and the quarantine are ASan's, not imgstat's).

Peak memory is wait4()'s ru_maxrss, which also counts the child before its exec, when it is
still a copy of the process that forked it.  So commands are run by a runner: a second
interpreter started first (`--runner`), which builds nothing and stays at its first size
(~20 MiB), however big this script grows building inputs.  Readings cannot go below that
floor (-v prints it), which is under every bound, so a reading over a bound is imgstat's own.

Cases the current binary fails stay in the suite: KNOWN_FAILING names them with the reason,
and they are reported as failures ("FAIL (known)") until fixed.  Prints one line per
failure, then "N passed, N failed"; exit 1 if any failed.  Python 3 standard library only.
"""
import base64
import bz2
import hashlib
import itertools
import json
import lzma
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402  (the counted checks every test script shares)

MiB = 1024 * 1024
GiB = 1024 * MiB

TIME_BOUND = 10.0          # s for any small input; the images here are a few KiB
MEM_BOUND = 96 * MiB       # peak RSS for any small input (imgstat needs ~10 MiB)
BOMB_SIZE = 4 * GiB        # bytes of zeros in the one file of a decompression bomb
BOMB_MEM_BOUND = 64 * MiB  # a bomb streams through: constant memory
# A bomb is decompressed in full (the data of its one entry must be skipped, and gzip cannot
# seek), so its time is proportional to its size.  Measured here on 4 GiB of zeros:
# ISA-L 0.42 s/GiB (1.3 under ASan), zlib 5.8 s/GiB from a file and 6.8 through a pipe
# (zlib inflates runs of zeros byte by byte; `gzip -d` takes 4.3 s/GiB), zstd 0.1-0.2 s/GiB.
# The bounds give a slower CI machine 2-6x headroom.
BOMB_SECONDS_PER_GIB = {"ISA-L": 2.5, "zlib": 15.0}
ZSTD_SECONDS_PER_GIB = 2.5
# liblzma and libbz2 inflate zeros at about 0.35 and 0.25 GiB per CPU second here (xz -dc,
# bzip2 -dc of 1 GiB of zeros: 2.8 s and 4.0 s of CPU): the bounds leave 2-4x headroom.
OTHER_SECONDS_PER_GIB = {"xz": 10.0, "bzip2": 15.0}
ASAN_TIME_FACTOR = 3.0
# ASan's own resident memory grows with the allocations (redzones, the quarantine of up to
# 256 MiB, shadow): measured +5 MiB on the small inputs and x4.9 on the million-entry layer.
ASAN_MEM_FACTOR = 2.0
ASAN_MEM_EXTRA = 128 * MiB
HARD_TIMEOUT = 600.0        # a run is killed after this, whatever its bound

# name -> why the current binary fails it (still run, still reported as a failure)
KNOWN_FAILING = {
}

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_TZST = "application/vnd.oci.image.layer.v1.tar+zstd"


# ---- tar, written byte by byte ---------------------------------------------------------

def tar_header(name, size=0, typeflag=b"0", linkname="", size_field=None):
    """One ustar header block; size_field (12 raw bytes) overrides the size."""
    h = bytearray(512)
    nb = name.encode() if isinstance(name, str) else name
    if len(nb) > 100:
        raise ValueError("name too long for ustar: " + repr(name))
    h[0:len(nb)] = nb
    h[100:108] = b"0000644\0" if typeflag != b"5" else b"0000755\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    lb = linkname.encode() if isinstance(linkname, str) else linkname
    h[157:157 + len(lb)] = lb
    h[257:265] = b"ustar\x0000"
    h[265:269] = b"root"
    h[297:301] = b"root"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pad(n):
    return b"\0" * (-n % 512)


def tar(entries, end=True):
    """entries: (name, bytes) files, (name, None) directories, ("sym", name, target),
    ("hard", name, target)."""
    out = []
    for e in entries:
        if e[0] in ("sym", "hard") and len(e) == 3:
            out.append(tar_header(e[1], 0, b"2" if e[0] == "sym" else b"1", e[2]))
        elif e[1] is None:
            out.append(tar_header(e[0].rstrip("/") + "/", 0, b"5"))
        else:
            out.append(tar_header(e[0], len(e[1])) + e[1] + pad(len(e[1])))
    if end:
        out.append(b"\0" * 1024)
    return b"".join(out)


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def gz(b):
    return zlib.compress(b, 6, 31)  # wbits 31: a gzip member, mtime 0


def zstd_raw(data, block=512, window_log=17, corrupt_block=None):
    """A zstd frame of raw blocks (Python has no zstd encoder); the block numbered
    corrupt_block gets the reserved block type 3."""
    out = bytearray(b"\x28\xb5\x2f\xfd")
    out += bytes([0x00, (window_log - 10) << 3])  # FHD: no FCS, no checksum; window descriptor
    blocks = [data[i:i + block] for i in range(0, len(data), block)] or [b""]
    for n, b in enumerate(blocks):
        btype = 3 if n == corrupt_block else 0
        out += ((len(b) << 3) | (btype << 1) | (n == len(blocks) - 1)).to_bytes(3, "little")
        out += b
    return bytes(out)


# ---- images -------------------------------------------------------------------------

BASE_FILES = [("etc", None), ("etc/hostname", b"hostile\n"), ("bin", None),
              ("bin/busybox", b"\x7fELF" + b"x" * 96), ("sym", "bin/sh", "busybox")]


class Layer:
    def __init__(self, tar_bytes, codec=None):
        self.tar = tar_bytes
        self.diff_id = "sha256:" + sha256(tar_bytes)
        self.blob = {None: tar_bytes, "gzip": gz(tar_bytes) if codec == "gzip" else None,
                     "zstd": zstd_raw(tar_bytes) if codec == "zstd" else None}[codec]
        self.media_type = {None: MT_TAR, "gzip": MT_TGZ, "zstd": MT_TZST}[codec]
        self.ext = {None: "tar", "gzip": "tar.gz", "zstd": "tar.zst"}[codec]


def layer(entries=None, codec=None):
    return Layer(tar(BASE_FILES if entries is None else entries), codec)


def config_json(layers, diff_ids=None):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers",
                   "diff_ids": diff_ids if diff_ids is not None else [l.diff_id for l in layers]},
    }).encode()


def docker_members(layers, manifest=None, config=None, names=None):
    """The members of a docker-save tarball: manifest.json first, then config, layers."""
    names = names or ["l%d/layer.%s" % (i, l.ext) for i, l in enumerate(layers)]
    if manifest is None:
        manifest = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": names}]
    man = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    cfg = config if config is not None else config_json(layers)
    m = [("manifest.json", man), ("config.json", cfg)]
    m += [(n, l.blob) for n, l in zip(names, layers)]
    return m


def docker_tar(layers, **kw):
    extra = kw.pop("extra", [])
    return tar(docker_members(layers, **kw) + extra)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def oci_layout(root, layers, index=None, manifest=None, config=None, skip_blobs=(),
               extra_blobs=None):
    """An OCI image-layout directory; returns (root, {name: digest hex}).
    manifest/config/index: replacements (objects or bytes) for the generated documents."""
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    write(os.path.join(root, "oci-layout"), b'{"imageLayoutVersion":"1.0.0"}')
    blobs = {}

    def put(blob, name):
        h = sha256(blob)
        blobs[name] = h
        if name not in skip_blobs:
            write(os.path.join(root, "blobs", "sha256", h), blob)
        return h

    cfg = config if config is not None else config_json(layers)
    cfg = cfg if isinstance(cfg, bytes) else json.dumps(cfg).encode()
    ch = put(cfg, "config")
    descs = [{"mediaType": l.media_type, "digest": "sha256:" + put(l.blob, "layer%d" % i),
              "size": len(l.blob)} for i, l in enumerate(layers)]
    man = manifest if manifest is not None else {
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": "sha256:" + ch, "size": len(cfg)},
        "layers": descs}
    man = man if isinstance(man, bytes) else json.dumps(man).encode()
    mh = put(man, "manifest")
    for name, blob in (extra_blobs or {}).items():
        put(blob, name)
    idx = index if index is not None else {
        "schemaVersion": 2, "mediaType": MT_INDEX,
        "manifests": [{"mediaType": MT_MANIFEST, "digest": "sha256:" + mh, "size": len(man),
                       "annotations": {"org.opencontainers.image.ref.name": "hostile:1"}}]}
    write(os.path.join(root, "index.json"), idx if isinstance(idx, bytes) else json.dumps(idx).encode())
    return root, blobs


def tree_to_tar(root):
    """The files of a layout directory as an oci-archive tarball (name order)."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                entries.append((os.path.relpath(p, root), fh.read()))
    return tar(entries)


# ---- bombs ------------------------------------------------------------------------

def gzip_bomb(path, size):
    """A gzip layer whose tar holds one file of `size` zero bytes, written without ever
    holding it: deflate blocks after a full flush repeat exactly, CRC-32 is computed in
    1 MiB steps."""
    head = tar_header("bomb", size)
    tail = pad(size) + b"\0" * 1024
    chunk = b"\0" * MiB
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    rep = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    if co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH) != rep:
        raise RuntimeError("deflate output of a repeated chunk is not stable")
    n, rest = divmod(size, MiB)
    crc = zlib.crc32(head)
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(b"\0" * rest, crc)
    crc = zlib.crc32(tail, crc)
    total = len(head) + size + len(tail)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        f.write(first)
        for _ in range(n - 1):  # the first of the n chunks was compressed above (rep)
            f.write(rep)
        f.write(rep)
        f.write(co.compress(b"\0" * rest + tail) + co.flush(zlib.Z_FINISH))
        f.write(struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF))
    return total


def zstd_bomb(size, window_log=17):
    """A zstd layer whose tar holds one file of `size` zero bytes: RLE blocks of 128 KiB."""
    head = tar_header("bomb", size)
    tail = pad(size) + b"\0" * 1024
    out = bytearray(b"\x28\xb5\x2f\xfd" + bytes([0x00, (window_log - 10) << 3]))
    out += (len(head) << 3).to_bytes(3, "little") + head          # raw block
    blk = 128 * 1024
    n, rest = divmod(size, blk)
    rle = ((blk << 3) | (1 << 1)).to_bytes(3, "little") + b"\0"   # RLE block of zeros
    out += rle * n
    if rest:
        out += ((rest << 3) | (1 << 1)).to_bytes(3, "little") + b"\0"
    out += ((len(tail) << 3) | 1).to_bytes(3, "little") + tail    # last, raw
    return bytes(out)


# ---- the cases --------------------------------------------------------------------

CASES = []


def case(name, hint=(), exit=1, args=(), time_bound=TIME_BOUND, mem_bound=MEM_BOUND,
         stdin=False, stdout=None, warning=False, tool=None, pipe=False, asan_extra=0):
    """Register a builder(tmpdir) -> input path.  hint: words, one of which the message
    should hold.  stdin: the built file is fed on standard input and the input is "-";
    pipe: the same through a pipe (read in one pass), not as the file itself.
    stdout: the exact report expected (exit 0).  warning: exit 0 with one warning line.
    tool="record": the input (a directory of files) goes to the fuzz_record target given
    with --record-fuzzer instead of imgstat; it must exit 0 (no crash, leak or broken
    oracle), skipped when no target is given.  asan_extra: memory ASan may add beyond
    ASAN_MEM_EXTRA for this case (a full quarantine, where imgstat frees a lot)."""
    def deco(fn):
        CASES.append(dict(name=name, build=fn, hint=hint, exit=exit, args=list(args),
                          time_bound=time_bound, mem_bound=mem_bound, stdin=stdin,
                          stdout=stdout, warning=warning, tool=tool, pipe=pipe,
                          asan_extra=asan_extra))
        return fn
    return deco


# -- not an image at all

@case("empty-file", hint=("empty",))
def _(d):
    return write(os.path.join(d, "empty.tar"), b"")


@case("not-a-tar", hint=("not a tar", "not an image", "not a container", "archive"))
def _(d):
    return write(os.path.join(d, "notes.txt"), b"This is a text file, not an image.\n" * 40)


@case("zip", hint=("zip",))
def _(d):
    p = os.path.join(d, "image.zip")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("manifest.json", "[]")
        z.writestr("layer.tar", tar(BASE_FILES))
    return p


@case("plain-rootfs-tar", hint=("manifest.json", "rootfs", "not a container", "not an image"))
def _(d):
    return write(os.path.join(d, "rootfs.tar"), tar(BASE_FILES + [("usr/lib/libc.so", b"c" * 300)]))


@case("directory-no-layout", hint=("layout", "index.json"))
def _(d):
    p = os.path.join(d, "somedir")
    write(os.path.join(p, "README"), b"a directory, not an OCI layout\n")
    write(os.path.join(p, "blobs", "x"), b"x")
    return p


@case("missing-path", hint=("no such", "cannot open", "not found", "does not exist"))
def _(d):
    return os.path.join(d, "does-not-exist.tar")


# -- damaged archives and layers

def cut_in_layer(img, layer_blob):
    """Cut an image tarball halfway through the data of layer_blob."""
    at = img.index(layer_blob)
    return img[:at + len(layer_blob) // 2]


@case("truncated-outer-tar", hint=("truncat", "unexpected end", "premature", "short"))
def _(d):
    l = layer()
    img = docker_tar([l])
    return write(os.path.join(d, "truncated.tar"), cut_in_layer(img, l.blob))


@case("truncated-outer-tar-stdin", hint=("truncat", "unexpected end", "premature", "short"),
      stdin=True)
def _(d):
    l = layer()
    return write(os.path.join(d, "truncated.tar"), cut_in_layer(docker_tar([l]), l.blob))


@case("truncated-outer-tar-gzip", hint=("truncat", "unexpected end", "premature", "gzip"))
def _(d):
    img = gz(docker_tar([layer([("f%d" % i, bytes([i]) * 3000) for i in range(20)])]))
    return write(os.path.join(d, "truncated.tar.gz"), img[:len(img) * 2 // 3])


@case("not-a-tar-stdin", hint=("not a tar", "not an image", "not a container", "archive"),
      stdin=True)
def _(d):
    return write(os.path.join(d, "notes.txt"), b"plain text on a pipe\n" * 100)


@case("truncated-gzip-layer", hint=("gzip", "truncat", "unexpected end", "corrupt"))
def _(d):
    l = layer(codec="gzip")
    l.blob = l.blob[:len(l.blob) // 2]
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("corrupt-gzip-layer", hint=("gzip", "corrupt", "invalid", "damaged", "crc"))
def _(d):
    l = layer([("f%d" % i, bytes([65 + i]) * 2000) for i in range(8)], codec="gzip")
    b = bytearray(l.blob)
    for i in range(len(b) // 3, len(b) // 3 + 16):
        b[i] ^= 0x5A
    l.blob = bytes(b)
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("corrupt-zstd-layer", hint=("zstd", "corrupt"))
def _(d):
    l = layer(codec="zstd")
    l.blob = zstd_raw(l.tar, corrupt_block=3)
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("truncated-zstd-layer", hint=("zstd", "truncat", "unexpected end", "corrupt"))
def _(d):
    l = layer(codec="zstd")
    l.blob = l.blob[:len(l.blob) // 2]
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("zstd-window-too-large", hint=("zstd", "window", "memory", "corrupt"))
def _(d):
    l = layer(codec="zstd")
    l.blob = zstd_raw(l.tar, window_log=41)  # a 2 TiB window: must be refused, not allocated
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("garbage-in-layer", hint=("damaged", "checksum", "header", "corrupt", "tar"))
def _(d):
    t = bytearray(tar([("a", b"a" * 700), ("b", b"b" * 700), ("c", b"c" * 700)]))
    rnd = hashlib.sha512(b"garbage").digest() * 8
    t[1536:2048] = rnd[:512]  # the header of "b"
    l = Layer(bytes(t))
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("garbage-in-gzip-layer-stdin", hint=("damaged", "checksum", "header", "corrupt", "tar",
                                           "gzip"), stdin=True)
def _(d):
    t = bytearray(tar([("a", b"a" * 700), ("b", b"b" * 700), ("c", b"c" * 700)]))
    t[1536:2048] = (hashlib.sha512(b"garbage").digest() * 8)[:512]
    l = Layer(bytes(t), "gzip")
    l.blob = gz(bytes(t))
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("missing-blob-oci-dir", hint=("missing", "not found", "absent", "no such"))
def _(d):
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()], skip_blobs=("layer0",))
    return root


@case("missing-layer-member-docker", hint=("missing", "not found", "absent"))
def _(d):
    l = layer()
    m = docker_members([l])
    return write(os.path.join(d, "img.tar"), tar(m[:2]))


# -- JSON of the wrong shape

@case("manifest-json-object", hint=("array", "object"))
def _(d):
    l = layer()
    man = {"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["l0/layer.tar"]}
    return write(os.path.join(d, "img.tar"), docker_tar([l], manifest=json.dumps(man).encode()))


@case("layers-not-strings", hint=("string",))
def _(d):
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": [1, 2]}]
    return write(os.path.join(d, "img.tar"), docker_tar([layer()], manifest=man))


@case("config-a-number", hint=("string", "config"))
def _(d):
    man = [{"Config": 42, "RepoTags": ["hostile:1"], "Layers": ["l0/layer.tar"]}]
    return write(os.path.join(d, "img.tar"), docker_tar([layer()], manifest=man))


@case("repotags-numbers", hint=("string", "repotags"))
def _(d):
    man = [{"Config": "config.json", "RepoTags": [7, 8], "Layers": ["l0/layer.tar"]}]
    return write(os.path.join(d, "img.tar"), docker_tar([layer()], manifest=man))


@case("oci-digest-a-number", hint=("digest",))
def _(d):
    idx = {"schemaVersion": 2, "manifests": [{"mediaType": MT_MANIFEST, "digest": 12345, "size": 1}]}
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()], index=idx)
    return root


@case("oci-manifests-a-string", hint=("array", "manifests"))
def _(d):
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()],
                         index={"schemaVersion": 2, "manifests": "sha256:abc"})
    return root


@case("json-nested-100000-arrays", hint=("json", "nest", "deep"))
def _(d):
    man = b"[" * 100000 + b"]" * 100000
    return write(os.path.join(d, "img.tar"), docker_tar([layer()], manifest=man))


@case("json-nested-100000-objects-index", hint=("json", "nest", "deep"))
def _(d):
    idx = b'{"a":' * 100000 + b"1" + b"}" * 100000
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()], index=idx)
    return root


@case("diff-ids-count-differs", hint=("diff_ids",))
def _(d):
    ls = [layer(), layer([("etc/motd", b"hi\n")])]
    cfg = config_json(ls, diff_ids=[ls[0].diff_id])
    return write(os.path.join(d, "img.tar"), docker_tar(ls, config=cfg))


@case("oci-config-without-digest", hint=("digest", "config"))
def _(d):
    l = layer()
    man = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
           "config": {"mediaType": MT_CONFIG, "size": 2},
           "layers": [{"mediaType": MT_TAR, "digest": "sha256:" + sha256(l.blob),
                       "size": len(l.blob)}]}
    root, _ = oci_layout(os.path.join(d, "layout"), [l], manifest=man)
    return root


@case("oci-index-entry-without-digest", hint=("digest",))
def _(d):
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()],
                         index={"schemaVersion": 2, "manifests": [{"mediaType": MT_MANIFEST}]})
    return root


@case("newline-in-quoted-name", hint=("missing", "not found"))
def _(d):
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"],
            "Layers": ["l0/layer.tar\nimgstat: forged second line"]}]
    return write(os.path.join(d, "img.tar"), docker_tar([layer()], manifest=man))


# -- merge conflicts

HARDLINK_MISSING = [("etc", None), ("etc/passwd", b"root:x:0:0\n"), ("hard", "etc/shadow-link", "etc/shadow")]


@case("hardlink-to-missing-target", hint=("hard link", "hardlink", "missing"))
def _(d):
    return write(os.path.join(d, "img.tar"), docker_tar([layer(HARDLINK_MISSING)]))


@case("hardlink-to-missing-target-lenient", exit=0, args=["--lenient"], warning=True,
      stdout='{"total_files_num": 1, "total_files_size": 11}')
def _(d):
    return write(os.path.join(d, "img.tar"), docker_tar([layer(HARDLINK_MISSING)]))


@case("bare-whiteout", hint=("whiteout", ".wh."))
def _(d):
    l2 = layer([("etc", None), ("etc/.wh.", b"")])
    return write(os.path.join(d, "img.tar"), docker_tar([layer(), l2]))


# -- absurd numbers

ABSURD = b"\x80" + (2 ** 62).to_bytes(11, "big")  # base-256 size field: 4 EiB


def absurd_layer():
    return (tar_header("etc/passwd", size_field=ABSURD) + b"root:x:0:0\n" + pad(11)
            + tar_header("etc/group", 6) + b"root:x" + pad(6) + b"\0" * 1024)


@case("absurd-size-in-layer", hint=("truncat", "size", "damaged", "unexpected end", "short",
                                    "invalid"))
def _(d):
    return write(os.path.join(d, "img.tar"), docker_tar([Layer(absurd_layer())]))


@case("absurd-size-in-gzip-layer", hint=("truncat", "size", "damaged", "unexpected end",
                                         "short", "invalid", "gzip"))
def _(d):
    l = Layer(absurd_layer(), "gzip")
    l.blob = gz(absurd_layer())
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("absurd-size-in-outer-tar", hint=("truncat", "size", "damaged", "unexpected end",
                                        "short", "invalid"))
def _(d):
    l = layer()
    m = docker_members([l])
    body = b"".join(tar_header(n, len(b)) + b + pad(len(b)) for n, b in m[:2])
    body += tar_header(m[2][0], size_field=ABSURD) + m[2][1]
    return write(os.path.join(d, "img.tar"), body + b"\0" * 1024)


@case("absurd-size-in-outer-tar-stdin", hint=("truncat", "size", "damaged", "unexpected end",
                                              "short", "invalid"), stdin=True)
def _(d):
    l = layer()
    m = docker_members([l])
    body = b"".join(tar_header(n, len(b)) + b + pad(len(b)) for n, b in m[:2])
    body += tar_header(m[2][0], size_field=ABSURD) + m[2][1]
    return write(os.path.join(d, "img.tar"), body + b"\0" * 1024)


# -- confinement: nothing outside the archive or the layout directory

def decoy_manifest(d):
    """A valid manifest outside the layout, with the layer inline: reading it would succeed."""
    l = layer()
    cfg = config_json([l])
    man = json.dumps({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": "sha256:" + sha256(cfg), "size": len(cfg),
                   "data": base64.b64encode(cfg).decode()},
        "layers": [{"mediaType": MT_TAR, "digest": l.diff_id, "size": len(l.blob),
                    "data": base64.b64encode(l.blob).decode()}]}).encode()
    write(os.path.join(d, "outside.json"), man)
    write(os.path.join(d, "etc", "passwd"), man)
    return man


def traversal_index(digest):
    return {"schemaVersion": 2, "manifests": [{"mediaType": MT_MANIFEST, "digest": digest,
                                               "size": 100}]}


@case("digest-dotdot-etc-passwd", hint=("digest", "outside"))
def _(d):
    decoy_manifest(d)
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()],
                         index=traversal_index("sha256:../../etc/passwd"))
    return root


@case("digest-dotdot-outside", hint=("digest", "outside"))
def _(d):
    decoy_manifest(d)
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()],
                         index=traversal_index("sha256:../../../outside.json"))
    return root


@case("digest-with-slash", hint=("digest", "outside"))
def _(d):
    man = decoy_manifest(d)
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()],
                         index=traversal_index("sha256:sub/" + "a" * 60))
    write(os.path.join(root, "blobs", "sha256", "sub", "a" * 60), man)
    return root


@case("digest-dotdot-in-oci-archive", hint=("digest", "outside"))
def _(d):
    man = decoy_manifest(d)
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()],
                         index=traversal_index("sha256:../../x/../manifest"))
    write(os.path.join(root, "manifest"), man)
    return write(os.path.join(d, "img.tar"), tree_to_tar(root))


@case("layers-entry-dotdot", hint=("outside", "..", "path"))
def _(d):
    l = layer()
    write(os.path.join(d, "x", "layer.tar"), l.blob)  # where ../x/layer.tar would lead
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["../x/layer.tar"]}]
    return write(os.path.join(d, "in", "img.tar"),
                 docker_tar([l], manifest=man, extra=[("x/layer.tar", l.blob)]))


@case("layers-entry-absolute", hint=("absolute", "outside", "path"))
def _(d):
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["/etc/passwd"]}]
    return write(os.path.join(d, "img.tar"), docker_tar([layer()], manifest=man))


@case("config-dotdot", hint=("outside", "..", "path"))
def _(d):
    man = [{"Config": "../config.json", "RepoTags": ["hostile:1"], "Layers": ["l0/layer.tar"]}]
    return write(os.path.join(d, "img.tar"), docker_tar([layer()], manifest=man))


@case("layout-blob-symlink-outside", hint=("outside", "symlink", "link"))
def _(d):
    l = layer()
    root, blobs = oci_layout(os.path.join(d, "layout"), [l])
    outside = write(os.path.join(d, "outside-layer.tar"), l.blob)
    p = os.path.join(root, "blobs", "sha256", blobs["layer0"])
    os.unlink(p)
    os.symlink(os.path.relpath(outside, os.path.dirname(p)), p)
    return root


@case("layout-blob-symlink-absolute", hint=("outside", "symlink", "link"))
def _(d):
    man = decoy_manifest(d)
    root, blobs = oci_layout(os.path.join(d, "layout"), [layer()])
    p = os.path.join(root, "blobs", "sha256", blobs["manifest"])
    os.unlink(p)
    os.symlink(os.path.join(d, "outside.json"), p)
    return root


@case("layout-blobs-dir-symlink-outside", hint=("outside", "symlink", "link"))
def _(d):
    l = layer()
    root, blobs = oci_layout(os.path.join(d, "layout"), [l])
    shutil.move(os.path.join(root, "blobs"), os.path.join(d, "elsewhere-blobs"))
    os.symlink(os.path.join(d, "elsewhere-blobs"), os.path.join(root, "blobs"))
    return root


# -- cycles

def cyclic_layout(d, n):
    """index.json -> I0 -> I1 -> ... -> I(n-1) -> I0, with made-up digests (no --verify)."""
    names = [hashlib.sha256(b"cycle %d" % i).hexdigest() for i in range(n)]
    root, _ = oci_layout(os.path.join(d, "layout"), [layer()], index={
        "schemaVersion": 2, "manifests": [{"mediaType": MT_INDEX, "digest": "sha256:" + names[0],
                                           "size": 1}]})
    for i, h in enumerate(names):
        nxt = names[(i + 1) % n]
        write(os.path.join(root, "blobs", "sha256", h), json.dumps({
            "schemaVersion": 2, "mediaType": MT_INDEX,
            "manifests": [{"mediaType": MT_INDEX, "digest": "sha256:" + nxt, "size": 1}]}).encode())
    return root


@case("index-lists-itself", hint=("cycle", "itself", "nest", "deep"))
def _(d):
    return cyclic_layout(d, 1)


@case("index-cycle-of-two", hint=("cycle", "itself", "nest", "deep"))
def _(d):
    return cyclic_layout(d, 2)


@case("index-cycle-in-oci-archive-stdin", hint=("cycle", "itself", "nest", "deep"), stdin=True)
def _(d):
    return write(os.path.join(d, "img.tar"), tree_to_tar(cyclic_layout(d, 3)))


@case("member-symlink-cycle", hint=("cycle", "link", "loop"))
def _(d):
    l = layer()
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["a/layer.tar"]}]
    m = docker_members([l], manifest=man)[:2]
    return write(os.path.join(d, "img.tar"), tar(m + [
        ("sym", "a/layer.tar", "../b/layer.tar"), ("sym", "b/layer.tar", "../a/layer.tar")]))


@case("member-symlink-cycle-stdin", hint=("cycle", "link", "loop"), stdin=True)
def _(d):
    l = layer()
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["a/layer.tar"]}]
    m = docker_members([l], manifest=man)[:2]
    return write(os.path.join(d, "img.tar"), tar(m + [
        ("sym", "a/layer.tar", "../b/layer.tar"), ("sym", "b/layer.tar", "../a/layer.tar")]))


@case("member-hardlink-to-itself", hint=("cycle", "link", "loop", "missing"))
def _(d):
    l = layer()
    m = docker_members([l])[:2]
    return write(os.path.join(d, "img.tar"), tar(m + [("hard", "l0/layer.tar", "l0/layer.tar")]))


# -- decompression bombs

BOMB_REPORT = '{"total_files_num": 1, "total_files_size": %d}' % BOMB_SIZE


def bomb_time(gib, codec):
    """The time bound for decompressing gib GiB: a fixed 10 s plus a rate per GiB (the
    gzip rate is the decoder's, from `imgstat --version`; set in main())."""
    rate = (ZSTD_SECONDS_PER_GIB if codec == "zstd" else OTHER_SECONDS_PER_GIB[codec]
            if codec in OTHER_SECONDS_PER_GIB else BOMB_SECONDS_PER_GIB[GZIP_DECODER[0]])
    return 10.0 + rate * gib


GZIP_DECODER = ["zlib"]  # "ISA-L" when imgstat --version says so


def bomb_image(d, blob, ext):
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["bomb/layer." + ext]}]
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    return write(os.path.join(d, "bomb.tar"), tar([
        ("manifest.json", json.dumps(man).encode()), ("config.json", cfg),
        ("bomb/layer." + ext, blob)]))


_bomb_cache = {}


def gzip_bomb_blob(d):
    """Built once per run (a few seconds of CRC-32), then reused."""
    if "gz" not in _bomb_cache:
        p = os.path.join(d, "bomb.gz")
        gzip_bomb(p, BOMB_SIZE)
        with open(p, "rb") as f:
            _bomb_cache["gz"] = f.read()
        os.unlink(p)
    return _bomb_cache["gz"]


@case("gzip-bomb-4GiB", exit=0, stdout=BOMB_REPORT, time_bound=("gzip", BOMB_SIZE / GiB),
      mem_bound=BOMB_MEM_BOUND)
def _(d):
    return bomb_image(d, gzip_bomb_blob(d), "tar.gz")


@case("gzip-bomb-4GiB-stdin", exit=0, stdout=BOMB_REPORT, time_bound=("gzip", BOMB_SIZE / GiB),
      mem_bound=BOMB_MEM_BOUND, stdin=True)
def _(d):
    return bomb_image(d, gzip_bomb_blob(d), "tar.gz")


@case("gzip-bomb-max-layer-bytes-1GiB", hint=("max-layer-bytes", "limit", "more than"),
      args=["--max-layer-bytes", "1GiB"], time_bound=("gzip", 1.0), mem_bound=BOMB_MEM_BOUND)
def _(d):
    return bomb_image(d, gzip_bomb_blob(d), "tar.gz")


@case("zstd-bomb-4GiB", exit=0, stdout=BOMB_REPORT, time_bound=("zstd", BOMB_SIZE / GiB),
      mem_bound=BOMB_MEM_BOUND)
def _(d):
    return bomb_image(d, zstd_bomb(BOMB_SIZE), "tar.zst")


@case("zstd-bomb-max-layer-bytes-1GiB", hint=("max-layer-bytes", "limit", "more than"),
      args=["--max-layer-bytes", "1GiB"], time_bound=("zstd", 1.0), mem_bound=BOMB_MEM_BOUND)
def _(d):
    return bomb_image(d, zstd_bomb(BOMB_SIZE), "tar.zst")


def stream_bomb(new, size, chunk=64 * MiB):
    """A layer whose tar holds one file of `size` zero bytes, as concatenated streams (xz and
    bzip2 decoders read one after another, D6): the header, `size // chunk` copies of one
    compressed chunk of zeros, and the rest with the end of the tar.  Zeros are fed 1 MiB at
    a time: this script's memory is the floor of every reading after it."""
    mib = bytes(MiB)  # one buffer, fed again and again: no allocation per MiB

    def stream(data, zeros=0):
        c = new()
        out = [c.compress(data)]
        for _ in range(zeros // MiB):
            out.append(c.compress(mib))
        return b"".join(out) + c.compress(mib[:zeros % MiB]) + c.flush()
    n, rest = divmod(size, chunk)
    return (stream(tar_header("bomb", size)) + stream(b"", chunk) * n +
            stream(b"\0" * rest + pad(size) + b"\0" * 1024))


def xz_bomb(size):
    return stream_bomb(lambda: lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=0), size)


def bzip2_bomb(size):
    return stream_bomb(lambda: bz2.BZ2Compressor(9), size)


@case("xz-bomb-max-layer-bytes-1GiB", hint=("max-layer-bytes", "limit", "more than"),
      args=["--max-layer-bytes", "1GiB"], time_bound=("xz", 1.0), mem_bound=BOMB_MEM_BOUND)
def _(d):
    return bomb_image(d, xz_bomb(BOMB_SIZE), "tar.xz")


@case("bzip2-bomb-max-layer-bytes-1GiB", hint=("max-layer-bytes", "limit", "more than"),
      args=["--max-layer-bytes", "1GiB"], time_bound=("bzip2", 1.0), mem_bound=BOMB_MEM_BOUND)
def _(d):
    return bomb_image(d, bzip2_bomb(BOMB_SIZE), "tar.bz2")


@case("xz-bomb-after-the-tar-max-layer-bytes", hint=("max-layer-bytes", "limit", "more than"),
      args=["--max-layer-bytes", "256MiB"], time_bound=("xz", 0.25), mem_bound=BOMB_MEM_BOUND)
def _(d):
    # a small tar, then a 4 GiB stream after its end marker: decoded to its end (D5), so the
    # limit stops it too (preset 0 everywhere here: preset 6 makes this script 94 MiB larger,
    # and its memory is the floor of every reading after it)
    return bomb_image(d, lzma.compress(tar(BASE_FILES), format=lzma.FORMAT_XZ, preset=0) +
                      xz_bomb(BOMB_SIZE), "tar.xz")


# -- zstd windows and what pipes carry

@case("zstd-window-1GiB", hint=("needs a 1 GiB window",))
def _(d):
    l = layer(codec="zstd")
    l.blob = zstd_raw(l.tar, window_log=30)  # zstd --long=30 asks for this: 2x the limit
    return write(os.path.join(d, "img.tar"), docker_tar([l]))


@case("xz-not-a-tar-stdin", hint=("xz data",), stdin=True)
def _(d):
    return write(os.path.join(d, "notes.xz"), lzma.compress(b"plain text, xz-compressed\n" * 50, preset=0))


@case("bzip2-not-a-tar-stdin", hint=("bzip2 data",), stdin=True)
def _(d):
    return write(os.path.join(d, "notes.bz2"), bz2.compress(b"plain text, bzip2-compressed\n" * 50))


@case("lz4-stdin", hint=("lz4",), stdin=True)
def _(d):
    # an lz4 frame header (magic, FLG, BD, HC) and a block: imgstat does not read lz4 (D6)
    return write(os.path.join(d, "image.tar.lz4"), b"\x04\x22\x4d\x18\x64\x40\xa7" + b"\0" * 64)


@case("empty-stdin", hint=("empty",), stdin=True)
def _(d):
    return write(os.path.join(d, "empty"), b"")


# -- many entries (optional in the issue): a million empty files in one gzip layer

MANY = 1000000
MANY_MEM_BOUND = 256 * MiB  # measured 97 MiB with the floor: ~75 bytes per entry


def many_entries_layer(n):
    """A gzip layer of n empty files d000/f000000 ... (512 MB of tar headers), written in
    1 MiB steps from one header template."""
    tmpl = bytearray(tar_header("d000/f000000", 0))
    tmpl[148:156] = b" " * 8
    base = sum(tmpl) - sum(b"d000/f000000")
    co = zlib.compressobj(1, zlib.DEFLATED, 31)
    out, buf = [], bytearray()
    for i in range(n):
        name = b"d%03d/f%06d" % (i // 10000, i)
        tmpl[0:12] = name
        tmpl[148:156] = b"%06o\0 " % (base + sum(name))
        buf += tmpl
        if len(buf) >= MiB:
            out.append(co.compress(bytes(buf)))
            buf = bytearray()
    buf += b"\0" * 1024
    out.append(co.compress(bytes(buf)) + co.flush())
    return b"".join(out)


@case("layer-1M-entries", exit=0, stdout='{"total_files_num": %d, "total_files_size": 0}' % MANY,
      time_bound=30.0, mem_bound=MANY_MEM_BOUND)
def _(d):
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["many/layer.tar.gz"]}]
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    return write(os.path.join(d, "many.tar"), tar([
        ("manifest.json", json.dumps(man).encode()), ("config.json", cfg),
        ("many/layer.tar.gz", many_entries_layer(MANY))]))


# -- the merged tree: inputs that were quadratic (issue 8.9), sums that wrapped (8.1)
# Correctness only, with the suite's generous bounds; bench/hostile.sh times them.

class StreamedLayer:
    """A gzip layer written from an iterator of tar() entries, a few at a time: this script's
    own memory is the floor of every later peak-memory reading (the child is a copy of it
    until its exec), so big inputs must not pass through one large list."""

    def __init__(self, entries):
        co, h, parts = zlib.compressobj(6, zlib.DEFLATED, 31), hashlib.sha256(), []
        for e in entries:
            b = tar([e], end=False)
            h.update(b)
            parts.append(co.compress(b))
        h.update(b"\0" * 1024)
        parts += [co.compress(b"\0" * 1024), co.flush()]
        self.blob, self.diff_id = b"".join(parts), "sha256:" + h.hexdigest()
        self.media_type, self.ext = MT_TGZ, "tar.gz"


def gz_docker(d, entries):
    return write(os.path.join(d, "img.tar"), docker_tar([StreamedLayer(entries)]))


def tree_report(files, size):
    return '{"total_files_num": %d, "total_files_size": %d}' % (files, size)


# d/s/f0..f1999 (1 B each), then d's opaque marker 60,000 times: 2000 files, 2000 B.
@case("tree-opaque-marker-60000-times", exit=0, stdout=tree_report(2000, 2000))
def _(d):
    return gz_docker(d, itertools.chain([("d", None)], (("d/s/f%d" % i, b"x") for i in range(2000)),
                                        itertools.repeat(("d/.wh..wh..opq", b""), 60000)))


# d/s/f0..f1999, then .wh.d 60,000 times: d is this layer's, nothing to hide: 2000 files.
@case("tree-whiteout-60000-times", exit=0, stdout=tree_report(2000, 2000))
def _(d):
    return gz_docker(d, itertools.chain((("d/s/f%d" % i, b"x") for i in range(2000)),
                                        itertools.repeat((".wh.d", b""), 60000)))


# a1 -> a2 -> ... -> a250 -> da, the same for b; 20,000 files alternating a1/ and b1/.
@case("tree-alternating-250-link-chains", exit=0, stdout=tree_report(20000, 20000))
def _(d):
    chains = [("da", None), ("db", None)]
    for c in "ab":
        chains += [("sym", "%s%d" % (c, i), "%s%d" % (c, i + 1) if i < 250 else "d" + c)
                   for i in range(1, 251)]
    return gz_docker(d, itertools.chain(chains, (("%s1/f%d" % ("ab"[i % 2], i), b"x")
                                                 for i in range(20000))))


# 60,000 AUFS link targets and a hard link into each: 60,000 files, 60,000 B (W6).
@case("tree-60000-aufs-hardlinks", exit=0, stdout=tree_report(60000, 60000))
def _(d):
    return gz_docker(d, itertools.chain([(".wh..wh.plnk", None)],
                                        ((".wh..wh.plnk/%d.1" % i, b"x") for i in range(60000)),
                                        (("hard", "bin/h%d" % i, ".wh..wh.plnk/%d.1" % i)
                                         for i in range(60000))))


def pax_sparse(name, realsize):
    """A PAX 1.0 sparse member of realsize bytes storing none (an empty sparse map)."""
    recs = b""
    for k, v in (("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"),
                 ("GNU.sparse.name", name), ("GNU.sparse.realsize", str(realsize))):
        body = (" %s=%s\n" % (k, v)).encode()
        n = len(body) + 1
        while len(str(n)) + len(body) != n:
            n = len(str(n)) + len(body)
        recs += str(n).encode() + body
    smap = b"0\n" + pad(2)
    return (tar_header("PaxHeaders/" + name, len(recs), b"x") + recs + pad(len(recs))
            + tar_header("GNUSparseFile.0/" + name, len(smap)) + smap)


def four_huge(d):
    """Four sparse files of 2^62 B: 2^64 B, which a 64-bit sum wraps to 0."""
    body = b"".join(pax_sparse(n, 1 << 62) for n in "abcd") + b"\0" * 1024
    return write(os.path.join(d, "img.tar"), docker_tar([Layer(body, "gzip")]))  # small


@case("tree-4x2pow62-bytes", hint=("does not fit", "IMGSTAT_MAX_FIGURE"))
def _(d):
    return four_huge(d)


@case("tree-4x2pow62-bytes-max-size", hint=("does not fit", "IMGSTAT_MAX_FIGURE"),
      args=("--max-size", "1"))
def _(d):
    return four_huge(d)
# -- one-pass streams (docs/rules.md S3-S7)

STREAM_LAYERS = 270       # of ~1 MB each: 270 MB, more than the 256 MiB once kept whole
STREAM_FILE = 1000000     # bytes of random data in each layer's one file


def gzip_member(b):
    co = zlib.compressobj(1, zlib.DEFLATED, 31)
    return co.compress(b) + co.flush()


@case("stream-270-gzip-layers-of-1MB", exit=0, pipe=True, time_bound=60.0,
      stdout='{"total_files_num": %d, "total_files_size": %d}'
             % (STREAM_LAYERS, STREAM_LAYERS * STREAM_FILE))
def _(d):
    """S3: 270 gzip layers of 1,000,448 bytes (a 1 MB incompressible file each) through a
    pipe, the JSON last; each was once kept whole (<= 1 MiB) and the 256 MiB of them failed.
    Each layer is three gzip members (header, the shared data, padding and end marker), so
    the 1 MB is deflated once."""
    data = gzip_member(os.urandom(STREAM_FILE))
    tail = gzip_member(pad(STREAM_FILE) + b"\0" * 1024)
    names, diff_ids = [], []
    with open(os.path.join(d, "img.tar"), "wb") as f:
        for i in range(STREAM_LAYERS):
            hdr = tar_header("data/f%03d" % i, STREAM_FILE)
            blob = gzip_member(hdr) + data + tail
            names.append("l%03d/layer.tar.gz" % i)
            diff_ids.append("sha256:" + "%064x" % i)  # not checked without --verify
            f.write(tar_header(names[-1], len(blob)) + blob + pad(len(blob)))
        man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": names}]
        f.write(tar([("manifest.json", json.dumps(man).encode()),
                     ("config.json", config_json([], diff_ids))]))
    return os.path.join(d, "img.tar")


@case("stream-kept-limit", hint=("--max-kept-bytes",), pipe=True,
      args=["--max-kept-bytes", "1MiB"])
def _(d):
    """S4: 20 JSON-looking members of 100 KB before the manifest, 2 MB of JSON kept in all,
    against --max-kept-bytes 1MiB: an error naming the flag."""
    l = layer()
    extra = [("notes/%02d.json" % i, b'{"pad": "' + b"x" * 100000 + b'"}') for i in range(20)]
    return write(os.path.join(d, "img.tar"), tar(extra + docker_members([l])))


LONG_ENTRIES = 100000
LONG_DIR = 3800           # bytes of the directory every entry is in
# The same image from a file holds ~18 MiB at its peak (the merged tree; names interned once).
# Through a pipe the entries are recorded first: once 384 MiB (every full name kept), now a few
# bytes per entry with the directory interned once (S5).  The reading cannot go below this
# script's own size when it forks (see the module comment), so the input is written to disk as
# it is made.  Not a timed test: libarchive converts every 3.8 KB name to a wide string
# (mbrtowc), ~10 s on an idle machine here.
LONG_MEM_BOUND = 48 * MiB


def pax_path(name):
    body = b" path=" + name + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


@case("stream-100k-long-paths", exit=0, pipe=True, time_bound=240.0, mem_bound=LONG_MEM_BOUND,
      stdout='{"total_files_num": %d, "total_files_size": 0}' % LONG_ENTRIES,
      asan_extra=256 * MiB)  # libarchive's 380 MB of freed names fill ASan's 256 MiB quarantine
def _(d):
    """S5: 100,000 empty files in one directory of 3,800 bytes (95 segments), pax path
    records, in a gzip layer read through a pipe."""
    segs = [(b"s" * 39 + bytes([97 + i % 26])) for i in range(LONG_DIR // 40)]
    top = b"/".join(segs)
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    blob_path = os.path.join(d, "layer.tar.gz")
    with open(blob_path, "wb") as f:
        buf = bytearray()
        for i in range(LONG_ENTRIES):
            rec = pax_path(top + b"/f%06d" % i)
            buf += tar_header("PaxHeaders/f", len(rec), b"x") + rec + pad(len(rec))
            buf += tar_header("f%06d" % i, 0)
            if len(buf) >= MiB:
                f.write(co.compress(bytes(buf)))
                buf = bytearray()
        f.write(co.compress(bytes(buf) + b"\0" * 1024) + co.flush())
    size = os.path.getsize(blob_path)
    man = [{"Config": "config.json", "RepoTags": ["hostile:1"], "Layers": ["long/layer.tar.gz"]}]
    with open(os.path.join(d, "long.tar"), "wb") as out, open(blob_path, "rb") as blob:
        out.write(tar_header("long/layer.tar.gz", size))
        shutil.copyfileobj(blob, out, MiB)
        out.write(pad(size) + tar([("manifest.json", json.dumps(man).encode()),
                                   ("config.json", config_json([], ["sha256:" + "0" * 64]))]))
    os.remove(blob_path)
    return os.path.join(d, "long.tar")


# -- exported entry records (S7): rec_import through the fuzz_record target

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def record(dirs, entries):
    """rec_export's format (layers/record_io.c) with a zero checksum: fuzz_record seals it.
    dirs: (parent, name); entries: (flags, dir, name, link or None, size)."""
    out = bytearray(b"IMGR\x01") + varint(len(dirs))
    for parent, name in dirs:
        out += varint(parent) + varint(len(name)) + name
    out += varint(len(entries))
    for flags, dr, name, link, size in entries:
        out += bytes([flags]) + varint(dr) + varint(len(name)) + name
        if link is not None:
            out += varint(len(link)) + link
        if size:
            out += varint(size)
    return bytes(out + b"\0" * 8)


def corrupt_records(d):
    """A valid record cut at every length and with every byte changed, and crafted ones:
    counts of 2^64-1, a 100,000-deep directory chain, 10,000 entries alternating between
    the deepest allowed directory and the top, ids beyond the table, '/' in names."""
    dirs = [(0, b"usr"), (1, b"lib"), (2, b"x86_64-linux-gnu"), (0, b"etc"), (0, b"")]
    ents = [(0x21, 3, b"libc.so.6", None, 2000000), (0x13, 3, b"libc.so", b"libc.so.6", 0),
            (0x02, 0, b"etc", None, 0), (0x21, 4, b"passwd", None, 12),
            (0x14, 4, b"group", b"etc/passwd", 0), (0x01, 5, b"abs", None, 0),
            (0x08, 1, b"sock", None, 0), (0x21, 0, b"a//b/../c", None, (1 << 64) - 1)]
    good = record(dirs, ents)
    out = {"good": good}
    for n in range(len(good)):
        out["cut%03d" % n] = good[:n] + b"\0" * 8
    for i in range(5, len(good) - 8):
        for v in (0x00, 0x7F, 0x80, 0xFF):
            out["byte%03d-%02x" % (i, v)] = good[:i] + bytes([v]) + good[i + 1:]
    huge = varint((1 << 64) - 1)
    out["huge-dir-count"] = b"IMGR\x01" + huge + b"\0" * 16
    out["huge-entry-count"] = b"IMGR\x01\x00" + huge + b"\0" * 16
    chain = [(i, b"a") for i in range(100000)]
    out["chain-100000"] = record(chain, [(0x01, 100000, b"f", None, 0)])
    deep = [(i, b"d") for i in range(2047)]           # 2047 * 2 - 1 = 4093 bytes
    alt = [(0x01, 2047 if i % 2 else 0, b"f", None, 0) for i in range(10000)]
    out["deep-alternating"] = record(deep, alt)
    out["dir-beyond"] = record(dirs, [(0x01, 6, b"f", None, 0)])
    out["slash-in-dir"] = record([(0, b"a/b")], [(0x01, 1, b"f", None, 0)])
    out["slash-in-name"] = record(dirs, [(0x01, 1, b"f/g", None, 0)])
    for name, data in out.items():
        write(os.path.join(d, "records", name), data)
    return os.path.join(d, "records")


@case("record-import-corrupt-bytes", exit=0, tool="record", time_bound=120.0)
def _(d):
    return corrupt_records(d)


# ---- running ------------------------------------------------------------------------

def is_asan(exe):
    try:
        with open(exe, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def feed(p, inp):
    """Copy inp into p's stdin pipe, as `cat FILE |` would; stop when the reader has gone."""
    try:
        for chunk in iter(lambda: inp.read(MiB), b""):
            p.stdin.write(chunk)
    except (BrokenPipeError, ValueError, OSError):
        pass
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass


def run(exe, args, stdin_path, hard_timeout, pipe=False):
    """Run exe; returns (status, stdout, stderr, seconds, peak RSS bytes).  status is the
    exit code, -SIGNAL when killed, or None on a hard timeout.  pipe: stdin_path's bytes
    come through a pipe (a stream: no seeking), else stdin is the file itself."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            open(stdin_path or os.devnull, "rb") as inp:
        env = dict(os.environ, LC_ALL="C.UTF-8")
        t0 = time.monotonic()
        p = subprocess.Popen([exe] + args, stdin=subprocess.PIPE if pipe else inp, stdout=out,
                             stderr=err, env=env)
        if pipe:
            threading.Thread(target=feed, args=(p, inp), daemon=True).start()
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > hard_timeout:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        secs = time.monotonic() - t0
        p.returncode = 0  # reaped above; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        code = None if timed_out else (os.waitstatus_to_exitcode(status))
        return code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), \
            secs, ru.ru_maxrss * 1024


def check(c, path, code, out, err, secs, rss, tb, mb):
    """The list of what is wrong with one run."""
    bad = []
    lines = err.splitlines()
    if code is None:
        return ["hung: killed after %.0f s" % secs]
    if code < 0 or code >= 128:
        bad.append("crashed (%s)" % (signal.Signals(-code).name if code < 0 else "exit %d" % code))
    if code != c["exit"]:
        bad.append("exit %s, want %d" % (code, c["exit"]))
    if secs > tb:
        bad.append("took %.1f s, bound %.0f s" % (secs, tb))
    if rss > mb:
        bad.append("peak memory %.0f MiB, bound %.0f MiB" % (rss / MiB, mb / MiB))
    if c["exit"] == 0:
        if c["stdout"] is not None and out.strip() != c["stdout"]:
            bad.append("stdout %r, want %r" % (out.strip()[:200], c["stdout"]))
        if c["warning"]:
            if len(lines) != 1 or not lines[0].startswith("imgstat: ") or "warning" not in lines[0]:
                bad.append("want one warning line on stderr, got %d lines: %r" % (len(lines), err[:300]))
        elif err:
            bad.append("stderr not empty: %r" % err[:300])
        return bad
    if out:
        bad.append("stdout not empty: %r" % out[:200])
    if len(lines) != 1:
        bad.append("%d stderr lines, want 1: %r" % (len(lines), err[:400]))
    elif not lines[0].startswith("imgstat: "):
        bad.append("stderr does not start with 'imgstat: ': %r" % lines[0][:200])
    elif path not in lines[0]:
        bad.append("message does not name the input %r: %r" % (path, lines[0][:300]))
    elif c["hint"]:
        # the words must be in what imgstat says, not in the input's name echoed before it
        said = lines[0][len("imgstat: %s: " % path):] if lines[0].startswith("imgstat: %s: " % path) else ""
        if not any(h.lower() in said.lower() for h in c["hint"]):
            bad.append("message says none of %s: %r" % ("/".join(c["hint"]), lines[0][:300]))
    return bad


def runner_main():
    """--runner: run commands for the suite, one JSON request per line on stdin, one JSON
    result per line on stdout (see the module comment on the floor of the readings)."""
    for line in sys.stdin:
        q = json.loads(line)
        res = run(q["exe"], q["args"], q["stdin"], q["timeout"], q["pipe"])
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()
    return 0


class Runner:
    """run() in the runner process."""

    def __init__(self):
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--runner"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, exe, args, stdin_path, hard_timeout, pipe=False):
        q = dict(exe=exe, args=args, stdin=stdin_path, timeout=hard_timeout, pipe=pipe)
        self.p.stdin.write(json.dumps(q) + "\n")
        self.p.stdin.flush()
        return tuple(json.loads(self.p.stdout.readline()))

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def check_tool(code, out, secs, rss, tb, mb):
    """What is wrong with a run of a fuzz target over a directory of inputs."""
    if code is None:
        return ["hung: killed after %.0f s" % secs]
    bad = [] if code == 0 else ["exit %s: %s" % (code, " / ".join(
        l for l in out.splitlines() if "FAIL" in l or "ERROR" in l)[:400])]
    if secs > tb:
        bad.append("took %.1f s, bound %.0f s" % (secs, tb))
    if rss > mb:
        bad.append("peak memory %.0f MiB, bound %.0f MiB" % (rss / MiB, mb / MiB))
    return bad


def main(argv):
    if argv[:1] == ["--runner"]:
        return runner_main()
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("imgstat", nargs="?")
    ap.add_argument("-k", dest="only", help="run the cases whose name contains this")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--keep", action="store_true", help="keep the inputs (prints the directory)")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per case, with time and memory")
    ap.add_argument("--record-fuzzer", help="the fuzz_record target (replay or libFuzzer binary) "
                                            "for the record-* cases")
    a = ap.parse_args(argv)
    if a.list:
        for c in CASES:
            print(c["name"] + ("  [known failing]" if c["name"] in KNOWN_FAILING else ""))
        return 0
    if not a.imgstat:
        ap.error("the imgstat binary to test is required")
    exe = os.path.abspath(a.imgstat)
    runner = Runner()  # first, while this script is small
    asan = is_asan(exe)
    tf, mf, mx = (ASAN_TIME_FACTOR, ASAN_MEM_FACTOR, ASAN_MEM_EXTRA) if asan else (1.0, 1.0, 0)
    if asan:
        print("note: AddressSanitizer build: time bounds x%g, memory bounds x%g + %d MiB"
              % (tf, mf, mx // MiB))
    code, out, _, _, floor = runner.run(exe, ["--version"], None, 60)
    if code != 0:
        testlib.ok("%s --version" % exe, False, "exit %s" % code)
        testlib.finish()
    if "isa-l" in out.lower():
        GZIP_DECODER[0] = "ISA-L"
    # wait4()'s ru_maxrss counts the child before its exec too, a copy of the runner: the
    # readings cannot go below this floor (bounds stay sound while it is under them)
    if a.verbose:
        print("note: gzip decoder %s; memory readings start at the runner's %.0f MiB"
              % (GZIP_DECODER[0], floor / MiB))
    top = tempfile.mkdtemp(prefix="imgstat-hostile-")
    try:
        for i, c in enumerate(CASES):
            if a.only and a.only not in c["name"]:
                continue
            if c["tool"] and not a.record_fuzzer:
                print("skip %s: no --record-fuzzer given" % c["name"])
                continue
            # a neutral folder name: the case's name must not leak into the message check
            d = os.path.join(top, "input%03d" % i)
            os.makedirs(d)
            try:
                path = c["build"](d)
            except Exception as ex:  # a broken builder is this suite's bug: say so, count it
                testlib.ok(c["name"], False, "could not build the input: %r" % ex)
                continue
            name = "-" if c["stdin"] or c["pipe"] else path
            tb = c["time_bound"]
            if isinstance(tb, tuple):
                tb = bomb_time(tb[1], tb[0])
            tb, mb = tb * tf, c["mem_bound"] * mf + mx + (c["asan_extra"] if asan else 0)
            if c["tool"]:
                # -runs=0: a libFuzzer binary runs each input once; replay.c notes and skips it
                code, out, err, secs, rss = runner.run(os.path.abspath(a.record_fuzzer),
                                                       ["-runs=0", path], None,
                                                       max(HARD_TIMEOUT, tb * 2))
                bad = check_tool(code, out + err, secs, rss, tb, mb)
            else:
                code, out, err, secs, rss = runner.run(exe, c["args"] + [name],
                                                       path if name == "-" else None,
                                                       max(HARD_TIMEOUT, tb * 2), c["pipe"])
                bad = check(c, name, code, out, err, secs, rss, tb, mb)
            known = c["name"] in KNOWN_FAILING
            if a.verbose or "bomb" in c["name"]:
                print("%s %s: exit %s, %.2f s (bound %.0f), %.0f MiB (bound %.0f)%s"
                      % ("ok  " if not bad else "FAIL", c["name"], code, secs, tb, rss / MiB,
                         mb / MiB, "" if not a.verbose else ": " + err.strip()[:160]))
            testlib.ok(c["name"] + (" (known)" if known else ""), not bad, "; ".join(bad))
            if bad and known:
                print("     known: " + KNOWN_FAILING[c["name"]])
            elif known:
                print("note: %s is in KNOWN_FAILING but passes now: remove it" % c["name"])
            if not a.keep:
                shutil.rmtree(d, ignore_errors=True)
    finally:
        runner.close()
        if a.keep:
            print("inputs kept in " + top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    testlib.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
