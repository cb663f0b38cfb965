#!/usr/bin/env python3
"""CLI tests for imgstat: options, usage errors, exit codes, stdout purity.

usage: test_cli.py IMGSTAT SOURCE_ROOT

Three parts, all run by `meson test --suite cli`:
  1. golden cases from tests/cli/cases.json (the file's "about" says what a case holds);
  2. -j 1 and -j 4 give identical exit status and stdout on every row of
     testdata/cases.json, and of the shared corpus's cases.json when present;
     each run also passes the stdout-purity checks below;
  3. stdout purity everywhere: exit 0 means stdout is exactly one line, a JSON
     object with exactly "total_files_num" then "total_files_size", both integers;
     any other exit means stdout is empty and stderr is one "imgstat: " line
     (two lines, the second "Try 'imgstat --help' ...", for a usage error, exit 2).

The shared corpus is <SOURCE_ROOT>/../shared/corpus (IMGSTAT_CORPUS overrides it).
Where it is absent, only the cases that use it are skipped, and a line says so.
Prints one line per failure, then `N passed, N failed`; exits 1 if any failed.
Python 3 standard library only.
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import finish, ok  # noqa: E402

TIMEOUT = 120  # seconds for one imgstat run; the images here are small
REPORT_KEYS = ["total_files_num", "total_files_size"]
TRY_HELP = "Try 'imgstat --help' for more information."


class Ctx:
    def __init__(self, exe, root):
        self.exe = exe
        self.root = root
        self.testdata = os.path.join(root, "testdata")
        self.corpus = os.environ.get("IMGSTAT_CORPUS") or os.path.normpath(
            os.path.join(root, "..", "shared", "corpus"))
        self.has_corpus = os.path.isfile(os.path.join(self.corpus, "cases.json"))
        self.tmp = tempfile.mkdtemp(prefix="imgstat-cli-")
        self._expect = {}

    def subst(self, s):
        return s.replace("{testdata}", self.testdata).replace("{corpus}", self.corpus) \
                .replace("{tmp}", self.tmp)

    def expectations(self, which):
        """input -> expected report, from the no-args rows of testdata's or the corpus's cases.json."""
        if which not in self._expect:
            base = self.testdata if which == "testdata" else self.corpus
            table = {}
            for row in load_rows(os.path.join(base, "cases.json")):
                if not row.get("args") and "expect" in row:
                    table.setdefault(row["input"], row["expect"])
            self._expect[which] = table
        return self._expect[which]


def load_rows(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return doc["cases"] if isinstance(doc, dict) else doc


def make_scratch(tmp):
    """The inputs the golden cases name under {tmp}; written here so they cannot drift."""
    open(os.path.join(tmp, "empty-file"), "wb").close()
    with open(os.path.join(tmp, "not-a-tar.txt"), "w") as f:
        f.write("This is a text file, not a tar archive.\n" * 30)
    os.mkdir(os.path.join(tmp, "empty-dir"))
    os.mkdir(os.path.join(tmp, "plain-dir"))
    with open(os.path.join(tmp, "plain-dir", "README"), "w") as f:
        f.write("a directory with no oci-layout, no index.json and no manifest.json\n")


def run(exe, args, stdin=None, stdin_mode="pipe"):
    """Run imgstat; returns (exit status or None on timeout, stdout, stderr) as text."""
    cmd = [exe] + list(args)
    try:
        if stdin is None:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        elif stdin_mode == "file":
            with open(stdin, "rb") as f:
                p = subprocess.run(cmd, stdin=f, capture_output=True, timeout=TIMEOUT)
        else:  # a real pipe: imgstat must read it in one pass
            with open(stdin, "rb") as f:
                data = f.read()
            p = subprocess.run(cmd, input=data, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %ds" % TIMEOUT
    except OSError as e:
        return None, "", "cannot run: %s" % e
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def short(s, n=240):
    s = s if len(s) <= n else s[:n] + "..."
    return repr(s)


def check_report(out):
    """Stdout purity on success. Returns (problem or None, parsed pairs)."""
    if not out.endswith("\n") or out.count("\n") != 1:
        return "stdout is not exactly one line: %s" % short(out), None
    try:
        pairs = json.loads(out, object_pairs_hook=lambda kv: kv)
    except ValueError as e:
        return "stdout is not JSON (%s): %s" % (e, short(out)), None
    if not isinstance(pairs, list) or [k for k, _ in pairs] != REPORT_KEYS:
        return "stdout keys are not exactly %s in that order: %s" % (REPORT_KEYS, short(out)), None
    for k, v in pairs:
        if type(v) is not int or v < 0:
            return "%s is not a non-negative integer: %s" % (k, short(out)), None
    return None, dict(pairs)


def check_stderr_shape(code, err):
    """Error reports: one 'imgstat: ' line; a usage error adds the try-help line."""
    lines = err.splitlines()
    if code == 2:
        if len(lines) != 2 or not lines[0].startswith("imgstat: ") or lines[1] != TRY_HELP:
            return "usage error stderr is not 'imgstat: ...' + %r: %s" % (TRY_HELP, short(err, 400))
        return None
    if len(lines) != 1 or not lines[0].startswith("imgstat: ") or not err.endswith("\n"):
        return "stderr is not exactly one 'imgstat: ' line: %s" % short(err, 400)
    return None


def purity(code, out, err, report=True):
    """The checks that hold for every run whatever the case (report: a scan, not --help)."""
    if code is None:
        return err
    if code < 0 or code >= 128:
        return "crashed (status %d): %s" % (code, short(err.strip()[-300:]))
    if code not in (0, 1, 2):
        return "exit %d is none of 0, 1, 2" % code
    if code == 0:
        return check_report(out)[0] if report else None
    if out:
        return "exit %d but stdout is not empty: %s" % (code, short(out))
    return check_stderr_shape(code, err)


def uses_corpus(case):
    blob = json.dumps([case.get("args"), case.get("stdin"), case.get("stdout")])
    return "{corpus}" in blob or '"corpus:' in blob


def count_examples(text):
    """Non-blank lines under an 'Examples:' heading, up to the next blank line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^Examples?:\s*$", line):
            n = 0
            for l in lines[i + 1:]:
                if not l.strip():
                    break
                n += 1
            return n
    return 0


def check_stdout(ctx, case, out, outputs):
    want = case.get("stdout")
    if want == "empty":
        if out:
            return "stdout is not empty: %s" % short(out)
    elif isinstance(want, dict) and "exact" in want:
        if out != want["exact"]:
            return "stdout %s, want %s" % (short(out), short(want["exact"]))
    elif isinstance(want, dict):
        if "json_from" in want:
            which, _, inp = want["json_from"].partition(":")
            expect = ctx.expectations(which).get(inp)
            if expect is None:
                return "no expectation for %r in %s cases.json" % (inp, which)
        else:
            expect = want
        problem, got = check_report(out)
        if problem:
            return problem
        if got != expect:
            return "stdout %s, want %s" % (short(out.strip()), json.dumps(expect))
    elif want is not None:
        return "bad case: stdout %r" % (want,)

    lines = out.splitlines()
    for s in case.get("stdout_contains", []):
        if s not in out:
            return "stdout lacks %r" % s
    for rx in case.get("stdout_regex", []):
        if not re.search(rx, out, re.M):
            return "stdout does not match /%s/" % rx
    if "stdout_lines" in case and len(lines) != case["stdout_lines"]:
        return "stdout has %d lines, want %d" % (len(lines), case["stdout_lines"])
    if "stdout_max_lines" in case and len(lines) > case["stdout_max_lines"]:
        return "stdout has %d lines, want at most %d" % (len(lines), case["stdout_max_lines"])
    for code in case.get("stdout_exit_codes", []):
        if not re.search(r"(^\s*|, |status: )%d\s+[a-z]" % code, out, re.M):
            return "stdout does not document exit status %d ('%d meaning')" % (code, code)
    if "stdout_examples" in case:
        n = count_examples(out)
        if n != case["stdout_examples"]:
            return "stdout has %d lines under 'Examples:', want %d" % (n, case["stdout_examples"])
    if "stdout_same_as" in case:
        other = outputs.get(case["stdout_same_as"])
        if other is None:
            return "case %r did not run before this one" % case["stdout_same_as"]
        if out != other:
            return "stdout differs from that of %r" % case["stdout_same_as"]
    return None


def check_stderr(ctx, case, err):
    want = case.get("stderr")
    lines = err.splitlines()
    if want == "empty":
        if err:
            return "stderr is not empty: %s" % short(err, 400)
    elif want == "one-line":
        if len(lines) != 1 or not lines[0].startswith("imgstat: "):
            return "stderr is not exactly one 'imgstat: ' line: %s" % short(err, 400)
    elif want == "usage":
        if len(lines) != 2 or not lines[0].startswith("imgstat: ") or lines[1] != TRY_HELP:
            return "stderr is not one 'imgstat: ' line then %r: %s" % (TRY_HELP, short(err, 400))
    elif want is not None:
        return "bad case: stderr %r" % (want,)
    if "stderr_prefix" in case:
        prefix = ctx.subst(case["stderr_prefix"])
        if not err.startswith(prefix):
            return "stderr does not start with %r: %s" % (prefix, short(err, 400))
    for s in case.get("stderr_contains", []):
        s = ctx.subst(s)
        if s not in err:
            return "stderr lacks %r: %s" % (s, short(err, 400))
    return None


def golden(ctx, case, outputs):
    args = [ctx.subst(a) for a in case.get("args", [])]
    stdin = ctx.subst(case["stdin"]) if case.get("stdin") else None
    code, out, err = run(ctx.exe, args, stdin, case.get("stdin_mode", "pipe"))
    outputs[case["name"]] = out
    if code is None:
        return err
    if code != case["exit"]:
        return "exit %d, want %d; stdout %s; stderr %s" % (code, case["exit"], short(out, 120),
                                                         short(err, 300))
    scan = isinstance(case.get("stdout"), dict) and "exact" not in case["stdout"]
    return (purity(code, out, err, report=scan) or check_stdout(ctx, case, out, outputs)
            or check_stderr(ctx, case, err))


def jobs_pair(ctx, base, row):
    """-j 1 (the reference path) and -j 4 agree on exit status and stdout, and both are pure."""
    inp = os.path.join(base, row["input"])
    args = [str(a) for a in row.get("args", [])]
    res = {}
    for j in ("1", "4"):
        code, out, err = run(ctx.exe, ["-j", j] + args + [inp])
        problem = purity(code, out, err)
        if problem:
            return "-j %s: %s" % (j, problem)
        res[j] = (code, out, err)
    (c1, o1, e1), (c4, o4, e4) = res["1"], res["4"]
    if c1 != c4 or o1 != o4:
        return "-j 1 gave exit %d %s but -j 4 gave exit %d %s (stderr %s / %s)" % (
            c1, short(o1.strip()), c4, short(o4.strip()), short(e1.strip(), 160),
            short(e4.strip(), 160))
    return None


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    ctx = Ctx(os.path.abspath(argv[1]), os.path.abspath(argv[2]))
    skipped = []
    try:
        make_scratch(ctx.tmp)
        here = os.path.dirname(os.path.abspath(__file__))
        cases = load_rows(os.path.join(here, "cases.json"))

        names = [c["name"] for c in cases]
        dup = sorted({n for n in names if names.count(n) > 1})
        ok("cases.json: no duplicate case names", not dup, dup)

        # 1. golden cases, in order (stdout_same_as refers to earlier cases).
        outputs = {}
        for case in cases:
            name = case["name"]
            if uses_corpus(case) and not ctx.has_corpus:
                skipped.append(name)
                continue
            try:
                problem = golden(ctx, case, outputs)
            except Exception as e:  # a broken case is a failure, not a crash of the suite
                problem = "test error: %r" % e
            ok(name, not problem, problem)
        # every command's --help fits a 24-line, 80-column terminal (the manual has the rest)
        help_text = outputs.get("help-long") or ""
        m = re.search(r"^\s*Commands\s+(.*?)\s*\(", help_text, re.M)
        for cmd in [""] + (m.group(1).split(", ") if m else []):
            code, out, _ = run(ctx.exe, ([cmd] if cmd else []) + ["--help"])
            lines = out.splitlines()
            width = max((len(l) for l in lines), default=0)
            label = "help-fits/%s" % (cmd or "imgstat")
            ok(label, code == 0 and lines and len(lines) <= 24 and width <= 80,
               "exit %s, %d lines, %d columns (want 0, <= 24, <= 80)" % (code, len(lines), width))

        # 2. -j 1 vs -j 4 over every image of testdata/ and of the corpus.
        tables = [("testdata", ctx.testdata)]
        if ctx.has_corpus:
            tables.append(("corpus", ctx.corpus))
        jobs = []
        for label, base in tables:
            path = os.path.join(base, "cases.json")
            try:
                rows = load_rows(path)
            except (OSError, ValueError, KeyError) as e:
                ok("jobs-identical/%s" % label, False, "cannot read %s: %s" % (path, e))
                continue
            for row in rows:
                jobs.append(("jobs-identical/%s/%s" % (label, row.get("name", row.get("input"))),
                             base, row))
        workers = max(1, min(8, (os.cpu_count() or 2) // 2))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(jobs_pair, ctx, base, row) for _, base, row in jobs]
            for (name, _, _), fut in zip(jobs, futures):
                try:
                    problem = fut.result()
                except Exception as e:
                    problem = "test error: %r" % e
                ok(name, not problem, problem)
    finally:
        shutil.rmtree(ctx.tmp, ignore_errors=True)

    if not ctx.has_corpus:
        print("skipped: the shared corpus is absent (%s): %d golden case(s) that use it (%s) "
              "and its -j 1/-j 4 comparison" % (os.path.join(ctx.corpus, "cases.json"),
                                                len(skipped), ", ".join(skipped)))
    finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
