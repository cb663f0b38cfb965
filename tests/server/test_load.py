"""Load: 10,000 requests over 100 keep-alive connections while 1,000 idle connections are held
open (half of them slowloris clients that sent part of a request line) -> every request is
answered 200 with the right body (testdata/cases.json), none dropped, and the server's memory
stays bounded (peak RSS from /proc).

usage: test_load.py IMGSTAT ROOT
"""
import http.client
import json
import os
import resource
import shutil
import socket
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
A = "fmt/docker25.tar"
CONNECTIONS, PER_CONNECTION, IDLE = 100, 100, 1000
# Peak RSS allowed to the server under this load: 1,100 connections of at most
# HTTP_CONNECTION_MEMORY each touched only as far as used; sanitizer builds get more.
RSS_LIMIT_MIB = 400 if os.environ.get("ASAN_OPTIONS") is not None else 128


def rss_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def worker(port, target, want, results):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    good = 0
    for _ in range(PER_CONNECTION):
        try:
            c.request("GET", target)
            r = c.getresponse()
            body = r.read()
            good += r.status == 200 and json.loads(body) == want and r.getheader("X-Request-Id") is not None
        except Exception as e:  # a dropped request is counted as such
            results.append(repr(e))
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.close()
    results.append(good)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="serve-load-")
    idle = []
    try:
        shutil.copy(os.path.join(ROOT, "testdata", A), tmp)
        image_id = imgref.images(os.path.join(ROOT, "testdata", A))[0]["id"]
        want = answer(ROOT, A)
        target = "/v5/p/image/%s/files-statistics?image_type=cicd" % image_id
        with Server(IMGSTAT, ["--images", tmp]) as s:
            s.wait_status({"success"})
            base = rss_kib(s.proc.pid, "VmRSS")
            for i in range(IDLE):
                c = socket.create_connection(("127.0.0.1", s.port), timeout=30)
                if i % 2:
                    c.sendall(b"GET /v5/p/image/")  # slowloris: a request line never finished
                idle.append(c)
            results = []
            threads = [threading.Thread(target=worker, args=(s.port, target, want, results))
                       for _ in range(CONNECTIONS)]
            t0 = time.time()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            secs = time.time() - t0
            good = sum(r for r in results if isinstance(r, int))
            errors = [r for r in results if not isinstance(r, int)]
            ok("10,000 requests answered correctly", good == CONNECTIONS * PER_CONNECTION,
               "%d good, errors %s" % (good, errors[:5]))
            ok("none dropped", not errors, errors[:5])
            st, _, j = s.get_json("/healthz")
            ok("healthy after the load", st == 200, st)
            # the idle connections are still open (the idle timeout is 60 s)
            alive = 0
            for c in idle:
                try:
                    c.setblocking(False)
                    alive += c.recv(1) != b""
                except BlockingIOError:
                    alive += 1
                except OSError:
                    pass
            ok("idle connections held open", alive == IDLE, alive)
            peak = rss_kib(s.proc.pid, "VmHWM")
            ok("peak RSS bounded (%d MiB)" % RSS_LIMIT_MIB, peak < RSS_LIMIT_MIB * 1024,
               "%d KiB (idle %d KiB)" % (peak, base))
            print("load: %d requests in %.2f s (%.0f/s), server RSS %d KiB idle, peak %d KiB"
                  % (CONNECTIONS * PER_CONNECTION, secs, CONNECTIONS * PER_CONNECTION / secs,
                     base, peak))
            for c in idle:
                c.close()
            idle = []
            ok("exit 0", s.stop() == 0, "")
    finally:
        for c in idle:
            c.close()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


main()
