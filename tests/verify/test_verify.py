#!/usr/bin/env python3
"""--verify: a single flipped byte in a layer, a manifest or a config is caught.

usage: test_verify.py IMGSTAT REPO_ROOT

Each case copies an image from testdata/, flips one byte (inside a file's data, so the
image still parses and scans without --verify), and asserts: without --verify the scan
succeeds with the image's known answer (from testdata/cases.json); with --verify it exits
1 with one line naming the mismatch; the untouched image passes --verify.  Tarball cases
also run on stdin.  Prints one line per failure and `N passed, N failed`.
"""
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402
from testlib import finish, ok as expect  # noqa: E402

BIN, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])


def run(args, stdin=None):
    """imgstat ARGS; with stdin, that file through a real pipe (the one-pass reader)."""
    return testlib.run([BIN] + args, stdin, timeout=60)


def check(name, path, answer, word, stdin_too=False):
    """The damaged image scans without --verify and fails with it."""
    modes = [("file", [path], None)] + ([("stdin", ["-"], path)] if stdin_too else [])
    for how, arg, stdin in modes:
        code, out, err = run(arg, stdin)
        expect("%s [%s] plain" % (name, how), code == 0 and json.loads(out) == answer,
               "exit %d %r %r" % (code, out, err))
        code, out, err = run(["--verify"] + arg, stdin)
        lines = err.strip().splitlines()
        expect("%s [%s] --verify" % (name, how),
               code == 1 and not out and len(lines) == 1 and word in lines[0],
               "exit %d stdout %r stderr %r" % (code, out, err))


def flip(data, at):
    b = bytearray(data)
    b[at] ^= 0x01
    return bytes(b)


def oci_blobs(layout):
    idx = json.load(open(os.path.join(layout, "index.json")))
    mdig = idx["manifests"][0]["digest"]
    blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))
    man = json.load(open(blob(mdig)))
    return blob, mdig, man


def main():
    work = tempfile.mkdtemp()
    try:
        src = os.path.join(ROOT, "testdata", "oci", "std-gzip")
        answer = testlib.answer(ROOT, "oci/std-gzip")
        code, out, err = run(["--verify", src])
        expect("intact layout passes --verify", code == 0 and json.loads(out) == answer, err)

        # a layer: flip a byte inside the gzip stream's stored data would break the
        # inflater; flip one in an uncompressed copy instead: re-point nothing, just the blob
        for what in ("manifest", "config", "layer"):
            dst = os.path.join(work, what)
            shutil.copytree(src, dst)
            for root, _, files in os.walk(dst):
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
            blob, mdig, man = oci_blobs(dst)
            if what == "manifest":
                p = blob(mdig)
                data = open(p, "rb").read()
                at = data.index(b"application/") + 3  # a media type's letter, still valid JSON
                word = "digest mismatch"
            elif what == "config":
                p = blob(man["config"]["digest"])
                data = open(p, "rb").read()
                at = data.index(b'"os"') + 2  # the key's letter: the config still parses
                word = "digest mismatch"
            else:
                p = blob(man["layers"][-1]["digest"])
                data = open(p, "rb").read()
                at = 3  # gzip FLG byte 0->1 (FTEXT): a header flag that changes no data
                word = "blob digest mismatch"
            open(p, "wb").write(flip(data, at))
            check("oci %s byte flipped" % what, dst, answer, word)

        # docker-archive: an uncompressed layer member with one byte of file data flipped
        src = os.path.join(ROOT, "testdata", "fmt", "classic-repeat-symlink.docker.tar")
        answer = testlib.answer(ROOT, "fmt/classic-repeat-symlink.docker.tar")
        code, out, err = run(["--verify", src])
        expect("intact docker-archive passes --verify", code == 0 and json.loads(out) == answer, err)
        with tarfile.open(src) as t:
            members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
        for what in ("layer", "config"):
            out_path = os.path.join(work, "docker-%s.tar" % what)
            done = False
            with tarfile.open(out_path, "w", format=tarfile.GNU_FORMAT) as t:
                for m, data in members:
                    if not done and data is not None:
                        if what == "layer" and m.name.endswith("layer.tar") and len(data) > 1024:
                            inner = tarfile.open(fileobj=io.BytesIO(data))
                            first = next(x for x in inner.getmembers() if x.isfile() and x.size)
                            data, done = flip(data, first.offset_data), True
                        elif what == "config" and m.name.endswith(".json") and "/" not in m.name:
                            data, done = flip(data, data.index(b'"os"') + 2), True
                    t.addfile(m, io.BytesIO(data) if data is not None else None)
            expect("docker %s: a byte was flipped" % what, done, "no member to damage")
            word = "diff_id mismatch" if what == "layer" else "digest mismatch"
            check("docker %s byte flipped" % what, out_path, answer, word, stdin_too=True)
    finally:
        shutil.rmtree(work)
    finish()


if __name__ == "__main__":
    sys.exit(main())
