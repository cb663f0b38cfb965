#!/usr/bin/env python3
"""--detail and --format text on images this test writes itself (python tarfile).

usage: test_detail.py IMGSTAT

Every expected value is derived here from the layers as written, never from imgstat:
wasted bytes (every copy of a file not in the final view), efficiency, per-layer
added/replaced/removed counts and bytes, the largest files, and escaping of
non-printable bytes in names in text output.  Prints `N passed, N failed`.
"""
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import finish, ok  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
MB = 1000 * 1000
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")


def readme_detail_keys():
    """The top-level keys the README's --detail table documents, and the detail_version it
    states ("now `[1, 0]`")."""
    text = open(README, encoding="utf-8").read().split("### `--detail`", 1)[1]
    table = next(b for b in text.split("\n\n") if b.startswith("| field"))
    keys = set()
    for row in table.split("\n")[2:]:
        for name in re.findall(r"`([a-z_.\[\]]+)`", row.split("|")[1]):
            keys.add(name.split(".")[0].rstrip("[]"))
    m = re.search(r"now `\[(\d+), (\d+)\]`", table)
    return keys, [int(m.group(1)), int(m.group(2))] if m else None


def layer(entries):
    """entries: (name, size) for files, (name, None) for whiteouts/dirs by suffix."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, size in entries:
            ti = tarfile.TarInfo(name)
            if name.endswith("/"):
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                ti.size = size or 0
                t.addfile(ti, io.BytesIO(b"x" * ti.size))
    return buf.getvalue()


def docker_archive(path, layers, tag="t:1"):
    blobs = [layer(l) for l in layers]
    ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": ids}}).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    names = [i.split(":")[1] + ".tar" for i in ids]
    man = json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]).encode()
    with tarfile.open(path, "w") as t:
        for name, data in list(zip(names, blobs)) + [(cfg_name, cfg), ("manifest.json", man)]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))


def detail(path, *args):
    p = subprocess.run([BIN, "--detail"] + list(args) + [path], capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode()


with tempfile.TemporaryDirectory() as d:
    # a 1 MB file written, then overwritten twice: 1 MB in the view, 2 MB wasted (issue #4)
    img = os.path.join(d, "overwrite.tar")
    docker_archive(img, [[("f", MB)], [("f", MB)], [("f", MB)]])
    code, out, err = detail(img)
    r = json.loads(out) if code == 0 else {}
    ok("overwrite: totals", r.get("total_files_num") == 1 and r.get("total_files_size") == MB, out)
    # the keys: the API's two first and unchanged, then the format's version and imgstat's,
    # then exactly what the README's --detail table documents
    keys, version = readme_detail_keys()
    ok("keys: API's two, then the versions", list(r)[:4] == [
        "total_files_num", "total_files_size", "detail_version", "imgstat_version"], list(r))
    ok("keys: as the README documents", set(r) == keys | {"total_files_num", "total_files_size"},
       "README lacks %s; output lacks %s" % (sorted(set(r) - keys - {"total_files_num",
                                                                     "total_files_size"}),
                                            sorted(keys - set(r))))
    ok("detail_version: as the README states", version and r.get("detail_version") == version,
       "%r vs README %r" % (r.get("detail_version"), version))
    v = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    ok("imgstat_version: --version's", v == "imgstat %s" % r.get("imgstat_version"),
       "%r vs %r" % (r.get("imgstat_version"), v))
    ok("overwrite: wasted 2 MB", r.get("wasted_bytes") == 2 * MB, r.get("wasted_bytes"))
    ok("overwrite: efficiency 1/3", abs(r.get("efficiency", 0) - 1 / 3) < 1e-5, r.get("efficiency"))
    ok("overwrite: layer_files_size 3 MB", r.get("layer_files_size") == 3 * MB, out[:200])
    ls = r.get("layers", [])
    ok("overwrite: 3 layers", len(ls) == 3, len(ls))
    if len(ls) == 3:
        ok("overwrite: L0 adds", (ls[0]["files_added"], ls[0]["bytes_added"]) == (1, MB), ls[0])
        ok("overwrite: L1 replaces", (ls[1]["files_replaced"], ls[1]["bytes_replaced"],
                                      ls[1]["files_added"], ls[1]["paths_removed"]) == (1, MB, 0, 0), ls[1])
        ok("overwrite: L2 replaces", ls[2]["files_replaced"] == 1, ls[2])
        ok("overwrite: uncompressed", all(l["compression"] == "none" for l in ls), ls)

    # deletions: L0 a(100) b(200) d/x(300) d/y(400); L1 whites out a and d/, adds c(50)
    img = os.path.join(d, "delete.tar")
    docker_archive(img, [[("a", 100), ("b", 200), ("d/", None), ("d/x", 300), ("d/y", 400)],
                         [(".wh.a", 0), (".wh.d", 0), ("c", 50)]])
    code, out, err = detail(img, "--top", "2")
    r = json.loads(out) if code == 0 else {}
    ok("delete: totals", (r.get("total_files_num"), r.get("total_files_size")) == (2, 250), out)
    ok("delete: wasted = 100+300+400", r.get("wasted_bytes") == 800, r.get("wasted_bytes"))
    ls = r.get("layers", [{}, {}])
    # L1 hides a, d, d/x, d/y: four paths, 800 bytes of files; adds c
    ok("delete: L1 removed", (ls[1].get("paths_removed"), ls[1].get("bytes_removed")) == (4, 800), ls[1])
    ok("delete: L1 added", (ls[1].get("files_added"), ls[1].get("bytes_added")) == (1, 50), ls[1])
    ok("delete: entries", (ls[0].get("entries"), ls[1].get("entries")) == (5, 3), ls)
    ok("delete: dirs and identity", r.get("dirs") == 0 and r["image"]["refs"] == ["t:1"], out[:300])
    ok("delete: top 2 largest", [f["file_path"] for f in r.get("largest_files", [])] == ["/b", "/c"],
       r.get("largest_files"))

    # text output: human units, and a name with control bytes escaped
    img = os.path.join(d, "text.tar")
    docker_archive(img, [[("bad\x1b[31mname\n", 5), ("big", 3 * 1024 * 1024)]])
    p = subprocess.run([BIN, "--format", "text", "--detail", img], capture_output=True, timeout=60)
    text = p.stdout.decode("utf-8", "replace")
    ok("text: exit 0", p.returncode == 0, p.stderr)
    ok("text: human units", "3.0 MiB" in text, text)
    ok("text: no raw escape bytes", "\x1b" not in text, repr(text))
    p = subprocess.run([BIN, "files", "--format", "text", "--limit", "0", img], capture_output=True)
    text = p.stdout.decode("utf-8", "replace")
    ok("text files: escaped", "\\x1b[31mname\\x0a" in text and "\x1b" not in text, repr(text))
    p = subprocess.run([BIN, "files", "--limit", "0", img], capture_output=True)
    j = json.loads(p.stdout)
    ok("json files: the raw name round-trips", "/bad\x1b[31mname\n" in
       [f["file_path"] for f in j["data_list"]], j)

finish()
