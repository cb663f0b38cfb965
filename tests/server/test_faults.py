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
NLAYERS, LAYER_MB = 16, 32


def blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def slow_layout(path, tag):
    os.makedirs(os.path.join(path, "blobs", "sha256"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("zeros")
        ti.size = LAYER_MB << 20
        t.addfile(ti, io.BytesIO(bytes(ti.size)))
    raw = buf.getvalue()
    layers = []
    for i in range(NLAYERS):  # distinct blobs: each layer opened on its own
        gz = gzip.compress(raw, compresslevel=1, mtime=i)
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


def main():
    tmp = tempfile.mkdtemp(prefix="serve-faults-")
    try:
        proto = os.path.join(tmp, "proto")
        os.mkdir(proto)
        ids = [slow_layout(os.path.join(proto, "slow%d" % i), "slow%d" % i) for i in range(3)]
        want_slow = {"total_files_num": 1, "total_files_size": LAYER_MB << 20}
        images = os.path.join(tmp, "images")
        os.mkdir(images)
        small = "fmt/docker25.tar"
        shutil.copy(os.path.join(ROOT, "testdata", small), images)
        small_id = imgref.images(os.path.join(ROOT, "testdata", small))[0]["id"]

        # 1. a scan in progress: 409; an image deleted mid-scan: failed, server fine
        with Server(IMGSTAT, ["--images", images, "-j", "1"]) as s:
            s.wait_status({"success"})
            shutil.copytree(os.path.join(proto, "slow0"), os.path.join(images, ".s"))
            os.rename(os.path.join(images, ".s"), os.path.join(images, "slow0"))
            got = wait(lambda: (lambda r: r if r[0] == 409 else None)(stats(s, ids[0])), 30)
            ok("scanning answers 409", got and got[2]["error_code"] == "HSS.0409" and
               "scanning" in got[2]["error_msg"], got)
            shutil.rmtree(os.path.join(images, "slow0"))
            done = wait(lambda: "scan: %s/slow0: done" % images in s.log(), 60)
            log = s.log()
            ok("deleted mid-scan: recorded failed", done and
               wait(lambda: stats(s, ids[0])[0] == 404, 10) and
               "imgstat_scans_failed_total 1" in s.get("/metrics")[2].decode(), log[-600:])
            ok("server fine after", stats(s, small_id)[::2] == (200, answer(ROOT, small)), "")
            ok("exit 0", s.stop() == 0, "")

        # 2. kill -9 during background scans, then restart
        for i in range(3):
            shutil.copytree(os.path.join(proto, "slow%d" % i), os.path.join(images, "slow%d" % i))
        s = Server(IMGSTAT, ["--images", images, "-j", "2"])
        wait(lambda: s.log().count("scan: ") >= 1 and "scanning" in
             s.get("/v5/p/image/local-repositories?limit=10")[2].decode(), 30)
        ok("killed while scanning", s.kill9() == -9, "")
        with Server(IMGSTAT, ["--images", images, "-j", "2"]) as s:
            rows = s.wait_status({"success"}, timeout=120)
            ok("after restart every image recorded once", sorted(r["image_name"] for r in rows) ==
               ["", "slow0", "slow1", "slow2"] or len(rows) == 4, [r["image_name"] for r in rows])
            for i in range(3):
                ok("slow%d answered after restart" % i, stats(s, ids[i])[::2] == (200, want_slow), "")
            ok("small answered after restart", stats(s, small_id)[::2] == (200, answer(ROOT, small)), "")
            ok("exit 0 after restart", s.stop() == 0, "")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


main()
