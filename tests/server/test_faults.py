"""Faults: a scan in progress answers 409 (not scanned yet); an image deleted in the middle of
its scan is recorded as failed and the server goes on; kill -9 during background scans, then
a restart: every image is answered again, none half-recorded, the interrupted scans done again.

The slow image is an OCI layout written here: NLAYERS gzip layers of one file of zeros each
(a big inflate, a small file), whose only file's size is the answer (NLAYERS layers writing
the same path: total_files_num 1, total_files_size = the file's size).
usage: test_faults.py IMGSTAT ROOT
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import ok, finish, answer  # noqa: E402
from serverlib import Server  # noqa: E402
import imgref  # noqa: E402

IMGSTAT, ROOT = sys.argv[1], os.path.abspath(sys.argv[2])
NLAYERS, LAYER_MB = 12, 24


def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def slow_layout(path, tag, seed):
    os.makedirs(os.path.join(path, "blobs", "sha256"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("zeros")
        ti.size = LAYER_MB << 20
        t.addfile(ti, io.BytesIO(bytes(ti.size)))
    raw = buf.getvalue()
    layers = []
    for i in range(NLAYERS):  # distinct blobs: each layer opened on its own
        gz = gzip.compress(raw, compresslevel=1, mtime=seed * 1000 + i)  # blobs of their own
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": blob(path, gz), "size": len(gz)})
    diff = "sha256:" + hashlib.sha256(raw).hexdigest()
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag,
                      "rootfs": {"type": "layers", "diff_ids": [diff] * NLAYERS}}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": blob(path, cfg), "size": len(cfg)},
                      "layers": layers}).encode()
    idx = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(path, man),
        "size": len(man), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(idx, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    return "sha256:" + hashlib.sha256(cfg).hexdigest()


def stats(s, image_id):
    return s.get_json("/v5/p/image/%s/files-statistics?image_type=cicd" % image_id)


def wait(cond, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        r = cond()
        if r:
            return r
        time.sleep(0.01)
    return None


def check_disk(tmp, images, small_id):
    """The catalog on a full file system (a tmpfs of 2 MiB): a new image cannot be recorded,
    the error is logged, and what is recorded is still answered; then read-only."""
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]).returncode != 0:
        print("SKIP catalog on a full or read-only disk: cannot mount a tmpfs here")
        return
    try:
        db = os.path.join(mnt, "catalog.db")
        few = os.path.join(tmp, "few")
        os.mkdir(few)
        shutil.copy(os.path.join(ROOT, "testdata", "fmt", "docker25.tar"), few)
        with Server(IMGSTAT, ["--images", few], db=db) as s:
            s.wait_status({"success"})
            with open(os.path.join(mnt, "fill"), "wb") as f:  # the disk is full
                try:
                    while True:
                        f.write(bytes(65536))
                        f.flush()
                except OSError:
                    pass
            shutil.copy(os.path.join(ROOT, "testdata", "fmt", "classic-repeat-symlink.docker.tar"), few)
            logged = wait(lambda: "cannot record" in s.log() or "catalog:" in s.log(), 30)
            ok("full disk: the error is logged", logged, s.log()[-500:])
            ok("full disk: reads still served", stats(s, small_id)[0] == 200, "")
            os.unlink(os.path.join(mnt, "fill"))
            ok("exit 0", s.stop() == 0, "")
        os.unlink(os.path.join(few, "classic-repeat-symlink.docker.tar"))
        # a layer memo on the disk too, filled while it could be written
        std = os.path.join(ROOT, "testdata", "oci", "std-gzip")
        subprocess.run([IMGSTAT, "--cache-dir", mnt, std], capture_output=True, timeout=60)
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        # Read-only: SQLite cannot open a WAL file there the usual way (no -shm can be made);
        # the catalog is opened immutable, its images answered, and what changes is logged.
        want = answer(ROOT, "fmt/docker25.tar")
        with Server(IMGSTAT, ["--images", few], db=db) as s:
            ok("read-only disk: serve starts and says the catalog cannot be written",
               "cannot be written" in s.log(), s.log()[-500:])
            st, _, j = stats(s, small_id)
            ok("read-only disk: reads still served", st == 200 and j == want, repr((st, j)))
            shutil.copy(os.path.join(ROOT, "testdata", "fmt", "classic-repeat-symlink.docker.tar"), few)
            logged = wait(lambda: "classic-repeat-symlink.docker.tar: cannot record" in s.log(), 30)
            ok("read-only disk: a new image's failure to be recorded is logged", logged,
               s.log()[-800:])
            ok("read-only disk: still served after", stats(s, small_id)[0] == 200, "")
            ok("read-only disk: exit 0", s.stop() == 0, "")
        # the CLI's layer memo on it: lookups only, the scan's answer unchanged
        p = subprocess.run([IMGSTAT, "--cache-dir", mnt, std], capture_output=True, timeout=60)
        ok("read-only memo: the CLI answers, without a warning", p.returncode == 0 and
           json.loads(p.stdout) == answer(ROOT, "oci/std-gzip") and not p.stderr,
           repr((p.returncode, p.stdout, p.stderr)))
    finally:
        subprocess.run(["umount", "-l", mnt])


def main():
    tmp = tempfile.mkdtemp(prefix="serve-faults-")
    try:
        proto = os.path.join(tmp, "proto")
        os.mkdir(proto)
        ids = [slow_layout(os.path.join(proto, "slow%d" % i), "slow%d" % i, i) for i in range(5)]
        want_slow = {"total_files_num": 1, "total_files_size": LAYER_MB << 20}
        images = os.path.join(tmp, "images")
        os.mkdir(images)
        small = "fmt/docker25.tar"
        shutil.copy(os.path.join(ROOT, "testdata", small), images)
        small_id = imgref.images(os.path.join(ROOT, "testdata", small))[0]["id"]

        db = os.path.join(tmp, "catalog.db")
        # 1. an image being scanned again answers 409; one deleted mid-scan: failed, server fine
        with Server(IMGSTAT, ["--images", images, "-j", "1"], db=db) as s:
            s.wait_status({"success"})
            shutil.copytree(os.path.join(proto, "slow0"), os.path.join(images, ".s"))
            os.rename(os.path.join(images, ".s"), os.path.join(images, "slow0"))
            st = wait(lambda: stats(s, ids[0])[0] == 200, 120)
            ok("slow image scanned", st, "")
            # rewritten with another image (new layers): while it is scanned again, its
            # recorded image is known but not scanned
            for b in os.listdir(os.path.join(proto, "slow3", "blobs", "sha256")):
                shutil.copy(os.path.join(proto, "slow3", "blobs", "sha256", b),
                            os.path.join(images, "slow0", "blobs", "sha256"))
            shutil.copy(os.path.join(proto, "slow3", "index.json"), os.path.join(images, "slow0", ".i"))
            os.rename(os.path.join(images, "slow0", ".i"), os.path.join(images, "slow0", "index.json"))
            got = wait(lambda: (lambda r: r if r[0] == 409 else None)(stats(s, ids[0])), 30)
            ok("scanning again answers 409", got and got[2]["error_code"] == "HSS.0409" and
               "scanning" in got[2]["error_msg"], got)
            ok("then the new image", wait(lambda: stats(s, ids[3])[0] == 200 and
                                           stats(s, ids[0])[0] == 404, 60), "")
            shutil.rmtree(os.path.join(images, "slow0"))
            # a new image (layers not in the memo) deleted while it is read
            shutil.copytree(os.path.join(proto, "slow4"), os.path.join(images, ".d"))
            os.rename(os.path.join(images, ".d"), os.path.join(images, "slow4"))
            wait(lambda: "scanning" in s.get("/v5/p/image/local-repositories?limit=200")[2].decode(), 30)
            shutil.rmtree(os.path.join(images, "slow4"))
            done = wait(lambda: "scan: %s/slow4: done" % images in s.log(), 60)
            log = s.log()
            ok("deleted mid-scan: recorded failed, then dropped", done and
               wait(lambda: stats(s, ids[4])[0] == 404, 10) and
               "imgstat_scans_failed_total 1" in s.get("/metrics")[2].decode(), log[-600:])
            ok("server fine after", stats(s, small_id)[::2] == (200, answer(ROOT, small)), "")
            ok("exit 0", s.stop() == 0, "")

        # 2. kill -9 during background scans (a catalog of its own: no layer in the memo),
        # then restart
        db = os.path.join(tmp, "catalog2.db")
        for i in range(3):
            shutil.copytree(os.path.join(proto, "slow%d" % i), os.path.join(images, "slow%d" % i))
        s = Server(IMGSTAT, ["--images", images, "-j", "2"], db=db)
        caught = wait(lambda: s.log().count("scan: ") >= 1 and "scanning" in
                      s.get("/v5/p/image/local-repositories?limit=10")[2].decode(), 30)
        ok("killed while scanning", s.kill9() == -9 and caught, "")
        with Server(IMGSTAT, ["--images", images, "-j", "2"], db=db) as s:
            first = s.get_json("/v5/p/image/local-repositories?limit=200")[2]
            ok("after kill -9 the catalog opens, answers at once",
               first and any(r["scan_status"] == "success" for r in first["data_list"]), first)
            rows = s.wait_status({"success"}, timeout=120)
            ok("after restart every image recorded once", sorted(r["image_name"] for r in rows) ==
               ["", "slow0", "slow1", "slow2"] or len(rows) == 4, [r["image_name"] for r in rows])
            for i in range(3):
                ok("slow%d answered after restart" % i, stats(s, ids[i])[::2] == (200, want_slow), "")
            ok("small answered after restart", stats(s, small_id)[::2] == (200, answer(ROOT, small)), "")
            log = s.log()
            ok("exit 0 after restart", s.stop() == 0, "")
        ok("interrupted scans run again, the finished one not",
           log.count("scan: %s/slow" % images) >= 1 and "scan: %s/docker25.tar" % images not in log,
           log[-800:])
        # 3. restart with nothing changed: no scan at all
        with Server(IMGSTAT, ["--images", images], db=db) as s:
            rows = s.get_json("/v5/p/image/local-repositories?limit=200")[2]["data_list"]
            ok("restart answers at once", len(rows) == 4 and all(r["scan_status"] == "success"
                                                                  for r in rows), rows)
            time.sleep(2.5)
            ok("restart rescans nothing", "scan: " not in s.log(), s.log())
        check_disk(tmp, images, small_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


main()
