#!/usr/bin/env python3
"""`imgstat serve`'s pages (issue 12): /ui/, the sortable index of the catalog, and
/ui/images/{image_id}, an image's report, served by the real server on a loopback port and
rendered in headless Chromium (Debian's chromium, chromium-driver and python3-selenium).

usage: test_ui.py IMGSTAT SOURCE_ROOT BUILD_DIR

The folder served holds testdata images whose answers were computed outside imgstat
(testdata/report/expect.json: by hand; testdata/cases.json), one whose file name is markup,
and one that is no image (a failed scan).  Checked:
- /ui redirects to /ui/; both pages come with their Content-Security-Policy as a header and
  as text/html; an unknown image is a 404, a malformed ID a 400, with the API's JSON errors;
- the index lists every entry with the files, size and wasted bytes of the independent
  answers, each image's ID from python's reading of its manifest (imgref.py), the failed one
  with its status and reason; no JavaScript error;
- clicking a column's header sorts by it (figures largest first, again to reverse), and so
  does Enter on a focused header;
- the markup in a file name is shown as text: no element of it in the page, nothing run;
- a name links to the image's report, whose totals equal the independent answer, and which
  is byte for byte what `imgstat report FILE` writes;
- screenshots of the index and a report under BUILD_DIR/report-shots/.

Prints one line per failed check and `N passed, N failed`; exits 77 (skipped) without
selenium, chromium or chromedriver.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
sys.path.insert(0, HERE)
from browser import By, Keys, browser, drawn, errors, load, shot  # noqa: E402 (77 without it)
from testlib import answer, finish, ok  # noqa: E402
from serverlib import Server  # noqa: E402
import imgref  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
SHOTS = os.path.join(os.path.abspath(sys.argv[3]), "report-shots")
TD = os.path.join(ROOT, "testdata")
EVIL = '<img src=x onerror="document.title=1">\'q.tar'


def expected():
    """{image ID: (file name, files, bytes, wasted or None)} from the independent answers."""
    out = {}
    rep = json.load(open(os.path.join(TD, "report", "expect.json")))
    for inp, e in rep.items():
        out[imgref.images(os.path.join(TD, inp))[0]["id"]] = (
            os.path.basename(inp), e["total_files_num"], e["total_files_size"], e["wasted_bytes"])
    a = answer(ROOT, "fmt/docker25.tar")
    out[imgref.images(os.path.join(TD, "fmt/docker25.tar"))[0]["id"]] = (
        EVIL, a["total_files_num"], a["total_files_size"], None)
    return out










def table(d):
    """The index's rows as the page shows them."""
    return d.execute_script("""return Array.from(document.querySelectorAll('#images tbody tr'))
      .map(function (tr) {
        function v(k) { var c = tr.querySelector('[data-key=' + k + ']');
                        return c ? c.dataset.value : null; }
        var a = tr.querySelector('td.name a'), lab = tr.querySelector('td.name > a > span, td.name > span');
        return {id: tr.querySelector('td.id').dataset.value, files: v('files'), bytes: v('bytes'),
                wasted: v('wasted'), status: tr.querySelector('td.state').dataset.value,
                why: (tr.querySelector('td.state .why') || {}).textContent || null,
                input: tr.querySelector('td.name .input').textContent,
                label: lab ? lab.textContent : null, href: a ? a.getAttribute('href') : null};
      });""")


def check_http(s, some_id):
    st, h, _ = s.get("/ui")
    ok("/ui redirects to ui/", st == 301 and h.get("location") == "ui/", repr((st, h)))
    for path in ("/ui/", "/ui/images/" + some_id[7:]):
        st, h, body = s.get(path)
        ok(path + ": 200 text/html", st == 200 and h.get("content-type", "").startswith("text/html"),
           repr((st, h.get("content-type"))))
        csp = h.get("content-security-policy", "")
        ok(path + ": the policy as a header, the same as the page's <meta>",
           csp.startswith("default-src 'none'") and
           ('content="%s"' % csp).encode() in body, csp)
    st, _, j = s.get_json("/ui/images/" + "ab" * 10)
    ok("/ui/images/unknown: 404 HSS.0404", st == 404 and j["error_code"] == "HSS.0404", repr((st, j)))
    st, _, j = s.get_json("/ui/images/not-hex")
    ok("/ui/images/malformed: 400 HSS.0001", st == 400 and j["error_code"] == "HSS.0001", repr((st, j)))
    st, _, _ = s.get("/ui/images/" + some_id[7:19])
    ok("/ui/images/PREFIX: a 12-digit prefix is enough", st == 200, st)


def check_index(d, s, want, folder):
    state = load(d, "http://127.0.0.1:%d/ui/" % s.port)
    ok("index: drawn", state == ["1", None], state)
    ok("index: no JavaScript error", not errors(d), errors(d))
    rows = table(d)
    ok("index: one row per entry (4 images, 1 failed input)", len(rows) == 5, rows)
    for image_id, (fname, files, size, wasted) in want.items():
        r = [x for x in rows if x["id"] == image_id]
        ok("index: %s listed" % fname, len(r) == 1, rows)
        if not r:
            continue
        r = r[0]
        ok("index: %s files, size" % fname,
           (r["files"], r["bytes"]) == (str(files), str(size)), repr(r))
        if wasted is not None:
            ok("index: %s wasted" % fname, r["wasted"] == str(wasted), r)
        ok("index: %s success, links to images/HEX" % fname,
           r["status"] == "success" and r["href"] == "images/" + image_id[7:], r)
        ok("index: %s from its file" % fname,
           r["input"] == os.path.join(folder, fname), repr((r["input"], fname)))
    bad = [x for x in rows if x["input"].endswith("broken.tar")]
    ok("index: the broken file failed, with its reason",
       len(bad) == 1 and bad[0]["status"] == "failed" and bad[0]["why"] and not bad[0]["href"],
       bad)
    # the markup in a name is text
    ok("index: no element of a name's markup", d.execute_script(
        "return document.querySelectorAll('img, [onerror]').length;") == 0)
    ok("index: nothing of it ran", d.title == "imgstat catalog", d.title)
    shot(d, SHOTS, "ui-index")


def header(d, col):
    return d.find_element(By.CSS_SELECTOR, '#images th[data-col="%s"] button' % col)


def figures(d, key):
    return [int(r[key]) if r[key] is not None else None for r in table(d)]


def check_sort(d):
    header(d, "size").click()
    got = figures(d, "bytes")
    known = [v for v in got if v is not None]
    ok("sort: Size, largest first, unknown last",
       known == sorted(known, reverse=True) and got[len(known):] == [None] * (len(got) - len(known)),
       got)
    header(d, "size").click()
    got = [v for v in figures(d, "bytes") if v is not None]
    ok("sort: Size again, smallest first", got == sorted(got), got)
    aria = d.find_element(By.CSS_SELECTOR, '#images th[data-col="size"]').get_attribute("aria-sort")
    ok("sort: aria-sort says so", aria == "ascending", aria)
    header(d, "files").send_keys(Keys.ENTER)
    got = [v for v in figures(d, "files") if v is not None]
    ok("sort: Enter on Files sorts by files", got == sorted(got, reverse=True), got)
    header(d, "status").click()
    st = [r["status"] for r in table(d)]
    ok("sort: Scan status, failed first", st[0] == "failed" and set(st[1:]) == {"success"}, st)


def check_report(d, s, image_id, fname, files, size, folder):
    d.find_element(By.CSS_SELECTOR, 'a[href="images/%s"]' % image_id[7:]).click()
    state = drawn(d)
    ok("report via the index: drawn at images/HEX",
       state[0] and state[1] is None and d.current_url.endswith("/ui/images/" + image_id[7:]),
       repr((state, d.current_url)))
    ok("report via the index: no JavaScript error", not errors(d), errors(d))
    shown = d.execute_script("""var o = {};
        document.querySelectorAll('[data-key]').forEach(function (e) { o[e.dataset.key] = e.dataset.value; });
        return o;""")
    ok("report via the index: totals of the independent answer",
       (shown.get("total_files_num"), shown.get("total_files_size")) == (str(files), str(size)),
       shown)
    shot(d, SHOTS, "ui-image")
    _, _, served = s.get("/ui/images/" + image_id[7:])
    out = os.path.join(os.path.dirname(folder), "page.html")
    p = subprocess.run([BIN, "report", "--no-cache", "-o", out, os.path.join(folder, fname)],
                       capture_output=True)
    page = open(out, "rb").read() if p.returncode == 0 else b""
    ok("report: served page is what `imgstat report FILE` writes",
       page == served, repr((p.returncode, p.stderr, len(page), len(served))))


def main():
    tmp = tempfile.mkdtemp(prefix="imgstat-ui-")
    folder = os.path.join(tmp, "images")
    os.makedirs(folder)
    want = expected()
    for inp in json.load(open(os.path.join(TD, "report", "expect.json"))):
        shutil.copy(os.path.join(TD, inp), folder)
    shutil.copy(os.path.join(TD, "fmt/docker25.tar"), os.path.join(folder, EVIL))
    with open(os.path.join(folder, "broken.tar"), "wb") as f:  # a tarball cut short
        f.write(open(os.path.join(TD, "fmt/docker25.tar"), "rb").read()[:3000])
    d = None
    try:
        with Server(BIN, ["--images", folder]) as s:
            rows, end = [], time.time() + 30
            while len(rows) < 5 and time.time() < end:
                rows = s.wait_status({"success", "failed"})
            ok("the catalog scanned the folder: 4 images, 1 failure",
               sorted(r["scan_status"] for r in rows) == ["failed"] + ["success"] * 4, rows)
            some = next(iter(want))
            check_http(s, some)
            d = browser()
            check_index(d, s, want, folder)
            check_sort(d)
            name, files, size, _ = want[some]
            check_report(d, s, some, name, files, size, folder)
            log = s.log()
            ok("serve exits 0", s.stop() == 0, log)
    finally:
        if d:
            d.quit()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


main()
