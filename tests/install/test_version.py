#!/usr/bin/env python3
"""One version everywhere: meson.build's project(version:) is the only place it is written.

usage: test_version.py IMGSTAT SOURCE_ROOT VERSION

VERSION is meson.project_version(), passed by meson. Checks that it is what
`imgstat --version` says first, what pkg-config says of imgstat.pc (meson's uninstalled
one, PKG_CONFIG_PATH set by meson test; the installed one in CI's package step), what the
--detail JSON carries as imgstat_version, the upstream part of debian/changelog's newest
entry, and a release heading of CHANGELOG.md. Prints `N passed, N failed`.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import finish, ok, run  # noqa: E402


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    exe, root, version = os.path.abspath(argv[1]), os.path.abspath(argv[2]), argv[3]

    code, out, err = run([exe, "--version"])
    first = out.split("\n")[0]
    ok("--version", code == 0 and first == "imgstat " + version, repr(first))

    r = subprocess.run(["pkg-config", "--modversion", "imgstat"], capture_output=True, text=True)
    ok("pkg-config --modversion imgstat", r.stdout.strip() == version, r.stdout + r.stderr)

    code, out, err = run([exe, "--detail", os.path.join(root, "testdata", "oci", "std-gzip")])
    got = json.loads(out).get("imgstat_version") if code == 0 else err
    ok("--detail imgstat_version", got == version, repr(got))

    with open(os.path.join(root, "debian", "changelog")) as f:
        m = re.match(r"imgstat \(([^)]+)\)", f.readline())
    deb = m.group(1) if m else None
    # Debian's version is [epoch:]upstream[-revision]: the upstream part is meson's
    upstream = re.sub(r"^\d+:", "", deb or "").rsplit("-", 1)[0]
    ok("debian/changelog", upstream == version, "%r, upstream part %r" % (deb, upstream))

    with open(os.path.join(root, "CHANGELOG.md")) as f:
        heads = re.findall(r"^## (\S+)", f.read(), re.M)
    ok("CHANGELOG.md has a section for it", version in heads, heads)
    finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
