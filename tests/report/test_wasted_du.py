#!/usr/bin/env python3
"""wasted_files (--detail) and `imgstat du` against answers computed without imgstat.

usage: test_wasted_du.py IMGSTAT SOURCE_ROOT

- testdata/report/ (tests/fixtures/fx_report.py): every wasted path (copies, bytes, layers)
  and every directory's and file's figures equal the hand-computed ones in expect.json.
- The shared corpus (../shared/corpus, skipped where absent): each image's layers are read
  here with python's tarfile and replayed through fx_report's model (docs/rules.md C6, C7);
  its wasted paths equal imgstat's, and they add up to the wasted bytes worked out from the
  layers' regular files and the corpus's own total_files_size (cases.json, from umoci).
- `umoci unpack` of the fixtures and of the corpus, then a walk of the rootfs written here:
  every directory's bytes (each inode once, at its first name in byte-wise order: C7) and
  regular files equal `imgstat du --depth 4096`'s, and the root's equal the totals.  du
  --apparent-size is not used: it counts directories and symlinks; this walk adds up only
  regular files.  A device that rootless umoci writes as an empty file is left out (umoci
  names each on stderr).
- The order (largest first, then by path), --top, --depth, PATH, and the usage errors.

Prints one line per failed check and `N passed, N failed`.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from testlib import finish, ok  # noqa: E402
import fx_report  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
TESTDATA = os.path.join(ROOT, "testdata")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
# one OCI layout (uncompressed or gzip layers, which tarfile reads) per corpus image
CORPUS_IMAGES = ["tiny/oci-none", "layered-deletes/oci-none", "opaque/oci-none",
                 "hardlinks/oci-none", "odd-paths/oci-none", "mixed/oci-none-gzip"]


def run(*args):
    p = subprocess.run([BIN] + list(args), capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode()


def detail(path):
    code, out, err = run("--detail", "--top", "100000", path)
    return json.loads(out) if code == 0 else {"error": err}


def du_rows(path, *args):
    code, out, err = run("du", "--depth", "4096", *args, path)
    return json.loads(out)["data_list"] if code == 0 else [{"error": err}]


def key(w):
    return (w["file_path"], w["copies"], w["wasted_bytes"], tuple(w["layers"]))


def check_wasted(name, got, want_files, want_wasted):
    ok(name + ": wasted_bytes", got.get("wasted_bytes") == want_wasted,
       "%r, expected %r" % (got.get("wasted_bytes"), want_wasted))
    files = got.get("wasted_files", [])
    ok(name + ": wasted_files add up to wasted_bytes",
       sum(w["wasted_bytes"] for w in files) == want_wasted,
       "%d vs %d" % (sum(w["wasted_bytes"] for w in files), want_wasted))
    g, w = sorted(map(key, files)), sorted(map(key, want_files))
    ok(name + ": wasted_files", g == w, "unexpected %r; missing %r"
       % (sorted(set(g) - set(w))[:4], sorted(set(w) - set(g))[:4]))
    order = [(-f["wasted_bytes"], f["file_path"].encode("utf-8", "surrogateescape"))
             for f in files]
    ok(name + ": wasted_files largest first, then by path", order == sorted(order), order[:5])


# ---- the fixtures ---------------------------------------------------------------------

def check_fixtures():
    expect = json.load(open(os.path.join(TESTDATA, "report", "expect.json")))
    for rel, e in sorted(expect.items()):
        path = os.path.join(TESTDATA, rel)
        got = detail(path)
        check_wasted(rel, got, e["wasted_files"], e["wasted_bytes"])
        ok(rel + ": layer_files_size", got.get("layer_files_size") == e["layer_files_size"],
           got.get("layer_files_size"))
        rows = du_rows(path, "--all")
        want = {r["path"]: r for r in e["du"]}
        ok(rel + ": du --all, every directory and file", {r.get("path"): r for r in rows} == want,
           "got %r" % rows[:6])
        order = [(-r["size"], r["path"].encode("utf-8", "surrogateescape")) for r in rows]
        ok(rel + ": du largest first, then by path", order == sorted(order), order[:6])
        ok(rel + ": du / is the totals", rows and rows[0]["path"] == "/" and
           (rows[0]["size"], rows[0]["files"]) == (got.get("total_files_size"),
                                                   got.get("total_files_num")), rows[:1])
    return expect


def check_options(expect):
    img = os.path.join(TESTDATA, "report", "C7-first-name.oci.tar")
    want = {r["path"]: r for r in expect["report/C7-first-name.oci.tar"]["du"]}
    # default: PATH and its directories, one level
    rows = json.loads(run("du", img)[1])["data_list"]
    ok("du: default depth 1, directories only", [r["path"] for r in rows] == ["/", "/a", "/c", "/b", "/e"],
       rows)
    ok("du: figures as expected", all(r == want[r["path"]] for r in rows), rows)
    rows = json.loads(run("du", "--top", "2", img)[1])
    ok("du --top 2: the two largest, total_num before the cut",
       [r["path"] for r in rows["data_list"]] == ["/", "/a"] and rows["total_num"] == 5, rows)
    rows = json.loads(run("du", "--depth", "0", img, "/c/")[1])["data_list"]
    ok("du PATH --depth 0: PATH alone", rows == [want["/c"]], rows)
    rows = json.loads(run("du", img, "c/./d/../")[1])["data_list"]
    ok("du PATH is read as a member name", [r["path"] for r in rows] == ["/c", "/c/d"], rows)
    rows = json.loads(run("du", img, "/a/big")[1])["data_list"]
    ok("du PATH a file: itself", rows == [want["/a/big"]], rows)
    code, out, err = run("du", "--format", "csv", img, "/c")
    ok("du --format csv", out == 'path,type,size,files\n"/c",directory,5,2\n"/c/d",directory,5,1\n',
       out)
    code, out, err = run("du", img, "/nope")
    ok("du PATH missing: exit 1, one line, no output",
       code == 1 and not out and err.count("\n") == 1 and "/nope" in err, (code, out, err))
    for args, what in ((("du", img, "/a", "/b"), "three operands"),
                       (("du", "--top", "0", img), "--top 0"),
                       (("du", "--depth", "4097", img), "--depth beyond 4096"),
                       (("du", "--format", "jsonl", img), "--format jsonl"),
                       (("du", img, "a/" * 2049), "PATH beyond 4096 bytes"),
                       (("report", img, img), "report of two images"),
                       (("report", "--format", "json", img), "report --format")):
        code, out, err = run(*args)
        ok("usage error: " + what, code == 2 and not out and "Try 'imgstat --help'" in err,
           (code, out, err))
    code, out, err = run("report", "-o", "/nonexistent-dir/x.html", img)
    ok("report -o unwritable: exit 1, one line", code == 1 and not out and
       err.startswith("imgstat: /nonexistent-dir/x.html: cannot write the page"), (code, err))


# ---- the corpus, replayed through the model -------------------------------------------

def blob(layout, digest):
    alg, hexd = digest.split(":")
    return os.path.join(layout, "blobs", alg, hexd)


def corpus_layers(layout):
    """The layers of the layout's only image, each as the model's entry tuples, and the
    regular-file bytes they carry."""
    index = json.load(open(os.path.join(layout, "index.json")))
    man = json.load(open(blob(layout, index["manifests"][0]["digest"])))
    layers, carried = [], 0
    for d in man["layers"]:
        entries = []
        with tarfile.open(blob(layout, d["digest"]), "r:*") as tf:
            for ti in tf:
                if ti.isreg():
                    entries.append(("reg", ti.name, ti.size, None))
                    carried += ti.size
                elif ti.isdir():
                    entries.append(("dir", ti.name, 0, None))
                elif ti.issym():
                    entries.append(("sym", ti.name, 0, ti.linkname))
                elif ti.islnk():
                    entries.append(("hard", ti.name, 0, ti.linkname))
                else:
                    entries.append(("other", ti.name, 0, None))
        layers.append(entries)
    return layers, carried


def corpus_expect(inp):
    cases = json.load(open(os.path.join(CORPUS, "cases.json")))["cases"]
    return next(c["expect"] for c in cases if c["input"] == inp and not c["args"])


def check_corpus():
    for inp in CORPUS_IMAGES:
        layout = os.path.join(CORPUS, inp)
        layers, carried = corpus_layers(layout)
        want = fx_report.model(layers)
        exp = corpus_expect(inp)
        ok(inp + ": the model's totals are the corpus's",
           (want["total_files_num"], want["total_files_size"]) ==
           (exp["total_files_num"], exp["total_files_size"]), (want["total_files_num"],
                                                                 want["total_files_size"], exp))
        wasted = carried - exp["total_files_size"]
        got = detail(layout)
        check_wasted(inp, got, want["wasted_files"], wasted)
        rows = du_rows(layout, "--all")
        ok(inp + ": du --all as the model", {r["path"]: r for r in rows} ==
           {r["path"]: r for r in want["du"]}, "got %r" % rows[:5])


# ---- umoci ----------------------------------------------------------------------------

def walk_rootfs(root, skip):
    """{directory: (bytes, files)} of an unpacked rootfs: regular files only, each inode's
    bytes at its first name in byte-wise path order (C7)."""
    out, seen = {}, set()

    def visit(d, rel):
        entries = []
        for n in os.listdir(d):
            st = os.lstat(os.path.join(d, n))
            entries.append((os.fsencode(n) + (b"/" if stat.S_ISDIR(st.st_mode) else b""), n, st))
        b = f = 0
        for _, n, st in sorted(entries):
            p = rel + "/" + n
            if stat.S_ISDIR(st.st_mode):
                cb, cf = visit(os.path.join(d, n), p)
                b, f = b + cb, f + cf
            elif stat.S_ISREG(st.st_mode) and p not in skip:
                f += 1
                if st.st_ino not in seen:
                    seen.add(st.st_ino)
                    b += st.st_size
        out[rel or "/"] = (b, f)
        return b, f

    visit(root, "")
    return out


def unpack(layout, ref, work):
    bundle = os.path.join(work, "bundle")
    shutil.rmtree(bundle, ignore_errors=True)
    r = subprocess.run(["umoci", "unpack", "--rootless", "--image", layout + ":" + ref, bundle],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, None
    # rootless umoci cannot make devices: "rootless{odd/null} creating empty file in place of
    # device 1:3"
    skip = {"/" + m for m in re.findall(r"rootless\{([^}]*)\} creating empty file", r.stderr)}
    return os.path.join(bundle, "rootfs"), skip


def check_umoci_one(name, layout, ref, imgpath, work):
    root, skip = unpack(layout, ref, work)
    if root is None:
        ok(name + ": umoci unpack", False, "umoci failed")
        return
    want = walk_rootfs(root, skip)
    got = {r["path"]: (r["size"], r["files"]) for r in du_rows(imgpath)}
    ok(name + ": every directory's figure as umoci's rootfs", got == want,
       "differ: %r" % sorted((p, got.get(p), want.get(p)) for p in set(got) | set(want)
                             if got.get(p) != want.get(p))[:5])
    d = detail(imgpath)
    ok(name + ": umoci's / is the totals", want["/"] == (d.get("total_files_size"),
                                                        d.get("total_files_num")), want["/"])


def check_umoci(expect):
    if not shutil.which("umoci"):
        print("SKIP umoci checks: umoci is not installed (apt-get install umoci)")
        return
    with tempfile.TemporaryDirectory() as work:
        for rel, e in sorted(expect.items()):
            if not e["umoci"]:
                continue
            layout = os.path.join(work, "layout")
            shutil.rmtree(layout, ignore_errors=True)
            with tarfile.open(os.path.join(TESTDATA, rel)) as t:
                t.extractall(layout)
            check_umoci_one(rel, layout, "latest", os.path.join(TESTDATA, rel), work)
        if os.path.isdir(CORPUS):
            for inp in CORPUS_IMAGES:
                layout = os.path.join(CORPUS, inp)
                check_umoci_one(inp, layout, "latest", layout, work)


expect = check_fixtures()
check_options(expect)
if os.path.isdir(CORPUS):
    check_corpus()
else:
    print("SKIP corpus checks: %s is absent" % CORPUS)
check_umoci(expect)
finish()
