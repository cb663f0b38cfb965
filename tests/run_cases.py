#!/usr/bin/env python3
"""Run imgstat over a cases file (the format of ../shared/corpus/cases.json).

usage: run_cases.py BIN CASES.json [--stdin] [--files] [--detail] [-- EXTRA ARGS...]

Each case runs as `BIN EXTRA [args] INPUT` (and, with --stdin, with the input on
standard input as `-`, fed through a real pipe so the one-pass stream reader runs).  A case holds "expect" (the two API numbers) or
"expect_error" (non-zero exit, one line on stderr naming the input, optionally
containing "stderr_contains").  With --files, a case's "files" list
(path TAB size, from outside imgstat) is compared with `imgstat files --limit 0`
and with --detail its "detail" block (dirs, symlinks, other, layers, bytes per
path) with `imgstat --detail`.  Prints one line per failure and `N passed, N failed`.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import run  # noqa: E402  (feeds --stdin runs through a real pipe)


def check(case, code, out, err):
    if code is None:
        return err
    if code < 0 or code >= 128:
        return "crashed (exit %d): %s" % (code, err.strip()[-200:])
    if case.get("expect_error"):
        if code != 1:
            return "expected exit 1, got %d and %r" % (code, out.strip()[:200])
        if out.strip():
            return "error but stdout is not empty: %r" % out[:200]
        lines = err.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("imgstat: "):
            return "stderr is not one 'imgstat: ...' line: %r" % err[:300]
        want = case.get("stderr_contains")
        if want and want.lower() not in err.lower():
            return "stderr lacks %r: %r" % (want, err.strip()[:300])
        return None
    if code != 0:
        return "exit %d: %s" % (code, err.strip()[-300:])
    want = case.get("stderr_contains")  # a warning the case expects
    if want and want.lower() not in err.lower():
        return "stderr lacks %r: %r" % (want, err.strip()[:300])
    try:
        got = json.loads(out)
    except ValueError:
        return "stdout is not one JSON document: %r" % out[:200]
    bad = ["%s=%r (want %r)" % (k, got.get(k), v) for k, v in case["expect"].items()
           if got.get(k) != v]
    return "; ".join(bad) or None


def check_files(binary, case, base, extra, path):
    """Compare `imgstat files --limit 0 --format jsonl` with the case's file list."""
    want = []
    with open(os.path.join(base, case["files"]), "rb") as f:
        for line in f.read().split(b"\n"):
            if line:
                p, size = line.rsplit(b"\t", 1)
                want.append((p, int(size)))
    code, out, err = run([binary, "files", "--limit", "0", "--format", "jsonl"] + extra
                         + case.get("args", []) + [path])
    if code != 0:
        return "files: exit %s: %s" % (code, err.strip()[-200:])
    got = []
    for line in out.splitlines():
        d = json.loads(line)
        got.append((d["file_path"].encode("utf-8", "surrogateescape"), d["size"]))
    if got != want:
        extra_paths = sorted(set(got) - set(want))[:3]
        missing = sorted(set(want) - set(got))[:3]
        return "files differ: %d vs %d entries; unexpected %r; missing %r; order %s" % (
            len(got), len(want), extra_paths, missing,
            "differs" if sorted(got) == sorted(want) else "-")
    # --format text, as people read it: the size right-aligned in 12 columns, two spaces, the
    # path with valid UTF-8 as it is and any other byte or control character as \xHH
    code, out, err = run([binary, "files", "--limit", "0", "--format", "text"] + extra
                         + case.get("args", []) + [path])
    text_want = "".join("%12d  %s\n" % (size, text_escape(p)) for p, size in want)
    if code != 0 or out != text_want:
        return "files --format text: exit %s, first difference at line %d" % (
            code, next((i for i, (a, b) in enumerate(zip(out.splitlines(), text_want.splitlines()))
                        if a != b), min(len(out.splitlines()), len(text_want.splitlines()))))
    return None


def text_escape(raw):
    """A name as imgstat's text output writes it (independently of its code)."""
    out, i = [], 0
    while i < len(raw):
        for n in (4, 3, 2, 1):
            chunk = raw[i:i + n]
            try:
                ch = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and (n > 1 or 0x20 <= raw[i] < 0x7f):
                out.append(ch)
                i += n
                break
        else:
            out.append("\\x%02x" % raw[i])
            i += 1
    return "".join(out)


def check_detail(binary, case, extra, path):
    """Compare `imgstat --detail` with the case's detail block (counted outside imgstat)."""
    code, out, err = run([binary, "--detail"] + extra + case.get("args", []) + [path])
    if code != 0:
        return "detail: exit %s: %s" % (code, err.strip()[-200:])
    got = json.loads(out)
    if list(got)[:2] != ["total_files_num", "total_files_size"]:
        return "detail: the API's keys are not first: %r" % list(got)[:4]
    want = case["detail"]
    have = {"dirs": got["dirs"], "symlinks": got["symlinks"],
            "other": got["devices"] + got["fifos"], "layers": len(got["layers"]),
            "total_files_size_per_path": got["total_files_size_per_path"]}
    bad = ["%s=%r (want %r)" % (k, have.get(k), v) for k, v in want.items() if have.get(k) != v]
    for k, v in case["expect"].items():
        if got.get(k) != v:
            bad.append("%s=%r (want %r)" % (k, got.get(k), v))
    return "; ".join(bad) or None


def main(argv):
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    opts = [a for a in argv if a.startswith("--")]
    rest = [a for a in argv if not a.startswith("--")]
    if len(rest) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    binary, cases_file = os.path.abspath(rest[0]), rest[1]
    if not os.path.isfile(cases_file):
        print("skipped: %s is absent" % cases_file)
        return 77  # meson's SKIP
    base = os.path.dirname(os.path.abspath(cases_file))
    passed = failed = 0
    for case in json.load(open(cases_file))["cases"]:
        path = os.path.join(base, case["input"])
        args = extra + case.get("args", [])
        runs = [("file", [binary] + args + [path], None)]
        if "--stdin" in opts and os.path.isfile(path) and case.get("stdin", True):
            runs.append(("stdin", [binary] + args + ["-"], path))
        if "--detail" in opts and case.get("detail"):
            why = check_detail(binary, case, extra, path)
            if why:
                failed += 1
                print("FAIL %s [detail]: %s" % (case["name"], " ".join(why.split())[:300]))
            else:
                passed += 1
        if "--files" in opts and case.get("files"):
            why = check_files(binary, case, base, extra, path)
            if why:
                failed += 1
                print("FAIL %s [files]: %s" % (case["name"], " ".join(why.split())[:300]))
            else:
                passed += 1
        for how, cmd, stdin_path in runs:
            why = check(case, *run(cmd, stdin_path))
            if why:
                failed += 1
                print("FAIL %s [%s]: %s" % (case["name"], how, " ".join(why.split())[:300]))
            else:
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
