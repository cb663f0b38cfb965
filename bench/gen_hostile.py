#!/usr/bin/env python3
"""Write the inputs of bench/hostile.sh: the shapes that were quadratic in imgstat's merged
tree (issue 8.9), each beside an ordinary image of the same entry count and about the same
size, and a layer of 100,000 entries with 3.8 KB paths.

usage: gen_hostile.py OUTDIR [SCALE]

Every image is a docker-archive tarball (manifest.json last, as `docker save` writes it, so a
pipe must record the layer before it knows the image) holding one or two gzip layers.  Python
standard library only; the output is a pure function of SCALE.  OUTDIR/expected.tsv lists
each image with the answer worked out here: NAME, total_files_num, total_files_size.
"""
import hashlib
import json
import os
import sys
import zlib


def octal(n, width):
    return ("%0*o" % (width - 1, n)).encode() + b"\0"


def header(name, size=0, typeflag=b"0", linkname=""):
    """A ustar header; a name over 100 bytes goes in a pax 'x' record before it."""
    out = b""
    nb = name.encode()
    if len(nb) > 100:
        rec = b" path=" + nb + b"\n"
        n = len(rec) + 1
        while len(str(n)) + len(rec) != n:
            n = len(str(n)) + len(rec)
        body = str(n).encode() + rec
        out += header("PaxHeaders/x", len(body), b"x") + body + b"\0" * (-len(body) % 512)
        nb = nb[:100]
    h = bytearray(512)
    h[0:len(nb)] = nb
    h[100:108] = octal(0o755 if typeflag == b"5" else 0o644, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = octal(size, 12)
    h[136:148] = octal(0, 12)
    h[156:157] = typeflag
    lb = linkname.encode()
    h[157:157 + len(lb)] = lb
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return out + bytes(h)


class Tar:
    """A layer tar written straight into gzip (only the compressed bytes are kept) and
    hashed for its diff_id on the way."""

    def __init__(self):
        self.z = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip framing, mtime 0
        self.parts, self.sha, self.entries = [], hashlib.sha256(), 0

    def _put(self, b):
        self.sha.update(b)
        self.parts.append(self.z.compress(b))

    def reg(self, name, size=0):
        self._put(header(name, size) + (b"x" * size + b"\0" * (-size % 512) if size else b""))
        self.entries += 1

    def dir(self, name):
        self._put(header(name.rstrip("/") + "/", 0, b"5"))
        self.entries += 1

    def sym(self, name, target):
        self._put(header(name, 0, b"2", target))
        self.entries += 1

    def hard(self, name, target):
        self._put(header(name, 0, b"1", target))
        self.entries += 1

    def done(self):
        """(gzip blob, diff_id, entries)."""
        self._put(b"\0" * 1024)
        self.parts.append(self.z.flush())
        return b"".join(self.parts), "sha256:" + self.sha.hexdigest(), self.entries


def docker_archive(path, layers):
    """layers: Tar.done() results."""
    diff_ids = [d for _, d, _ in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    members = []
    for i, (blob, _, _) in enumerate(layers):
        members.append(("layer%d/layer.tar" % i, blob))
    members.append(("config.json", config))
    members.append(("manifest.json", json.dumps([{
        "Config": "config.json", "RepoTags": ["hostile:latest"],
        "Layers": ["layer%d/layer.tar" % i for i in range(len(layers))]}]).encode()))
    with open(path, "wb") as f:
        for name, data in members:
            f.write(header(name, len(data)) + data + b"\0" * (-len(data) % 512))
        f.write(b"\0" * 1024)


def opaque(n_files, n_marks):
    """L0 d/old; L1 d/s/f0..: n_files files (1 B) of this layer, then the opaque marker of d
    n_marks times: each marker used to walk every file -> n_files files, n_files B."""
    l0, l1 = Tar(), Tar()
    l0.reg("d/old", 5)
    l1.dir("d")
    for i in range(n_files):
        l1.reg("d/s/f%d" % i, 1)
    for _ in range(n_marks):
        l1.reg("d/.wh..wh..opq")
    return [l0.done(), l1.done()], (n_files, n_files)


def whiteout(n_files, n_marks):
    """L0 d/old; L1 d/s/f0.. (1 B), then .wh.d n_marks times: d is this layer's, only d/old
    goes, and each whiteout used to walk d's subtree -> n_files files, n_files B."""
    l0, l1 = Tar(), Tar()
    l0.reg("d/old", 5)
    for i in range(n_files):
        l1.reg("d/s/f%d" % i, 1)
    for _ in range(n_marks):
        l1.reg(".wh.d")
    return [l0.done(), l1.done()], (n_files, n_files)


def chains(n_links, n_files):
    """Two chains of n_links parent symlinks, then n_files files alternating between them:
    each entry used to walk a whole chain -> n_files files, n_files B."""
    t = Tar()
    for c in "ab":
        t.dir("d" + c)
        for i in range(1, n_links + 1):
            t.sym("%s%d" % (c, i), "%s%d" % (c, i + 1) if i < n_links else "d" + c)
    for i in range(n_files):
        t.reg("%s1/f%d" % ("ab"[i % 2], i), 1)
    return [t.done()], (n_files, n_files)


def plnk(n):
    """n AUFS link targets .wh..wh.plnk/I.1 (1 B) and n hard links into them: each link used
    to search the targets one by one -> n files, n B."""
    t = Tar()
    t.dir(".wh..wh.plnk")
    for i in range(n):
        t.reg(".wh..wh.plnk/%d.1" % i, 1)
    for i in range(n):
        t.hard("bin/h%d" % i, ".wh..wh.plnk/%d.1" % i)
    return [t.done()], (n, n)


def ordinary(entries, files_per_dir=500):
    """The twin: `entries` entries, ordinary files (1 B) in directories of files_per_dir."""
    t = Tar()
    n = 0
    while n < entries:
        d = "usr/share/pkg%d" % (n // files_per_dir)
        if n % files_per_dir == 0:
            t.dir(d)
        else:
            t.reg("%s/file%d" % (d, n), 1)
        n += 1
    files = entries - (entries + files_per_dir - 1) // files_per_dir
    return [t.done()], (files, files)


def long_paths(n, length):
    """n files (1 B) whose paths are `length` bytes: a shared chain of 40-byte directory
    names (as deep node_modules trees have), a directory of its own for every 20 files, and
    long file names -> n files, n B."""
    t = Tar()
    common = "/".join("d%02d-" % k + "x" * 36 for k in range((length - 200) // 41))
    for i in range(n):
        d = "%s/group%06d" % (common, i // 20)
        t.reg(d + "/" + ("f%d-" % i).ljust(length - len(d) - 1, "y"), 1)
    return [t.done()], (n, n)


def main(argv):
    out = argv[1]
    scale = float(argv[2]) if len(argv) > 2 else 1.0
    s = lambda n: max(1, int(n * scale))
    os.makedirs(out, exist_ok=True)
    shapes = [
        ("opaque", opaque(s(2000), s(60000))),
        ("whiteout", whiteout(s(2000), s(60000))),
        ("chains", chains(250, s(20000))),
        ("plnk", plnk(s(60000))),
    ]
    rows = []
    for name, (layers, expect) in shapes:
        docker_archive(os.path.join(out, name + ".tar"), layers)
        rows.append((name, expect))
        entries = sum(e for _, _, e in layers)
        twin_layers, twin_expect = ordinary(entries)
        docker_archive(os.path.join(out, name + "-twin.tar"), twin_layers)
        rows.append((name + "-twin", twin_expect))
    layers, expect = long_paths(s(100000), 3800)
    docker_archive(os.path.join(out, "longpaths.tar"), layers)
    rows.append(("longpaths", expect))
    with open(os.path.join(out, "expected.tsv"), "w") as f:
        for name, (files, size) in rows:
            f.write("%s\t%d\t%d\n" % (name, files, size))


if __name__ == "__main__":
    main(sys.argv)
