#!/usr/bin/env python3
"""The manual pages' examples, run; and each page's options, checked against --help.

usage: test_man.py IMGSTAT SOURCE_ROOT [BUILD_ROOT]

The pages: docs/imgstat.1 for `imgstat` itself (the default command and the overview) and
docs/imgstat-COMMAND.1 for every command that `imgstat --help`'s "Commands" line names.
A command without its page, or a page without its command, is a failure; so is a page that
BUILD_ROOT's meson install list (meson-info/intro-installed.json) does not install.

Examples: in the EXAMPLES section, a text line that starts with "$ " is a command (a line
ending in "|" or "\\" continues on the next). The text lines after it, up to the next blank
line or request (a line starting with "." or "'"), are its exact standard output; a last
line "(exit status N)" is its exit status instead (0 when there is none). The command runs
under `bash -o pipefail -c` from SOURCE_ROOT, with the word `imgstat` replaced by IMGSTAT.

Options: every option that `IMGSTAT [COMMAND] --help` names must be described under the
page's OPTIONS (as a .TP/.TQ tag), and every option described there must be named by that
--help, so that the two cannot drift apart.

Also: the sections every page needs (imgstat.1 also COMMANDS, FORMATS, EXIT STATUS,
ENVIRONMENT, FILES), imgstat.1's COMMANDS naming every command's page, each command page's
SEE ALSO naming imgstat(1), and no warning from `man --warnings` (as lintian runs it).

Prints one line per failure, then "N passed, N failed"; exits 1 when anything failed.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import testlib  # noqa: E402  (the counted checks every test script shares)

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
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES", "SEE ALSO")
OVERVIEW = ("COMMANDS", "FORMATS", "EXIT STATUS", "ENVIRONMENT", "FILES")


def help_text(exe, cmd):
    """(exit status, text) of `imgstat [cmd] --help`."""
    r = subprocess.run([exe] + ([cmd] if cmd else []) + ["--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def help_options(text):
    return set(LONG.findall(text)) | set(SHORT.findall(text))


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


def section_text(body):
    """A section's words as printed (requests' macros dropped, fonts and quotes too)."""
    out = []
    for _, raw in body:
        if raw.startswith(".\\\""):
            continue
        line = re.sub(r'^\.[A-Z]+\s*', "", raw) if is_request(raw) else raw
        try:
            out.append(unescape(line.replace('"', "")))
        except RoffError:
            pass
    return " ".join(out)


def man_warnings(page):
    """What `man --warnings` says about the page, as lintian runs it; None without man."""
    if not shutil.which("man"):
        return None
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                       timeout=TIMEOUT)
    return r.stderr.decode("utf-8", "replace").strip()


def installed_pages(build):
    """Base names of the man1 pages meson installs, or None without a build root."""
    if not build:
        return None
    with open(os.path.join(build, "meson-info", "intro-installed.json")) as f:
        dests = json.load(f).values()
    return {os.path.basename(d) for d in dests if os.path.basename(os.path.dirname(d)) == "man1"}


class Counter:
    """The checks of this script, counted by testlib like every test script's."""

    def check(self, cond, msg):
        testlib.ok(msg, cond)

    def add_passed(self, n):
        testlib.passed(n)


def check_page(t, exe, root, cmd, page, commands):
    """Every check of one page; cmd is "" for imgstat.1."""
    rel = os.path.relpath(page, root)
    name = "imgstat" + ("-" + cmd if cmd else "")
    try:
        with open(page, encoding="utf-8") as f:
            lines = f.read().split("\n")
        secs = sections(lines)
        ex = examples(secs.get("EXAMPLES", []))
        opts_man = man_options(secs.get("OPTIONS", []))
    except (OSError, RoffError) as e:
        t.check(False, "%s: %s" % (rel, e))
        return
    for sec in SECTIONS + (OVERVIEW if not cmd else ()):
        t.check(sec in secs, "%s: no .SH %s" % (rel, sec))
    th = [l for l in lines if l.startswith(".TH ")]
    t.check(th and unescape(th[0].split()[1]) == name.upper(),
            "%s: .TH should name %s" % (rel, name.upper()))
    t.check(section_text(secs.get("NAME", [])).startswith(name + " - "),
            "%s: NAME should start with '%s \\- '" % (rel, name))
    want = 1 if cmd else 5
    t.check(len(ex) >= want, "%s: %d examples in EXAMPLES, expected at least %d"
            % (rel, len(ex), want))
    if cmd:
        t.check(re.search(r"\bimgstat\(1\)", section_text(secs.get("SEE ALSO", [])).replace(
            " (1)", "(1)")), "%s: SEE ALSO does not name imgstat(1)" % rel)
    else:
        listed = section_text(secs.get("COMMANDS", []))
        for c in commands:
            t.check(re.search(r"\bimgstat-%s\b" % re.escape(c), listed),
                    "%s: COMMANDS does not name imgstat-%s(1)" % (rel, c))

    for no, line, expect, status in ex:
        where = "%s:%d: $ %s" % (rel, no, line)
        try:
            r = run_example(exe, root, line)
        except subprocess.TimeoutExpired:
            t.check(False, "%s: timed out after %d s" % (where, TIMEOUT))
            continue
        why = compare(expect, status, r)
        t.check(not why, "%s: %s" % (where, why))

    rc, text = help_text(exe, cmd)
    opts_help = help_options(text)
    label = "imgstat %s--help" % (cmd + " " if cmd else "")
    t.check(rc == 0 and opts_help, "%s: exit status %d, %d options found"
            % (label, rc, len(opts_help)))
    for opt in sorted(opts_help - set(opts_man)):
        t.check(False, "%s: option %s (in %s) is not described under OPTIONS" % (rel, opt, label))
    for opt in sorted(set(opts_man) - opts_help):
        t.check(False, "%s:%d: option %s is described under OPTIONS but %s does not name it"
                % (rel, opts_man[opt], opt, label))
    t.add_passed(len(opts_help & set(opts_man)))

    warn = man_warnings(page)
    t.check(not warn, "%s: man --warnings: %s" % (rel, short(warn or "", 300)))


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    exe, root = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    build = os.path.abspath(argv[3]) if len(argv) == 4 else None
    docs = os.path.join(root, "docs")
    t = Counter()

    rc, top = help_text(exe, "")
    m = COMMANDS.search(top)
    commands = m.group(1).split(", ") if m else []
    pages = {"": os.path.join(docs, "imgstat.1")}
    pages.update({c: os.path.join(docs, "imgstat-%s.1" % c) for c in commands})
    for cmd, page in pages.items():
        if os.path.exists(page):
            check_page(t, exe, root, cmd, page, commands)
        else:
            t.check(False, "docs/%s: no page for the command '%s'"
                    % (os.path.basename(page), cmd))
    for f in sorted(os.listdir(docs)):
        t.check(not f.endswith(".1") or os.path.join(docs, f) in pages.values(),
                "docs/%s: a page for no command of imgstat --help" % f)
    installed = installed_pages(build)
    if installed is not None:
        for page in sorted(pages.values()):
            t.check(os.path.basename(page) in installed,
                    "docs/%s is not installed (meson's man pages: %s; reconfigure?)"
                    % (os.path.basename(page), sorted(installed)))

    testlib.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
