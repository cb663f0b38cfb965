#!/usr/bin/env python3
"""docs/design.md's file list matches the tree (issue 9): every source file of the library's
layers and of the programs is named in its "Files" section, and every file named there exists.

usage: test_design.py SOURCE_ROOT
Prints one line per failure and `N passed, N failed`.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import finish, ok  # noqa: E402

FOLDERS = ["include", "base", "layers", "catalog", "scanner", "api", "cli", "report", "server"]
SOURCE = re.compile(r"\.(c|h|py|html|css|js)$")


def main(root):
    text = open(os.path.join(root, "docs", "design.md"), encoding="utf-8").read()
    files = text.split("\n## Files", 1)
    ok("design.md has a '## Files' section", len(files) == 2)
    listed, folder = set(), None
    for line in (files[1] if len(files) == 2 else "").splitlines():
        m = re.match(r"^\s*([a-z]+)/\s+(.*)$", line)  # "    layers/  tree.c ...", or a
        if m:                                           # line continuing the folder above
            folder, line = m.group(1), m.group(2)
        elif not line.startswith("    "):
            folder = None
        for name in re.findall(r"([\w.-]+\.(?:c|h|py|html|css|js))\b", line) if folder else []:
            listed.add(folder + "/" + name)
    present = {f + "/" + n for f in FOLDERS if os.path.isdir(os.path.join(root, f))
               for n in os.listdir(os.path.join(root, f)) if SOURCE.search(n)}
    for p in sorted(present):
        ok("design.md names %s" % p, p in listed)
    for p in sorted(listed - present):
        ok("design.md names %s, which exists" % p, False)
    finish()


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
