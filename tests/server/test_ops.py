"""Operations: the folder watcher (added, replaced, removed, growing files, layouts, nested
folders; inotify and the polling fallback), the access log and X-Request-Id, signals (SIGHUP
rescans, SIGTERM/SIGINT exit 0), --config, and the command line's refusals.

Image IDs come from imgref.py (python's tarfile/json), answers from testdata/cases.json.
usage: test_ops.py IMGSTAT ROOT
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import ok, finish, answer  # noqa: E402
from serverlib import Server  # noqa: E402
import imgref  # noqa: E402

IMGSTAT, ROOT = sys.argv[1], os.path.abspath(sys.argv[2])
TD = os.path.join(ROOT, "testdata")
A = "fmt/docker25.tar"
B = "fmt/classic-repeat-symlink.docker.tar"
LAYOUT = "oci/std-gzip"


def stats(s, image_id):
    return s.get_json("/v5/p/image/%s/files-statistics?image_type=cicd" % image_id)


def wait_for(cond, timeout):
    """Seconds until cond() holds, or None after timeout."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return time.time() - t0
        time.sleep(0.02)
    return None


def answered(s, image_id, want):
    return lambda: stats(s, image_id)[::2] == (200, want)


def gone(s, image_id):
    return lambda: stats(s, image_id)[0] == 404


def check_watch(tmp, env, label):
    images = os.path.join(tmp, "images-" + label)
    os.makedirs(os.path.join(images, "deep", "er"))
    ida, idb = imgref.images(os.path.join(TD, A))[0]["id"], imgref.images(os.path.join(TD, B))[0]["id"]
    ea, eb = answer(ROOT, A), answer(ROOT, B)
    with Server(IMGSTAT, ["--images", images], env=env) as s:
        # added by rename (a finished file)
        shutil.copy(os.path.join(TD, A), os.path.join(images, ".a.part"))
        os.rename(os.path.join(images, ".a.part"), os.path.join(images, "deep", "er", "a.tar"))
        t = wait_for(answered(s, ida, ea), 10)
        ok(label + ": added file noticed and scanned within 2 s", t is not None and t <= 2.5, t)
        # replaced by another image under the same name
        shutil.copy(os.path.join(TD, B), os.path.join(images, ".b.part"))
        os.rename(os.path.join(images, ".b.part"), os.path.join(images, "deep", "er", "a.tar"))
        t = wait_for(lambda: answered(s, idb, eb)() and gone(s, ida)(), 10)
        ok(label + ": replaced file rescanned within 2 s", t is not None and t <= 2.5, t)
        # removed
        os.unlink(os.path.join(images, "deep", "er", "a.tar"))
        t = wait_for(gone(s, idb), 10)
        ok(label + ": removed file dropped within 2 s", t is not None and t <= 2.5, t)
        st, _, j = s.get_json("/v5/p/image/local-repositories")
        ok(label + ": catalog empty again", j["total_num"] == 0, j)
        # an OCI layout directory, copied in under a hidden name and renamed
        shutil.copytree(os.path.join(TD, LAYOUT), os.path.join(images, ".l"))
        os.rename(os.path.join(images, ".l"), os.path.join(images, "layout"))
        idl = imgref.images(os.path.join(TD, LAYOUT))[0]["id"]
        t = wait_for(answered(s, idl, answer(ROOT, LAYOUT)), 10)
        ok(label + ": layout directory added", t is not None and t <= 2.5, t)
        shutil.rmtree(os.path.join(images, "layout"))
        t = wait_for(gone(s, idl), 10)
        ok(label + ": layout directory removed", t is not None and t <= 2.5, t)
        # a file written slowly (growing for 3 s) is scanned once, when complete
        data = open(os.path.join(TD, A), "rb").read()
        path = os.path.join(images, "slow.tar")
        with open(path, "wb") as f:
            step = len(data) // 10 + 1
            for i in range(0, len(data), step):
                f.write(data[i:i + step])
                f.flush()
                time.sleep(0.3)
        t = wait_for(answered(s, ida, ea), 10)
        ok(label + ": growing file scanned once complete", t is not None, t)
        log = s.log()
        ok(label + ": growing file never scanned half-written",
           log.count("scan: %s:" % path) == 1, re.findall(r"scan: .*slow.tar.*", log))
        failed = [l for l in log.splitlines() if "slow.tar" in l and "fail" in l]
        ok(label + ": no failure recorded for it", not failed, failed)
        ok(label + ": exit 0", s.stop() == 0, "")


def check_missing_folder(tmp):
    """The package's default folder does not exist at first: serve starts, says so, and scans
    the folder once it is made."""
    images = os.path.join(tmp, "not-yet")
    ida = imgref.images(os.path.join(TD, A))[0]["id"]
    with Server(IMGSTAT, ["--images", images]) as s:
        ok("missing --images folder: serve starts and names it",
           "not-yet: no such folder yet" in s.log(), s.log())
        st, _, j = s.get_json("/healthz")
        ok("missing --images folder: /healthz answers", st == 200, (st, j))
        os.makedirs(images + ".part")
        shutil.copy(os.path.join(TD, A), os.path.join(images + ".part", "a.tar"))
        os.rename(images + ".part", images)
        t = wait_for(answered(s, ida, answer(ROOT, A)), 10)
        ok("missing --images folder: scanned within 2 s of appearing", t is not None and t <= 2.5, t)
        ok("missing --images folder: exit 0", s.stop() == 0, "")


def check_forms(tmp):
    """Every saved form imgstat reads is found in a folder: xz and bzip2 tarballs, and a
    containers "dir" transport directory (issue 15), besides tarballs and OCI layouts."""
    images = os.path.join(tmp, "forms")
    os.makedirs(images)
    forms = ["codec/D6-classic-repeat-symlink.docker.tar.xz",
             "codec/D6-classic-repeat-symlink.docker.tar.bz2", "dir/std-v2s2"]
    with Server(IMGSTAT, ["--images", images]) as s:
        for i, f in enumerate(forms):
            dst = os.path.join(images, "%d-%s" % (i, os.path.basename(f)))
            if os.path.isdir(os.path.join(TD, f)):
                shutil.copytree(os.path.join(TD, f), dst)
            else:
                shutil.copy(os.path.join(TD, f), dst)
        rows, end = [], time.time() + 20
        while len(rows) < len(forms) and time.time() < end:
            rows = s.wait_status({"success"})
        for i, f in enumerate(forms):
            want = answer(ROOT, f)
            got = [r for r in rows if os.path.basename(r["input"]).startswith("%d-" % i)]
            st, _, j = stats(s, got[0]["image_id"]) if got else (None, None, None)
            ok("forms: %s found and scanned" % f, st == 200 and j == want, (got, j, want))
        ok("forms: exit 0", s.stop() == 0, "")


def check_access_log(tmp):
    images = os.path.join(tmp, "images-log")
    os.mkdir(images)
    shutil.copy(os.path.join(TD, A), images)
    with Server(IMGSTAT, ["--images", images]) as s:
        s.wait_status({"success"})
        ids = set()
        for target in ["/healthz", "/v5/p/image/local-repositories?limit=10&image_name=secret-q",
                       "/nope", "/v5/p/image/zz/files?image_type=cicd"]:
            st, h, _ = s.get(target)
            ids.add(h.get("x-request-id"))
        ok("X-Request-Id unique", len(ids) == 4 and None not in ids, ids)
        log = s.log()
        lines = [l for l in log.splitlines() if re.search(r" GET /\S* \d{3} \d+ \d+us [0-9a-f]{32}$", l)]
        ok("one access-log line per request", len(lines) >= 5, log[-800:])
        for rid in ids:
            ok("request id %s logged" % rid, sum(l.endswith(rid) for l in lines) == 1, "")
        ok("no query string in the log", "secret-q" not in log, "")
        ok("status and bytes logged", any(" /nope 404 " in l for l in lines), lines)
        s.stop()


def check_signals(tmp):
    images = os.path.join(tmp, "images-sig")
    os.mkdir(images)
    shutil.copy(os.path.join(TD, A), images)
    ida = imgref.images(os.path.join(TD, A))[0]["id"]
    with Server(IMGSTAT, ["--images", images]) as s:
        s.wait_status({"success"})
        # SIGHUP: the catalog reopened, the folders walked again (a file added meanwhile is
        # found; the unchanged one is current in the catalog and not scanned again)
        shutil.copy(os.path.join(TD, B), os.path.join(images, ".b"))
        s.send(signal.SIGHUP)
        os.rename(os.path.join(images, ".b"), os.path.join(images, "b.tar"))
        idb = imgref.images(os.path.join(TD, B))[0]["id"]
        t = wait_for(answered(s, idb, answer(ROOT, B)), 10)
        ok("SIGHUP reopens and walks again", t is not None and "SIGHUP" in s.log() and
           s.log().count("scan: %s/docker25.tar" % images) == 1, s.log()[-500:])
        t = wait_for(answered(s, ida, answer(ROOT, A)), 10)
        ok("answers after SIGHUP", t is not None, "")
        # requests in flight when SIGTERM arrives are answered
        results = []

        def client():
            for _ in range(200):
                try:
                    results.append(stats(s, ida)[0])
                except OSError:
                    results.append("refused")

        th = threading.Thread(target=client)
        th.start()
        time.sleep(0.05)
        rc = s.stop(signal.SIGTERM)
        th.join()
        ok("SIGTERM exits 0", rc == 0, rc)
        ok("requests before SIGTERM answered 200, later ones refused, none cut",
           results and all(r in (200, "refused") for r in results) and results[0] == 200,
           set(map(str, results)))
    with Server(IMGSTAT, ["--images", images]) as s:
        ok("SIGINT exits 0", s.stop(signal.SIGINT) == 0, "")


def run(args, timeout=20):
    p = subprocess.run([IMGSTAT, "serve"] + args, capture_output=True, timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def check_command_line(tmp):
    rc, err = run(["--listen", "localhost:80"])
    ok("--listen needs a numeric address", rc == 2 and "--listen" in err, err)
    rc, err = run(["--listen", "127.0.0.1:99999"])
    ok("--listen port range", rc == 2, err)
    rc, err = run(["--images", os.path.join(ROOT, "README.md")])
    ok("--images naming a file exits 1", rc == 1 and "not a directory" in err, err)
    rc, err = run([os.path.join(TD, A)])
    ok("serve takes no IMAGE", rc == 2 and "--images" in err, err)
    rc, err = run(["-j", "0"])
    ok("-j 0 refused", rc == 2, err)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        rc, err = run(["--listen", "127.0.0.1:%d" % busy.getsockname()[1]])
        ok("port in use exits 1", rc == 1 and "listen" in err, err)
    p = subprocess.run([IMGSTAT, "serve", "--help"], capture_output=True)
    ok("--help within 24 lines", p.returncode == 0 and len(p.stdout.splitlines()) <= 24, p.stdout)
    # --config: options from a file, the command line wins
    images = os.path.join(tmp, "images-conf")
    os.mkdir(images)
    shutil.copy(os.path.join(TD, A), images)
    conf = os.path.join(tmp, "imgstat.conf")
    with open(conf, "w") as f:
        f.write("# test\nimages %s\nlisten 127.0.0.1:1\n\nproject-id p\n" % images)
    with Server(IMGSTAT, ["--config", conf]) as s:  # Server's --listen 127.0.0.1:0 comes after
        s.wait_status({"success"})
        st, _, _ = s.get("/v5/p/image/local-repositories")
        st2, _, _ = s.get("/v5/px/image/local-repositories")
        ok("--config read, command line wins", st == 200 and st2 == 403, (st, st2))
    with open(conf, "w") as f:
        f.write("bogus-option 1\n")
    rc, err = run(["--config", conf])
    ok("--config with an unknown option", rc == 2 and "bogus-option" in err, err)


def main():
    tmp = tempfile.mkdtemp(prefix="serve-ops-")
    try:
        check_watch(tmp, {}, "inotify")
        check_watch(tmp, {"IMGSTAT_SERVE_POLL": "1"}, "polling")
        check_missing_folder(tmp)
        check_forms(tmp)
        check_access_log(tmp)
        check_signals(tmp)
        check_command_line(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


main()
