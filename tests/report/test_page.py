#!/usr/bin/env python3
"""`imgstat report`'s page, rendered in headless Chromium (Debian's chromium and
chromium-driver, driven with python3-selenium).

usage: test_page.py IMGSTAT SOURCE_ROOT BUILD_DIR

For each image (testdata fixtures, two corpus images where ../shared/corpus is present, and a
hostile one this test writes): the page is written, loaded from disk, and read back from the
DOM:
- no JavaScript error is logged and the page says it is drawn;
- the totals shown (their data-value, and the human units as text) equal `imgstat --detail`'s
  JSON, the layers and their commands too, and the lists of the largest and wasted files;
- the treemap's top-level boxes add up to the root's bytes exactly, and each box's area is
  its share of the map's within rounding;
- clicking the largest directory shows its children (their paths below it, their bytes
  adding up to the directory's figure from testdata/report/expect.json or `imgstat du`);
  Backspace and the path above the map go back out; arrow keys move between boxes;
- the search finds a file by a piece of its name;
- a screenshot is saved as BUILD_DIR/report-shots/NAME.png.
The hostile image's names (markup, quotes, control bytes, invalid UTF-8, U+2028, a 4096-byte
path) must come out as text: no element or script of theirs in the page, none run, each
shown as imgstat's text output writes it (control bytes and invalid UTF-8 as \\xHH).

Prints one line per failed check and `N passed, N failed`; exits 77 (skipped) without
selenium, chromium or chromedriver.
"""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from browser import By, Keys, browser, errors, shot  # noqa: E402 (exits 77 without Chromium)
from browser import load as load_url  # noqa: E402
from testlib import finish, ok  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
SHOTS = os.path.join(os.path.abspath(sys.argv[3]), "report-shots")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
MAX_PAGE = 5 * 1000 * 1000


def human(v):
    """As imgstat's text output: powers of 1024, one decimal, whole bytes below 1 KiB."""
    units, d, u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"], float(v), 0
    while d >= 1024 and u < 6:
        d /= 1024
        u += 1
    return "%.1f %s" % (d, units[u]) if u else "%d B" % v


# Unicode's bidirectional controls: the page shows them as the text \uXXXX (TR 36 spoofing)
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text_form(raw):
    """A name as the page shows it, as imgstat's text output does: printable ASCII and valid
    UTF-8 as they are, any other byte as \\xHH; a bidirectional control as \\uXXXX."""
    out, i = [], 0
    while i < len(raw):
        b = raw[i]
        n = 2 if 0xc2 <= b <= 0xdf else 3 if 0xe0 <= b <= 0xef else 4 if 0xf0 <= b <= 0xf4 else 1
        if n > 1:
            try:
                ch = raw[i:i + n].decode("utf-8")
                i += n
                out.append("\\u%04x" % ord(ch) if ch in BIDI else ch)
                continue
            except UnicodeDecodeError:
                pass
        out.append(chr(b) if 0x20 <= b < 0x7f else "\\x%02x" % b)
        i += 1
    return "".join(out)


def cli_json(out):
    """imgstat's JSON, a byte that is not UTF-8 (written \\u00XX, XX >= 80) read back as that
    byte (a surrogate escape), so that cli_text gives the name's bytes back."""
    return json.loads(re.sub(r"\\u00([89a-f][0-9a-f])", r"\\udc\1", out.decode()))


def cli_text(s):
    """text_form of a name from cli_json."""
    return text_form(s.encode("utf-8", "surrogateescape"))


# ---- the hostile image ----------------------------------------------------------------

def tar_of(files, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8",
                      errors="surrogateescape") as t:
        for name, size in files:
            ti = tarfile.TarInfo(os.fsdecode(name))
            ti.size = size
            t.addfile(ti, io.BytesIO(b"x" * size))
    return buf.getvalue()


def docker_archive(path, layers):
    blobs = [tar_of(l) for l in layers]
    ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": ids},
                      "history": [{"created_by": "RUN echo '</script><script>window.__pwned=9"
                                                 "</script>' \u2028 <b>bold</b>"},
                                  {"created_by": "COPY . /"}]}).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    names = [i.split(":")[1] + ".tar" for i in ids]
    man = json.dumps([{"Config": cfg_name, "RepoTags": ["hostile<b>:1"],
                       "Layers": names}]).encode()
    with tarfile.open(path, "w") as t:
        for name, data in list(zip(names, blobs)) + [(cfg_name, cfg), ("manifest.json", man)]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))


def long_path():
    """Exactly 4096 bytes (PATH_MAX_BYTES): 200-byte directories holding markup."""
    p = b""
    while len(p) + 201 < 4096 - 20:
        p += (b"<i>d" + b"x" * 200)[:200] + b"/"
    p += b"<u>" + b"y" * (4096 - len(p) - 3)
    assert len(p) == 4096
    return p


HOSTILE = [
    b"x</script><img src=x onerror=window.__pwned=1>",
    b"<script>window.__pwned=2</script>",
    b"q\"uo'te`s &amp; &lt;b&gt; ${x} {{y}}",
    b"ctl\x01\x1b[31m\n\r\t.txt",
    b"bad\xff\xfe\xc0\x80utf8",
    b"sep\xe2\x80\xa8\xe2\x80\xa9line",
    b"<!--c--> ]]> <![CDATA[",
    b"__proto__",
    b"rtl\xe2\x80\xaeexe.txt",
    long_path(),
]


def hostile_image(path):
    """Layer 1 every hostile name (sizes 1000, 1001, ...); layer 2 overwrites the second, so
    the wasted list holds a hostile name too."""
    files = [(n, 1000 + i) for i, n in enumerate(HOSTILE)]
    docker_archive(path, [files, [(HOSTILE[1], 5)]])


# ---- the page -------------------------------------------------------------------------







def load(d, html):
    return load_url(d, "file://" + html)


def screenshot(d, name):
    shot(d, SHOTS, name)


def js(d, script, *args):
    return d.execute_script(script, *args)


def cells(d):
    return js(d, """return Array.from(document.querySelectorAll('#map > .cell')).map(function (c) {
        var r = c.getBoundingClientRect();
        return {bytes: c.dataset.bytes, path: c.dataset.path || null, node: c.dataset.node,
                dir: c.classList.contains('dir'), w: r.width, h: r.height};
    });""")


def check_totals(name, d, det):
    shown = js(d, """var o = {};
        document.querySelectorAll('[data-key]').forEach(function (e) {
            o[e.dataset.key] = [e.dataset.value, e.textContent]; });
        return o;""")
    for k in ("total_files_num", "total_files_size", "wasted_bytes", "layer_files_size", "dirs"):
        v = det[k]
        text = human(v) if k.endswith("size") or k == "wasted_bytes" else "{:,}".format(v)
        ok("%s: %s shown" % (name, k), shown.get(k) == [str(v), text],
           "%r, expected %r" % (shown.get(k), [str(v), text]))
    eff = shown.get("efficiency", ["-1"])[0]
    ok(name + ": efficiency", abs(float(eff) - det["efficiency"]) < 1e-6, eff)
    want = det["image"]["refs"][0] if det["image"]["refs"] else det["image"]["image_id"]
    ok(name + ": title", d.find_element(By.ID, "title").text == cli_text(want).strip(),
       d.find_element(By.ID, "title").text)


def check_layers(name, d, det):
    rows = js(d, """return Array.from(document.querySelectorAll('#layers .layer')).map(function (l) {
        return l.querySelector('.cmd').textContent; });""")
    want = [l["created_by"] if l["created_by"] is not None else
            "no command in the config's history" for l in det["layers"]]
    ok(name + ": one row per layer, with its command", rows == want, "%r vs %r" % (rows, want))


def check_lists(name, d, det):
    largest = js(d, """return Array.from(document.querySelectorAll('#largest tbody tr')).map(
        function (r) { return [r.cells[1].dataset.value, r.cells[2].textContent]; });""")
    want = [[str(f["size"]), cli_text(f["file_path"])] for f in det["largest_files"]]
    ok(name + ": largest files", largest == want, "%r vs %r" % (largest[:3], want[:3]))
    wasted = js(d, """return Array.from(document.querySelectorAll('#wasted tbody tr')).map(
        function (r) { return [r.cells[1].dataset.value, r.cells[2].textContent,
                               r.cells[3].textContent, r.cells[4].textContent]; });""")
    want = [[str(w["wasted_bytes"]), str(w["copies"]), ", ".join(map(str, w["layers"])),
             cli_text(w["file_path"])] for w in det["wasted_files"]]
    ok(name + ": wasted files", wasted == want, "%r vs %r" % (wasted[:3], want[:3]))


def check_areas(name, d, root_bytes, where):
    cs = cells(d)
    size = js(d, "var m = document.getElementById('map'); return [m.clientWidth, m.clientHeight];")
    total = sum(int(c["bytes"]) for c in cs)
    ok("%s: %s: boxes add up to %d B" % (name, where, root_bytes), total == root_bytes,
       "%d B in %d boxes" % (total, len(cs)))
    area = size[0] * size[1]
    drawn = [c for c in cs if int(c["bytes"]) > 0]
    # rounding: the browser places edges on 1/64 px (a LayoutUnit), so an area may be off by
    # a few such slivers along its sides
    bad = [c for c in drawn if abs(c["w"] * c["h"] - area * int(c["bytes"]) / root_bytes) >
           max(0.005 * area * int(c["bytes"]) / root_bytes, (c["w"] + c["h"]) / 16)]
    ok("%s: %s: each box's area is its bytes' share" % (name, where), not bad, bad[:3])
    covered = sum(c["w"] * c["h"] for c in drawn)
    ok("%s: %s: the boxes cover the map" % (name, where),
       root_bytes == 0 or abs(covered - area) <= 0.005 * area, "%.1f of %d" % (covered, area))
    return cs


def check_map(name, d, det, dir_bytes):
    cs = check_areas(name, d, det["total_files_size"], "/")
    dirs = sorted((c for c in cs if c["dir"]), key=lambda c: -int(c["bytes"]))
    if not dirs:
        return
    top = dirs[0]
    el = d.find_element(By.CSS_SELECTOR, '#map > .cell[data-node="%s"]' % top["node"])
    el.click()
    crumbs = js(d, """return Array.from(document.querySelectorAll('#crumbs button')).map(
        function (b) { return [b.textContent, b.getAttribute('aria-current')]; });""")
    leaf = top["path"].rsplit("/", 1)[1]
    ok(name + ": a click opens the directory", crumbs and crumbs[-1] == [leaf, "location"], crumbs)
    inside = cells(d)
    ok(name + ": its children are shown", inside and all(
        c["path"] is None or c["path"].startswith(top["path"] + "/") for c in inside),
       [c["path"] for c in inside][:5])
    want = dir_bytes(top["path"])
    check_areas(name, d, want, top["path"])
    d.switch_to.active_element.send_keys(Keys.BACKSPACE)
    back = cells(d)
    ok(name + ": Backspace goes back out", [c["path"] for c in back] == [c["path"] for c in cs],
       [c["path"] for c in back][:5])
    el = d.find_element(By.CSS_SELECTOR, '#map > .cell[data-node="%s"]' % top["node"])
    el.click()
    d.find_element(By.CSS_SELECTOR, "#crumbs button").click()
    ok(name + ": the root in the path goes back out",
       [c["path"] for c in cells(d)] == [c["path"] for c in cs])
    if len(cs) > 1:
        d.find_element(By.CSS_SELECTOR, "#map > .cell").click() if not cs[0]["dir"] else None
        js(d, "document.querySelector('#map > .cell').focus();")
        before = js(d, "return document.activeElement.dataset.node;")
        for k in (Keys.ARROW_RIGHT, Keys.ARROW_DOWN, Keys.ARROW_LEFT, Keys.ARROW_UP):
            d.switch_to.active_element.send_keys(k)
            if js(d, "return document.activeElement.dataset.node;") != before:
                break
        now = js(d, "return [document.activeElement.className, document.activeElement.dataset.node];")
        ok(name + ": arrow keys move between boxes", now[0].startswith("cell") and now[1] != before,
           now)


def check_search(name, d, det):
    if not det["largest_files"]:
        return
    path = cli_text(det["largest_files"][0]["file_path"])
    piece = path.rsplit("/", 1)[1][-6:] or path
    box = d.find_element(By.ID, "search")
    box.clear()
    box.send_keys(piece + Keys.ENTER)
    found = js(d, """return Array.from(document.querySelectorAll('#results button')).map(
        function (b) { return b.textContent; });""")
    ok(name + ": the search finds " + repr(path[-40:]), path in found, found[:5])
    box.clear()




def du_figures(path, args):
    p = subprocess.run([BIN, "du", "--depth", "4096"] + args + [path], capture_output=True)
    return {r["path"]: r["size"] for r in json.loads(p.stdout)["data_list"]}


def check_image(d, name, path, args=(), expect=None):
    args = list(args)
    work = tempfile.mkdtemp(prefix="imgstat-page-")
    html = os.path.join(work, name + ".html")
    p = subprocess.run([BIN, "report", "-o", html] + args + [path], capture_output=True)
    ok(name + ": imgstat report exit 0, nothing on stdout", p.returncode == 0 and not p.stdout,
       p.stderr)
    if p.returncode != 0:
        return None
    ok(name + ": the page is under 5 MB", os.path.getsize(html) < MAX_PAGE, os.path.getsize(html))
    det = cli_json(subprocess.run([BIN, "--detail", "--top", "100"] + args + [path],
                                  capture_output=True).stdout)
    d.get_log("browser")  # forget what an earlier page logged
    ready, error = load(d, html)
    ok(name + ": drawn without error", ready and not error, error)
    check_totals(name, d, det)
    check_layers(name, d, det)
    check_lists(name, d, det)
    figures = ({r["path"]: r["size"] for r in expect["du"]} if expect else du_figures(path, args))
    check_map(name, d, det, lambda p: figures[p])
    check_search(name, d, det)
    screenshot(d, name)
    logged = errors(d)
    ok(name + ": no JavaScript error logged", not logged, logged[:3])
    return html, det, work


def check_hostile(d):
    work = tempfile.mkdtemp(prefix="imgstat-hostile-")
    img = os.path.join(work, "hostile.tar")
    hostile_image(img)
    got = check_image(d, "hostile", img)
    if not got:
        return
    html, det, _ = got
    page = open(html, "rb").read()
    start = page.index(b'<script id="imgstat-data" type="application/json">')
    end = page.index(b"</script>", start)
    data = page[start + len(b'<script id="imgstat-data" type="application/json">'):end]
    ok("hostile: the data ends where its element does", json.loads(data)["version"] == 1)
    ok("hostile: no '<', U+2028 or U+2029 in the data",
       b"<" not in data and b"\xe2\x80\xa8" not in data and b"\xe2\x80\xa9" not in data)
    dom = js(d, """var mine = ['HTML', 'HEAD', 'META', 'TITLE', 'STYLE', 'SCRIPT', 'BODY', 'HEADER',
        'FOOTER', 'MAIN', 'SECTION', 'NAV', 'P', 'H1', 'H2', 'DL', 'DT', 'DD', 'DIV', 'SPAN', 'B',
        'KBD', 'OL', 'LI', 'BUTTON', 'LABEL', 'INPUT', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD'];
        return {scripts: document.scripts.length,
        foreign: Array.from(document.querySelectorAll('*')).filter(function (e) {
            return mine.indexOf(e.tagName) < 0; }).map(function (e) { return e.tagName; }).length,
        handlers: Array.from(document.querySelectorAll('*')).filter(function (e) {
            return Array.from(e.attributes).some(function (a) { return /^on/i.test(a.name); });
        }).length, pwned: typeof window.__pwned};""")
    ok("hostile: only the page's two scripts, no element from a name",
       dom == {"scripts": 2, "foreign": 0, "handlers": 0, "pwned": "undefined"}, dom)
    shown = set(js(d, """return Array.from(document.querySelectorAll('#largest td.path')).map(
        function (e) { return e.textContent; });"""))
    for raw in HOSTILE:
        want = "/" + text_form(raw)
        ok("hostile: %r shown as text" % raw[:24], want in shown, "%r not in %r"
           % (want[:60], sorted(shown)[:3]))
    wasted = js(d, "return document.querySelector('#wasted tbody td.path').textContent;")
    ok("hostile: the wasted name as text", wasted == "/" + text_form(HOSTILE[1]), wasted)
    tops = {c["path"] for c in cells(d)}
    for raw in HOSTILE:
        first = b"/" + raw.split(b"/")[0]
        ok("hostile: the treemap box of %r" % first[:24], text_form(first) in tops,
           sorted(t[:30] for t in tops if t))
    cmd = js(d, "return document.querySelector('#layers .cmd').textContent;")
    ok("hostile: a command with markup as text",
       cmd == "RUN echo '</script><script>window.__pwned=9</script>' \u2028 <b>bold</b>", cmd)
    box = d.find_element(By.ID, "search")
    box.send_keys("script" + Keys.ENTER)
    found = js(d, """return Array.from(document.querySelectorAll('#results button')).map(
        function (b) { return b.textContent; });""")
    ok("hostile: the search shows names as text", "/" + text_form(HOSTILE[0]) in found, found)
    res = d.find_elements(By.CSS_SELECTOR, "#results button")
    if res:
        res[0].click()
    dom2 = js(d, "return [document.scripts.length, typeof window.__pwned];")
    ok("hostile: still nothing ran after a search and a click", dom2 == [2, "undefined"], dom2)
    logged = errors(d)
    ok("hostile: no JavaScript error logged", not logged, logged[:3])
    shutil.rmtree(work, ignore_errors=True)


def main():
    d = browser()
    try:
        expect = json.load(open(os.path.join(ROOT, "testdata", "report", "expect.json")))
        for name, rel in (("C6-copies", "report/C6-copies.oci.tar"),
                          ("C7-first-name", "report/C7-first-name.oci.tar")):
            check_image(d, name, os.path.join(ROOT, "testdata", rel), expect=expect[rel])
        check_image(d, "std-gzip", os.path.join(ROOT, "testdata", "oci", "std-gzip"))
        if os.path.isdir(CORPUS):
            for name, rel in (("layered-deletes", "layered-deletes/oci-gzip"),
                              ("hardlinks", "hardlinks/oci-none")):
                check_image(d, name, os.path.join(CORPUS, rel))
        else:
            print("SKIP corpus pages: %s is absent" % CORPUS)
        check_hostile(d)
    finally:
        d.quit()
    print("screenshots in %s" % SHOTS)
    finish()


main()
