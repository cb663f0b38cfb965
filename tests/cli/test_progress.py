#!/usr/bin/env python3
"""Progress: a line on stderr for long scans, never on stdout, cleared at the end.

usage: test_progress.py IMGSTAT REPO_ROOT

A tarball is fed through a pipe slowly (over ~1.5 s) so the scan outlasts the half-second
delay.  With --progress, stderr holds redraws ("\\r\\033[K..."), at most ~10 a second, and
ends cleared; stdout is the exact report (answer from testdata/cases.json).  Without a
terminal and without --progress, stderr stays empty; --no-progress wins over a terminal
(checked with a pseudo-terminal).  Prints `N passed, N failed`.
"""
import json
import os
import pty
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import answer, finish, ok  # noqa: E402

BIN, ROOT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
INPUT = "fmt/classic-repeat-symlink.docker.tar"
WANT = answer(ROOT, INPUT)
DATA = open(os.path.join(ROOT, "testdata", INPUT), "rb").read()


def slow_run(args, seconds=1.5, stderr=None):
    """Run with the input trickled into a pipe; stdout and stderr go to files."""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([BIN] + args + ["-"], stdin=subprocess.PIPE, stdout=out,
                             stderr=stderr if stderr is not None else err)
        chunk = max(1, len(DATA) // 30)
        for i in range(0, len(DATA), chunk):
            p.stdin.write(DATA[i:i + chunk])
            p.stdin.flush()
            time.sleep(seconds / 30)
        p.stdin.close()
        p.wait(timeout=60)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read().decode(), err.read().decode()


code, out, err = slow_run(["--progress"])
ok("--progress: exit 0", code == 0, err)
ok("--progress: stdout is the report only", json.loads(out) == WANT and out.count("\n") == 1, out)
ok("--progress: drew a line", "\r\033[K" in err and "reading" in err, repr(err[:200]))
ok("--progress: ends cleared", err.endswith("\r\033[K"), repr(err[-40:]))
ok("--progress: at most ~10 redraws a second", err.count("\r\033[K") <= 1 + 10 * 2, err.count("\r"))

code, out, err = slow_run([])
ok("not a terminal: no progress", code == 0 and err == "", repr(err))

# a pseudo-terminal as stderr: progress by default, none with --no-progress
for args, want in (([], True), (["--no-progress"], False)):
    master, slave = pty.openpty()
    code, out, _ = slow_run(args, stderr=slave)
    os.close(slave)
    os.set_blocking(master, False)
    try:
        tty = os.read(master, 65536).decode("utf-8", "replace")
    except (BlockingIOError, OSError):
        tty = ""
    os.close(master)
    ok("terminal %s: progress %s" % (args, want), ("\033[K" in tty) == want and code == 0,
       repr(tty[:200]))

# a terminal as standard input: refused at once, not a silent wait for input
master, slave = pty.openpty()
p = subprocess.run([BIN, "-"], stdin=slave, capture_output=True, timeout=30)
os.close(slave)
os.close(master)
ok("stdin a terminal: refused", p.returncode == 1 and b"terminal" in p.stderr and not p.stdout,
   "%d %r" % (p.returncode, p.stderr))

finish()
