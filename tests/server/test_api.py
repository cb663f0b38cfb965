"""imgstat serve's endpoints on a folder of images, against answers computed outside imgstat:
testdata/cases.json (hand-derived, checked by the python reference merger), the shared
corpus's cases.json and filelists/ (umoci + find), and image IDs and refs read with python's
tarfile/json (imgref.py).

usage: test_api.py IMGSTAT ROOT
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import ok, finish  # noqa: E402
from serverlib import Server  # noqa: E402
import imgref  # noqa: E402

IMGSTAT, ROOT = sys.argv[1], os.path.abspath(sys.argv[2])
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
Q = urllib.parse.quote


def flat(prefix, rel):
    return prefix + "__" + rel.replace("/", "__")


def copy_in(src, dst):
    if os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copyfile(src, dst)


def collect(images_dir):
    """Copy testdata's and the corpus's inputs in; return the cases to check:
    (name, input copy, selection, expect, filelist or None)."""
    cases = []
    td = json.load(open(os.path.join(ROOT, "testdata", "cases.json")))["cases"]
    sources = [("td", os.path.join(ROOT, "testdata"), td)]
    if os.path.isfile(os.path.join(CORPUS, "cases.json")):
        sources.append(("corpus", CORPUS, json.load(open(os.path.join(CORPUS, "cases.json")))["cases"]))
    copied = {}
    for prefix, base, cs in sources:
        for c in cs:
            if prefix == "td" and c["input"].startswith("json/"):
                # these images mean what Go's encoding/json makes of them (docs/rules.md J1-J6):
                # python's json module, which imgref reads identities with, reads them otherwise;
                # the cases suite checks their answers through the CLI
                continue
            src = os.path.join(base, c["input"])
            dst = os.path.join(images_dir, flat(prefix, c["input"]))
            if src not in copied:
                copy_in(src, dst)
                copied[src] = dst
            files = os.path.join(base, c["files"]) if c.get("files") else None
            cases.append((prefix + ":" + c["name"], dst, src, c.get("args", []), c, files))
    return cases


def selection(src, args):
    """The image a case's args choose, as (id, refs), from python's reading; None if unclear."""
    ims = imgref.images(src)
    if not args:
        return ims[0] if len(ims) == 1 else None
    if args[0] == "--image":
        ref = args[1]
        hits = [i for i in ims if i["id"] == ref or i["id"][7:].startswith(ref) or
                any(r == ref or r == ref + ":latest" for r in i["refs"])]
        return hits[0] if len(hits) == 1 else None
    return None


def split_ref(ref):
    """namespace, image_name, tag_name of a ref with a namespace, else None."""
    m = re.match(r"^(.+)/([^/:@]+):([^/:@]+)$", ref)
    return m.groups() if m else None


def stats_url(image_id, **q):
    q.setdefault("image_type", "cicd")
    return "/v5/p/image/%s/files-statistics?%s" % (image_id, urllib.parse.urlencode(q))


def files_url(image_id, **q):
    q.setdefault("image_type", "cicd")
    return "/v5/p/image/%s/files?%s" % (image_id, urllib.parse.urlencode(q))


def all_files(s, image_id, name=None):
    out, offset = [], 0
    while True:
        q = {"limit": 200, "offset": offset}
        if name is not None:
            q["file_name"] = name
        st, _, j = s.get_json(files_url(image_id, **q))
        if st != 200:
            return None, st
        out += [(d["file_path"], d["size"], d["file_name"]) for d in j["data_list"]]
        offset += 200
        if offset >= j["total_num"]:
            return out, j["total_num"]


def read_tsv(path):
    rows = []
    with open(path, "rb") as f:
        for line in f.read().decode("utf-8", "surrogateescape").splitlines():
            p, size = line.rsplit("\t", 1)
            rows.append((p, int(size)))
    return rows


def check_cases(s, cases):
    """files-statistics and files for every case whose image python can name."""
    by_id = {}
    for name, dst, src, args, c, files in cases:
        if "expect" not in c:
            continue
        im = selection(src, args)
        if im:
            by_id.setdefault(im["id"], set()).add(json.dumps(c["expect"], sort_keys=True))
    checked = 0
    for name, dst, src, args, c, files in cases:
        im = selection(src, args) if "expect" in c else None
        if not im or len(by_id[im["id"]]) > 1:
            continue  # a crafted fixture whose ID another fixture shares with other content
        checked += 1
        e = c["expect"]
        st, h, j = s.get_json(stats_url(im["id"]))
        ok(name + " stats", st == 200 and j == e, "%s %s, want %s" % (st, j, e))
        ok(name + " request id", re.fullmatch(r"[0-9a-f]{32}", h.get("x-request-id", "")), h)
        st, _, j = s.get_json(stats_url(im["id"][7:19]))  # a 12-digit prefix, no "sha256:"
        ok(name + " prefix", st == 200 and j == e, "%s %s" % (st, j))
        for ref in im["refs"]:
            parts = split_ref(ref)
            if parts:
                st, _, j = s.get_json(stats_url(im["id"], image_type="private_image",
                                                namespace=parts[0], image_name=parts[1],
                                                tag_name=parts[2]))
                ok(name + " by ref " + ref, st == 200 and j == e, "%s %s" % (st, j))
        if files:
            want = read_tsv(files)
            got, total = all_files(s, im["id"])
            ok(name + " files", got is not None and [(p, n) for p, n, _ in got] == want and
               total == e["total_files_num"], "%s: %s" % (total, got and got[:3]))
            ok(name + " file_name", got is not None and
               all(fn == p.rsplit("/", 1)[1] for p, _, fn in got), got and got[:2])
            if want:
                part = want[-1][0].rsplit("/", 1)[1][-2:]
                sub = [r for r in want if part in r[0].rsplit("/", 1)[1]]
                got2, total2 = all_files(s, im["id"], part)
                ok(name + " filter " + part, got2 is not None and total2 == len(sub) and
                   [(p, n) for p, n, _ in got2] == sub, "%s %s" % (total2, got2))
    ok("cases checked", checked >= 40, "only %d" % checked)
    return checked


def check_cli_page(s, cases):
    """A page of `files` equals the CLI's page with the same file_name/limit/offset."""
    for name, dst, src, args, c, files in cases:
        if not files or args:
            continue
        im = selection(src, args)
        if not im:
            continue
        cli = subprocess.run([IMGSTAT, "files", "--limit", "3", "--offset", "2", src],
                             capture_output=True)
        st, _, body = s.get(files_url(im["id"], limit=3, offset=2))
        ok(name + " page == CLI page", st == 200 and body + b"\n" == cli.stdout,
           "%r vs %r" % (body[:200], cli.stdout[:200]))
        return


def check_failed(s, cases):
    """An image whose layers cannot be merged is known (its ID is in the manifest): 409 with
    the scan's one-line error; an input that is no image is listed as failed."""
    seen = 0
    for name, dst, src, args, c, files in cases:
        if not c.get("expect_error") or args or not name.startswith("td:ec/"):
            continue
        im = selection(src, args)
        if not im:
            continue
        st, _, j = s.get_json(stats_url(im["id"]))
        ok(name + " 409", st == 409 and j["error_code"] == "HSS.0409" and
           c.get("stderr_contains", "") in j["error_msg"], "%s %s" % (st, j))
        seen += 1
    ok("failed images checked", seen >= 3, seen)
    st, _, j = s.get_json("/v5/p/image/local-repositories?scan_status=failed&limit=200")
    failed = {r["input"].rsplit("/", 1)[1]: r for r in j["data_list"]}
    for bad in ("td__err__rootfs-only.tar", "td__err__truncated.docker.tar"):
        r = failed.get(bad)
        ok("failed " + bad, r is not None and r["scan_failed_desc"] and r["image_id"] == "",
           r)


def expect_error(s, name, target, status, code, mentions=None, method="GET"):
    st, h, b = s.request(method, target)
    try:
        j = json.loads(b)
    except ValueError:
        j = {}
    ok(name, st == status and j.get("error_code") == code and
       (mentions is None or mentions in j.get("error_msg", "")) and "x-request-id" in h,
       "%s %s" % (st, b[:300]))
    return h


def check_errors(s, some_id):
    base = "/v5/p/image/%s/files-statistics" % some_id
    files = "/v5/p/image/%s/files" % some_id
    expect_error(s, "no image_type", base, 400, "HSS.0001", "image_type")
    expect_error(s, "bad image_type", base + "?image_type=vm", 400, "HSS.0001", "image_type")
    expect_error(s, "ref type without namespace", base + "?image_type=private_image", 400,
                 "HSS.0001", "namespace")
    expect_error(s, "short id", "/v5/p/image/abcdef01234/files-statistics?image_type=cicd", 400,
                 "HSS.0001", "image_id")
    expect_error(s, "upper-case id", "/v5/p/image/%s/files-statistics?image_type=cicd" %
                 some_id.upper(), 400, "HSS.0001", "image_id")
    expect_error(s, "unknown id", "/v5/p/image/%s/files-statistics?image_type=cicd" % ("ab" * 32),
                 404, "HSS.0404")
    expect_error(s, "wrong tag", base + "?image_type=private_image&namespace=x&image_name=y&tag_name=z",
                 404, "HSS.0404")
    for v in ("0", "201", "-1", "abc", "1.5", "99999999999999999999", "", "+5", " 5"):
        expect_error(s, "limit %r" % v, files + "?image_type=cicd&limit=" + Q(v), 400,
                     "HSS.0001", "limit") if v else None
    for v in ("-1", "2000001", "x", "1e3"):
        expect_error(s, "offset %r" % v, files + "?image_type=cicd&offset=" + Q(v), 400, "HSS.0001",
                     "offset")
    expect_error(s, "limit twice", files + "?image_type=cicd&limit=5&limit=6", 400, "HSS.0001",
                 "more than once")
    expect_error(s, "image_type twice", base + "?image_type=cicd&image_type=cicd", 400, "HSS.0001")
    lr = "/v5/p/image/local-repositories"
    for v in ("9", "201", "0"):
        expect_error(s, "local limit " + v, lr + "?limit=" + v, 400, "HSS.0001", "limit")
    expect_error(s, "local scan_status", lr + "?scan_status=done", 400, "HSS.0001", "scan_status")
    expect_error(s, "unknown path", "/v5/p/image", 404, "APIGW.0101")
    expect_error(s, "unknown path 2", "/v4/p/image/local-repositories", 404, "APIGW.0101")
    expect_error(s, "trailing segment", base + "/x?image_type=cicd", 404, "APIGW.0101")
    h = expect_error(s, "POST", base + "?image_type=cicd", 405, "HSS.0405", method="POST")
    ok("405 Allow", "GET" in h.get("allow", ""), h)
    expect_error(s, "DELETE", lr, 405, "HSS.0405", method="DELETE")
    expect_error(s, "long project_id", "/v5/%s/image/local-repositories" % ("p" * 257), 400,
                 "HSS.0001", "project_id")
    # unknown parameters are ignored (the reference's own examples send some)
    st, _, j = s.get_json(base + "?image_type=cicd&limit=10&offset=0&repo_type=0&type=linux_vul&image_id=x")
    ok("unknown params ignored", st == 200 and "total_files_num" in j, "%s %s" % (st, j))


def check_local(s):
    st, _, j = s.get_json("/v5/p/image/local-repositories")
    ok("local default limit 10", st == 200 and len(j["data_list"]) == min(10, j["total_num"]), st)
    total = j["total_num"]
    rows = []
    for off in range(0, total, 200):
        st, _, j = s.get_json("/v5/p/image/local-repositories?limit=200&offset=%d" % off)
        rows += j["data_list"]
    ok("local pages", len(rows) == total, "%d %d" % (len(rows), total))
    fields = ["image_name", "image_id", "image_digest", "image_version", "local_image_type",
              "scan_status", "scan_failed_desc", "severity_level", "host_name", "host_id",
              "agent_id", "non_scan_reason", "image_size", "latest_update_time",
              "latest_scan_time", "vul_num", "unsafe_setting_num", "malicious_file_num",
              "host_num", "container_num", "component_num"]
    ok("local fields", rows and all(list(r)[:len(fields)] == fields for r in rows), rows[:1])
    tiny = [r for r in rows if "tiny" in r["image_name"]]
    st, _, j = s.get_json("/v5/p/image/local-repositories?limit=200&image_name=tiny&image_version=latest")
    ok("local image_name filter", st == 200 and j["total_num"] ==
       len([r for r in tiny if r["image_version"] == "latest"]) and
       all("tiny" in r["image_name"] for r in j["data_list"]), "%s %s" % (st, j["total_num"]))
    st, _, j = s.get_json("/v5/p/image/local-repositories?limit=200&scan_status=failed")
    ok("local status filter", j["total_num"] == len([r for r in rows if r["scan_status"] == "failed"]),
       j["total_num"])
    st, _, j = s.get_json("/v5/p/image/local-repositories?scan_status=unscan")
    ok("local unscan", st == 200 and j["total_num"] == 0, j)
    # image_size: the image's layer blobs as stored (python: descriptor sizes, or the
    # docker-archive's layer members)
    sized = 0
    for r in rows:
        ims = imgref.images(r["input"]) if r["scan_status"] == "success" else []
        if len(ims) == 1 and ims[0]["id"] == r["image_id"]:
            ok("image_size " + r["input"], r["image_size"] == ims[0]["layer_bytes"],
               "%d want %d" % (r["image_size"], ims[0]["layer_bytes"]))
            sized += 1
    ok("image_size checked", sized >= 20, sized)
    return rows


def check_metrics(s, rows):
    st, h, b = s.get("/metrics")
    text = b.decode()
    ok("metrics 200", st == 200 and h["content-type"].startswith("text/plain"), h)
    for status in ("success", "failed"):
        m = re.search(r'imgstat_images\{scan_status="%s"\} (\d+)' % status, text)
        # local-repositories lists an image once per ref: count distinct (input, id) instead
        want = len({(r["input"], r["image_id"]) for r in rows if r["scan_status"] == status})
        ok("metrics images " + status, m and int(m.group(1)) == want, "%s want %d" % (m and m.group(0), want))
    ok("metrics requests", re.search(r'imgstat_http_requests_total\{endpoint="files-statistics",status="200"\} \d+', text), text[:500])
    ok("metrics histogram", "imgstat_http_request_duration_seconds_bucket{le=\"+Inf\"}" in text, "")
    st, _, j = s.get_json("/healthz")
    ok("healthz", st == 200 and j == {"status": "ok"}, j)


def main():
    tmp = tempfile.mkdtemp(prefix="serve-api-")
    try:
        images = os.path.join(tmp, "images")
        os.mkdir(images)
        cases = collect(images)
        with Server(IMGSTAT, ["--images", images, "-j", "2"]) as s:
            s.wait_status({"success", "failed"}, timeout=120)
            check_cases(s, cases)
            check_cli_page(s, cases)
            check_failed(s, cases)
            some = next(selection(src, a)["id"] for _, _, src, a, c, f in cases
                        if f and not a and selection(src, a))
            check_errors(s, some)
            rows = check_local(s)
            check_metrics(s, rows)
            rc = s.stop()
            ok("SIGTERM exits 0", rc == 0, rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


main()
