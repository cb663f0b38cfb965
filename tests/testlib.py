"""Shared by the python test scripts: counted checks, and answers from testdata/cases.json.

Every script prints one line per failed check and closes with `N passed, N failed`.
"""
import json
import os
import subprocess
import sys

_count = {"passed": 0, "failed": 0}


def ok(name, cond, why=""):
    """Count one check; print it when it fails.  Returns cond, so callers can branch on it."""
    if cond:
        _count["passed"] += 1
    else:
        _count["failed"] += 1
        print("FAIL %s%s" % (name, ": %s" % why if why != "" else ""))
    return bool(cond)


def passed(n):
    """Count n checks that passed together (a set of options found on both sides, say)."""
    _count["passed"] += n


def counts():
    """(passed, failed) so far."""
    return _count["passed"], _count["failed"]


def finish(extra_failed=0):
    """Print the closing line and exit non-zero when a check failed."""
    _count["failed"] += extra_failed
    print("%d passed, %d failed" % (_count["passed"], _count["failed"]))
    sys.exit(1 if _count["failed"] else 0)


def answer(root, inp, args=()):
    """The hand-derived expect block of the testdata case for input inp with these args."""
    cases = json.load(open(os.path.join(root, "testdata", "cases.json")))["cases"]
    for c in cases:
        if c["input"] == inp and c.get("args", []) == list(args) and "expect" in c:
            return c["expect"]
    raise KeyError(inp)


def run(cmd, stdin_path=None, timeout=120, env=None):
    """Run cmd and return (exit status or None on timeout, stdout, stderr) as text.  With
    stdin_path the file is fed through a real pipe (`cat FILE | cmd`), never a seekable
    redirect, so imgstat's one-pass stream reader is what runs."""
    feeder = None
    if stdin_path:
        feeder = subprocess.Popen(["cat", stdin_path], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
    try:
        p = subprocess.run(cmd, stdin=feeder.stdout if feeder else subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, env=env)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %ds" % timeout
    finally:
        if feeder:
            feeder.stdout.close()
            feeder.kill()
            feeder.wait()
