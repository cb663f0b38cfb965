#!/usr/bin/env python3
"""Several images: several IMAGE arguments and --all print one JSON line per image.

usage: test_batch.py IMGSTAT REPO_ROOT

Expected numbers come from testdata/cases.json (derived by hand, not from imgstat).
Checks: lines in input order whatever finishes first; each line carries the two API
keys first, the input and the image's identity; a bad input gets an error line and
exit status 1 without stopping the others; --all lists every distinct image of an
input once, with all its refs; gates exit 3.  Prints `N passed, N failed`.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import answer, finish, ok  # noqa: E402

BIN, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])


def run(args):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=120, cwd=ROOT)
    lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return p.returncode, lines, p.stderr.decode()


# several inputs, one bad: every good one reported, in order, exit 1
inputs = ["fmt/classic-repeat-symlink.docker.tar", "err/empty-file.tar", "oci/std-gzip",
          "fmt/legacy-v1.tar", "fmt/docker25.tar"]
code, lines, err = run([os.path.join("testdata", i) for i in inputs])
ok("several: exit 1 when one fails", code == 1, "exit %d" % code)
ok("several: one line per input", len(lines) == len(inputs), "%d lines" % len(lines))
for inp, line in zip(inputs, lines):
    ok("several: %s names its input" % inp, line.get("input") == os.path.join("testdata", inp),
       repr(line)[:200])
    if inp.startswith("err/"):
        ok("several: %s has an error" % inp, "error" in line and "total_files_num" not in line,
           repr(line)[:200])
        continue
    want = answer(ROOT, inp)
    ok("several: %s keys first" % inp, list(line)[:2] == ["total_files_num", "total_files_size"],
       repr(list(line)))
    ok("several: %s values" % inp, {k: line[k] for k in want} == want, "%r vs %r" % (line, want))
    ok("several: %s identity" % inp, isinstance(line.get("image"), dict) and
       line["image"].get("format") in ("docker-archive", "oci", "docker-legacy"), repr(line)[:200])
ok("several: the error is on stderr too", err.count("imgstat: ") == 1, err)

# a warning is on stderr for each image it concerns, with several inputs as with one
# (cases.json: F8's config lists fewer diff_ids than the manifest has layers)
code, lines, err = run(["testdata/json/F8-fewer-diff-ids", "testdata/fmt/docker25.tar"])
ok("several: exit 0 with a warning", code == 0, err)
ok("several: the warning on stderr, naming its input, once",
   err.count("imgstat: testdata/json/F8-fewer-diff-ids: warning: config") == 1 and
   err.count("warning") == 1, err)
code, lines, err = run(["--all", "testdata/json/F8-fewer-diff-ids"])
ok("--all: the warning too", code == 0 and "F8-fewer-diff-ids: warning: config" in err, err)

# --all: the two-image archive gives both images, each once, with all refs
code, lines, err = run(["--all", "testdata/fmt/select-two-images.docker.tar"])
ok("--all: exit 0", code == 0, err)
ok("--all: two images", len(lines) == 2, "%d lines" % len(lines))
byref = {tuple(sorted(l["image"]["refs"])): l for l in lines}
for args in (["--image", "example.com/app:1.0"], ["--image", "other:2"]):
    want = answer(ROOT, "fmt/select-two-images.docker.tar", args)
    hit = [l for refs, l in byref.items() if args[1] in refs]
    ok("--all: %s present once" % args[1], len(hit) == 1, repr(byref.keys()))
    if hit:
        ok("--all: %s values" % args[1], {k: hit[0][k] for k in want} == want, repr(hit[0]))
app = [l for refs, l in byref.items() if "example.com/app:1.0" in refs]
ok("--all: one line carries both tags", bool(app) and
   set(app[0]["image"]["refs"]) >= {"example.com/app:1.0", "example.com/app:latest"}, repr(app))

# gates apply per image: exit 3 when one image breaches, the report still printed
code, lines, err = run(["--max-files", "2", "testdata/fmt/select-two-images.docker.tar",
                        "--all"])
ok("gates: exit 3", code == 3, "exit %d %s" % (code, err))
ok("gates: report printed", len(lines) == 2, "%d lines" % len(lines))

finish()
