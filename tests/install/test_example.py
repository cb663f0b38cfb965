#!/usr/bin/env python3
"""The C example (examples/largest.c), built through pkg-config as its comment says and run.

usage: test_example.py SOURCE_ROOT

Builds `$CC examples/largest.c $(pkg-config --cflags --libs imgstat) $EXTRA_CFLAGS` in a
scratch folder: with PKG_CONFIG_PATH=BUILD/meson-uninstalled, meson's uninstalled imgstat.pc
finds the build tree's library and header (meson test sets it); without it, the installed
libimgstat-dev is used (CI's package step). CC defaults to cc; EXTRA_CFLAGS carries the
sanitizer flags of a sanitized build, whose library needs their runtime.

Then runs it on testdata/example/app.docker.tar, from the file and through a pipe, and
compares its exact output with the answer in testdata/cases.json: the two totals of the
case's "expect", and the N largest files of its "files" list (written by hand, checked with
umoci by the fixture generator), largest first, equal sizes by path. A missing image must
exit 1 with one "largest: " line. Prints `N passed, N failed`.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import answer, finish, ok, run  # noqa: E402

IMAGE = "example/app.docker.tar"


def expected(root, n):
    """The example's output for IMAGE, from the case's answers (never from imgstat)."""
    want = answer(root, IMAGE)
    with open(os.path.join(root, "testdata", "cases.json")) as f:
        case = next(c for c in json.load(f)["cases"] if c["input"] == IMAGE)
    files = []
    with open(os.path.join(root, "testdata", case["files"]), "rb") as f:
        for line in f.read().decode().splitlines():
            path, size = line.rsplit("\t", 1)
            files.append((int(size), path))
    files.sort(key=lambda f: (-f[0], f[1].encode()))
    lines = ["%d files, %d bytes" % (want["total_files_num"], want["total_files_size"])]
    lines += ["%12d  %s" % f for f in files[:n]]
    return "".join(l + "\n" for l in lines)


def library_dirs(env):
    """The -L folders pkg-config names, for running against an uninstalled library."""
    r = subprocess.run(["pkg-config", "--libs-only-L", "imgstat"], capture_output=True,
                       text=True, env=env)
    return [w[2:] for w in r.stdout.split() if w.startswith("-L")]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    root = os.path.abspath(argv[1])
    env = dict(os.environ)
    cc = env.get("CC") or "cc"
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "largest")
        cmd = "%s %s $(pkg-config --cflags --libs imgstat) %s -o %s" % (
            cc, shlex.quote(os.path.join(root, "examples", "largest.c")),
            env.get("EXTRA_CFLAGS", ""), shlex.quote(exe))
        r = subprocess.run(["sh", "-c", "set -e; " + cmd], capture_output=True, text=True,
                           env=env, cwd=tmp)
        ok("build: " + cmd, r.returncode == 0, r.stderr.strip()[-2000:])
        if r.returncode != 0:
            finish()
        libs = library_dirs(env)
        if libs:
            env["LD_LIBRARY_PATH"] = ":".join(libs + [env.get("LD_LIBRARY_PATH", "")])
        path = os.path.join(root, "testdata", IMAGE)
        for n in (5, 3):
            want = expected(root, n)
            for how, args, stdin in (("file", [path], None), ("pipe", ["-"], path)):
                code, out, err = run([exe] + args + [str(n)], stdin_path=stdin, env=env)
                ok("largest %s %d: exit 0" % (how, n), code == 0, err)
                ok("largest %s %d: output" % (how, n), out == want,
                   "\n--- got\n%s--- want\n%s" % (out, want))
        code, out, err = run([exe, os.path.join(tmp, "missing.tar")], env=env)
        ok("missing image: exit 1, one line", code == 1 and not out and
           err.count("\n") == 1 and err.startswith("largest: "), (code, out, err))
    finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
