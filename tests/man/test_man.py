#!/usr/bin/env python3
"""The manual page's examples, run; and its options, checked against --help.

usage: test_man.py IMGSTAT SOURCE_ROOT [MANPAGE]

MANPAGE defaults to SOURCE_ROOT/doc/imgstat.1.  A page imgstat-CMD.1 is checked against
`imgstat CMD --help` alone, and imgstat.1 leaves out the commands with such a page.

Examples: in the EXAMPLES section, a text line that starts with "$ " is a command (a line
ending in "|" or "\\" continues on the next). The text lines after it, up to the next blank
line or request (a line starting with "." or "'"), are its exact standard output; a last
line "(exit status N)" is its exit status instead (0 when there is none). The command runs
under `bash -o pipefail -c` from SOURCE_ROOT, with the word `imgstat` replaced by IMGSTAT.

Options: every option that `IMGSTAT --help` names must be described under OPTIONS (as a
.TP/.TQ tag), and every option described there must be named by --help, so that the two
cannot drift apart.

Prints one line per failure, then "N passed, N failed"; exits 1 when anything failed.
"""
import os
import re
import shlex
import subprocess
import sys

TIMEOUT = 60

# roff escapes that man pages use in running text; anything else is reported, never guessed.
NAMED = {"aq": "'", "dq": '"', "ga": "`", "ti": "~", "ha": "^", "rs": "\\", "em": "--",
         "en": "-", "mi": "-", "hy": "-", "lq": '"', "rq": '"', "oq": "'", "cq": "'",
         "bu": "*", "<=": "<=", ">=": ">="}


class RoffError(Exception):
    pass


def unescape(text):
    """The characters a roff text line prints (fonts dropped), for the escapes man pages use."""
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(text):
            raise RoffError("line ends in a lone backslash (continuation)")
        e = text[i + 1]
        if e in "-":
            out.append("-")
            i += 2
        elif e in "e\\":
            out.append("\\")
            i += 2
        elif e in "&%":
            i += 2
        elif e in "~ 0":
            out.append(" ")
            i += 2
        elif e == "f":
            if i + 2 >= len(text):
                raise RoffError("\\f without a font")
            f = text[i + 2]
            if f == "(":
                i += 5
            elif f == "[":
                end = text.find("]", i + 3)
                if end < 0:
                    raise RoffError("unterminated \\f[")
                i = end + 1
            else:
                i += 3
        elif e == "(":
            name = text[i + 2:i + 4]
            if name not in NAMED:
                raise RoffError("unknown special character \\(%s" % name)
            out.append(NAMED[name])
            i += 4
        elif e == "[":
            end = text.find("]", i + 2)
            name = text[i + 2:end] if end > 0 else ""
            if name not in NAMED:
                raise RoffError("unknown special character \\[%s]" % name)
            out.append(NAMED[name])
            i = end + 1
        else:
            raise RoffError("unsupported escape \\%s" % e)
    return "".join(out)


def is_request(line):
    return line.startswith(".") or line.startswith("'")


def sections(lines):
    """{section name: [(line number, raw line), ...]} for each .SH."""
    out, cur = {}, None
    for no, line in enumerate(lines, 1):
        m = re.match(r'\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            cur = m.group(1).strip()
            out[cur] = []
        elif cur is not None:
            out[cur].append((no, line))
    return out


def examples(body):
    """[(line number, command, [expected stdout lines], expected exit status)]."""
    found = []
    i = 0
    while i < len(body):
        no, raw = body[i]
        i += 1
        if is_request(raw):
            continue
        text = unescape(raw)
        if not text.startswith("$ "):
            continue
        cmd = text[2:]
        while cmd.rstrip().endswith(("|", "\\")) and i < len(body) and not is_request(body[i][1]):
            cont = unescape(body[i][1])
            i += 1
            cmd = cmd.rstrip()
            if cmd.endswith("\\"):
                cmd = cmd[:-1]
            cmd += " " + cont.strip()
        expect = []
        while i < len(body) and body[i][1].strip() and not is_request(body[i][1]):
            expect.append(unescape(body[i][1]))
            i += 1
        status = 0
        if expect:
            m = re.fullmatch(r"\(exit status (\d+)\)", expect[-1])
            if m:
                status = int(m.group(1))
                expect.pop()
        found.append((no, cmd, expect, status))
    return found


def with_binary(cmd, exe):
    return re.sub(r"(?<![\w./-])imgstat(?![\w./-])", lambda m: shlex.quote(exe), cmd)


def short(s, n=100):
    s = repr(s)
    return s if len(s) <= n else s[:n] + "..."


def run_example(exe, root, cmd):
    env = dict(os.environ, LC_ALL="C")
    return subprocess.run(["bash", "-o", "pipefail", "-c", with_binary(cmd, exe)], cwd=root,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=TIMEOUT)


def compare(expect, status, r):
    """None when the run matches, else what differs (one line)."""
    want = "".join(line + "\n" for line in expect).encode()
    if r.stdout != want:
        got = r.stdout.decode("utf-8", "replace").split("\n")
        if got and got[-1] == "":
            got.pop()
        elif r.stdout:
            return "stdout does not end in a newline: %s" % short(got[-1])
        for k in range(max(len(got), len(expect))):
            w = expect[k] if k < len(expect) else None
            g = got[k] if k < len(got) else None
            if w != g:
                return "stdout line %d: expected %s, got %s" % (k + 1, short(w), short(g))
        return "stdout differs"
    if r.returncode != status:
        err = r.stderr.decode("utf-8", "replace").strip().split("\n")[0]
        return "exit status %d, expected %d (stderr: %s)" % (r.returncode, status, short(err))
    return None


LONG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?![\w*-])")
SHORT = re.compile(r"(?<![\w-])(-[A-Za-z]),\s+--")
COMMANDS = re.compile(r"^\s*Commands\s+(.*?)\s*\(", re.M)


def help_options(exe, only=None, own_pages=()):
    """Options named by `imgstat --help` and by `imgstat COMMAND --help` of every command
    its Commands line lists, except the commands with a page of their own (own_pages); with
    only=CMD, those of `imgstat CMD --help` alone (the page imgstat-CMD.1)."""
    r = subprocess.run([exe] + ([only] if only else []) + ["--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    text = r.stdout.decode("utf-8", "replace")
    rc = r.returncode
    m = COMMANDS.search(text)
    for cmd in (m.group(1).split(", ") if m and not only else []):
        if cmd in own_pages:
            continue
        r = subprocess.run([exe, cmd, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        rc = rc or r.returncode
        text += r.stdout.decode("utf-8", "replace")
    return rc, set(LONG.findall(text)) | set(SHORT.findall(text))


def man_options(body):
    """Options named in the .TP/.TQ tags of OPTIONS: {option: line number}."""
    out = {}
    for k, (no, raw) in enumerate(body):
        if re.match(r"\.(TP|TQ)\b", raw) and k + 1 < len(body):
            tag_no, tag = body[k + 1]
            text = unescape(re.sub(r'^\.[A-Z]+\s*', "", tag).replace('"', ""))
            for opt in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", text):
                out.setdefault(opt, tag_no)
    return out


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    exe, root = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    page = argv[3] if len(argv) == 4 else os.path.join(root, "docs", "imgstat.1")
    rel = os.path.relpath(page, root)
    if rel.startswith(".."):
        rel = page
    passed, failed = 0, 0

    def fail(msg):
        nonlocal failed
        failed += 1
        print("FAIL " + msg)

    try:
        with open(page, encoding="utf-8") as f:
            lines = f.read().split("\n")
        secs = sections(lines)
        ex = examples(secs.get("EXAMPLES", []))
        opts_man = man_options(secs.get("OPTIONS", []))
    except (OSError, RoffError) as e:
        print("FAIL %s: %s" % (rel, e))
        print("0 passed, 1 failed")
        return 1

    for name in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES"):
        if name in secs:
            passed += 1
        else:
            fail("%s: no .SH %s" % (rel, name))
    if len(ex) >= 5:
        passed += 1
    else:
        fail("%s: %d examples in EXAMPLES, expected at least 5" % (rel, len(ex)))

    for no, cmd, expect, status in ex:
        where = "%s:%d: $ %s" % (rel, no, cmd)
        try:
            r = run_example(exe, root, cmd)
        except subprocess.TimeoutExpired:
            fail("%s: timed out after %d s" % (where, TIMEOUT))
            continue
        why = compare(expect, status, r)
        if why:
            fail("%s: %s" % (where, why))
        else:
            passed += 1

    base = os.path.basename(page)
    only = base[len("imgstat-"):-2] if base.startswith("imgstat-") else None
    own = [f[len("imgstat-"):-2] for f in os.listdir(os.path.dirname(page))
           if f.startswith("imgstat-") and f.endswith(".1")]
    rc, opts_help = help_options(exe, only, own)
    if rc != 0 or not opts_help:
        fail("imgstat --help: exit status %d, %d options found" % (rc, len(opts_help)))
    else:
        passed += 1
    for opt in sorted(opts_help - set(opts_man)):
        fail("%s: option %s (in imgstat --help) is not described under OPTIONS" % (rel, opt))
    for opt in sorted(set(opts_man) - opts_help):
        fail("%s:%d: option %s is described under OPTIONS but imgstat --help does not name it"
             % (rel, opts_man[opt], opt))
    passed += len(opts_help & set(opts_man))

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
