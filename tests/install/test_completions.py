#!/usr/bin/env python3
"""The shell completions offer what --help lists, in bash, zsh and fish.

usage: test_completions.py IMGSTAT BASH_SCRIPT ZSH_SCRIPT FISH_SCRIPT

The expected values come from `imgstat --help` and from `imgstat COMMAND --help` of every
command its "Commands" line names, never from the option table the scripts are generated
from. For every command and every shell:
  * completing "--" offers every long option that command's --help names, and no other;
    completing "-" offers every short option it names;
  * an option whose --help label shows a list of words ("--format json|text") completes
    exactly those words, as "--format W" and as "--format=W";
  * the first word completes to every command name and to files (one the test creates), and
    an operand after the command completes to files.
bash runs the generated completion function with COMP_WORDS and COMP_CWORD set; zsh
completes on a pseudo-terminal (zsh_complete.zsh, compinit and the real _arguments); fish
answers `complete -C`. Where zsh or fish is not installed, that shell's script is checked as
text instead (every long option named in its command's part) and a line says so.
Prints one line per failure, then `N passed, N failed`.
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import finish, ok  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LONG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?![\w*-])")
SHORT = re.compile(r"(?<![\w-])(-[A-Za-z]),\s+--")
WORDS = re.compile(r"(--[a-z][a-z0-9-]*) ([a-z0-9]+(?:\|[a-z0-9]+)+)")
COMMANDS = re.compile(r"^\s*Commands\s+(.*?)\s*\(", re.M)
TIMEOUT = 30


def help_of(exe, cmd):
    args = [exe] + ([cmd] if cmd else []) + ["--help"]
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT).stdout


def what_help_says(exe):
    """{command ("" for the default): (long options, short options, {option: [words]})}."""
    top = help_of(exe, "")
    m = COMMANDS.search(top)
    out = {}
    for cmd in [""] + (m.group(1).split(", ") if m else []):
        text = help_of(exe, cmd)
        out[cmd] = (set(LONG.findall(text)), set(SHORT.findall(text)),
                    {o: w.split("|") for o, w in WORDS.findall(text)}, operands(text))
    return out


def operands(text):
    """The operands the Usage line names, outside [brackets]: ["IMAGE..."], ["info|clear"]."""
    usage = text.split("\n", 1)[0].split(None, 2)[2:]  # after "Usage: imgstat"
    words = re.sub(r"\[[^]]*\]", " ", usage[0] if usage else "").split()
    return [w for w in words if w.upper() == w or "|" in w]


class Bash:
    name = "bash"
    real = True

    def __init__(self, script):
        self.script = script

    def complete(self, words, cwd):
        """Candidates for the last of words (the word being completed)."""
        prog = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));'
                ' COMP_LINE="${COMP_WORDS[*]}"; _imgstat; printf "%s\\n" "${COMPREPLY[@]}"')
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog, "_", self.script] + words,
                           capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT)
        return set(l for l in r.stdout.split("\n") if l)

    def option_value(self, cmd_words, opt, cwd):
        # bash splits "--format=" into "--format" "=" "" (COMP_WORDBREAKS has '=')
        return (self.complete(cmd_words + [opt, ""], cwd),
                self.complete(cmd_words + [opt, "=", ""], cwd))


class Zsh:
    name = "zsh"

    def __init__(self, script, tmp):
        self.dir = os.path.join(tmp, "fpath")  # compinit reads every _* file of a folder
        os.mkdir(self.dir)
        shutil.copy(script, os.path.join(self.dir, "_imgstat"))
        self.script = script
        self.real = shutil.which("zsh") is not None

    def complete(self, words, cwd):
        line = " ".join(words)
        r = subprocess.run(["zsh", "-f", os.path.join(HERE, "zsh_complete.zsh"), self.dir, line],
                           capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT)
        return set(re.findall(r"^HIT:(.*):$", r.stdout, re.M))

    def option_value(self, cmd_words, opt, cwd):
        eq = self.complete(cmd_words + [opt + "="], cwd)
        return self.complete(cmd_words + [opt, ""], cwd), {w.split("=", 1)[-1] for w in eq}

    def text_options(self, cmd):
        """Long options in the command's branch of the script (when zsh is missing)."""
        text = open(self.script).read()
        pat = r"^  \(%s\)\n(.*?)^    ;;" % (re.escape(cmd) if cmd else r"\*")
        m = re.search(pat, text, re.M | re.S)
        return set(re.findall(r"'(?:\([^)]*\))?(--[a-z][a-z0-9-]*)[=\[]", m.group(1))) if m else set()


class Fish:
    name = "fish"

    def __init__(self, script):
        self.script = script
        self.real = shutil.which("fish") is not None

    def complete(self, words, cwd):
        r = subprocess.run(["fish", "--no-config", "-c", "source $argv[1]; complete -C$argv[2]",
                            self.script, " ".join(words)],
                           capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT)
        return set(l.split("\t")[0] for l in r.stdout.split("\n") if l)

    def option_value(self, cmd_words, opt, cwd):
        eq = self.complete(cmd_words + [opt + "="], cwd)
        return self.complete(cmd_words + [opt, ""], cwd), {w.split("=", 1)[-1] for w in eq}

    def text_options(self, cmd):
        text = open(self.script).read()
        using = "__imgstat_using %s'" % (cmd if cmd else '""')
        return set("--" + m for line in text.split("\n") if using in line
                   for m in re.findall(r" -l ([a-z][a-z0-9-]*)", line))


def check_shell(sh, helps, cwd):
    """(name, condition, detail) for every check of one shell."""
    checks = []
    commands = sorted(c for c in helps if c)
    for cmd, (longs, shorts, words, ops) in sorted(helps.items()):
        pre = ["imgstat"] + ([cmd] if cmd else [])
        label = "%s/%s" % (sh.name, cmd or "imgstat")
        if not sh.real:
            got = sh.text_options(cmd)
            checks.append((label + ": script names every long option of --help (text)",
                           longs <= got, sorted(longs - got)))
            checks.append((label + ": script names no option --help lacks (text)",
                           got <= longs, sorted(got - longs)))
            continue
        got = {w for w in sh.complete(pre + ["--"], cwd) if w.startswith("--")}
        checks.append((label + ": '--' offers every long option of --help", longs <= got,
                       "missing %s" % sorted(longs - got)))
        checks.append((label + ": '--' offers no option --help lacks", got <= longs,
                       "extra %s" % sorted(got - longs)))
        got = sh.complete(pre + ["-"], cwd)
        checks.append((label + ": '-' offers every short option", shorts <= got,
                       "missing %s" % sorted(shorts - got)))
        for opt, want in sorted(words.items()):
            spaced, joined = sh.option_value(pre, opt, cwd)
            checks.append(("%s: %s VALUE offers %s" % (label, opt, "|".join(want)),
                           spaced == set(want), sorted(spaced)))
            checks.append(("%s: %s=VALUE offers %s" % (label, opt, "|".join(want)),
                           joined == set(want), sorted(joined)))
        choice = [o for o in ops if "|" in o]
        if cmd and choice and sh.name == "zsh":  # zsh completes the words of info|clear
            got = sh.complete(pre + [""], cwd)
            want = set(choice[0].split("|"))
            checks.append((label + ": the operand offers " + choice[0], want <= got,
                           sorted(got)))
        elif cmd and ops and not choice:
            got = sh.complete(pre + ["im"], cwd)
            checks.append((label + ": an operand completes to files", "img.tar" in got,
                           sorted(got)))
    if sh.real:
        got = sh.complete(["imgstat", ""], cwd)
        checks.append((sh.name + ": the first word offers every command and files",
                       set(commands) | {"img.tar"} <= got, sorted(got)))
    return checks


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    exe = os.path.abspath(argv[1])
    helps = what_help_says(exe)
    ok("--help names options", all(h[0] for h in helps.values()), helps)
    bash, zsh, fish = (os.path.abspath(p) for p in argv[2:5])
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.path.join(tmp, "cwd")
        os.mkdir(cwd)
        open(os.path.join(cwd, "img.tar"), "w").close()
        shells = [Bash(bash), Zsh(zsh, tmp), Fish(fish)]
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda sh: check_shell(sh, helps, cwd), shells))
    for sh, checks in zip(shells, results):
        if not sh.real:
            print("note: %s is not installed: its script was checked as text only" % sh.name)
        for name, cond, why in checks:
            ok(name, cond, why)
    finish()


if __name__ == "__main__":
    main(sys.argv)
