"""Start the real `imgstat serve` on a free loopback port, talk HTTP to it, stop it by PID.

    with Server(imgstat, ["--images", DIR]) as s:
        status, headers, body = s.get("/healthz")

The server is started with --listen 127.0.0.1:0 and its port read from the "listening on"
line it prints on stderr; its stderr is kept in a file (s.log()).  Leaving the block (or an
exception, or the interpreter's exit) sends SIGTERM, then SIGKILL after 10 s: nothing stays
running.
"""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import sdk_signer

_alive = set()


@atexit.register
def _kill_all():
    for p in list(_alive):
        try:
            p.kill()
            p.wait(5)
        except Exception:
            pass


def _complete(got):
    """Does got hold a whole reply (headers and Content-Length bytes of body)?"""
    if b"\r\n\r\n" not in got:
        return False
    head, body = got.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(m) and len(body) >= int(m.group(1))


class Server:
    def __init__(self, imgstat, args, env=None, wait=True, listen="127.0.0.1:0", db=None):
        """db: the catalog file (default: one of its own, in a folder removed at stop)."""
        self.errf = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log", delete=False)
        self.errpath = self.errf.name
        self.own = None
        if db is None:
            self.own = tempfile.mkdtemp(prefix="serve-db-")
            db = os.path.join(self.own, "catalog.db")
        self.db = db
        e = dict(os.environ)
        e["IMGSTAT_CACHE_DIR"] = os.path.dirname(db)
        e.update(env or {})
        self.proc = subprocess.Popen([imgstat, "serve", "--listen", listen, "--db", db] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.errf, env=e)
        _alive.add(self.proc)
        self.port = None
        self.rc = None
        if wait:
            self.wait_listening()

    def wait_listening(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(r"listening on http://[0-9.]+:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                return self.port
            if self.proc.poll() is not None:
                raise RuntimeError("serve exited %d: %s" % (self.proc.returncode, self.log()))
            time.sleep(0.02)
        raise RuntimeError("serve did not start: " + self.log())

    def log(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def send(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.rc is not None:
            return self.rc
        try:
            os.kill(self.proc.pid, sig)
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
        except ProcessLookupError:
            self.rc = self.proc.wait()
        self._cleanup()
        return self.rc

    def _cleanup(self):
        _alive.discard(self.proc)
        if os.path.exists(self.errpath):
            os.unlink(self.errpath)
        if self.own:
            shutil.rmtree(self.own, ignore_errors=True)

    def kill9(self):
        self.proc.kill()
        self.rc = self.proc.wait()
        self._cleanup()
        return self.rc

    # ---- HTTP ----
    def request(self, method, target, headers=None, body=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, target, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get(self, target, headers=None):
        return self.request("GET", target, headers)

    def get_json(self, target, headers=None):
        st, h, b = self.get(target, headers)
        return st, h, json.loads(b) if b else None

    def signed_get(self, ak, sk, path, pairs, date=None, extra=None, signed=None,
                   sign_pairs=None, sign_path=None):
        """GET path?pairs signed as the SDK signs; sign_pairs/sign_path sign something else."""
        date = date or sdk_signer.sdk_date(time.time())
        h = {"Content-Type": "application/json", "X-Project-Id": "p",
             "X-Sdk-Date": date, "Host": "127.0.0.1:%d" % self.port}
        h.update(extra or {})
        h["Authorization"] = sdk_signer.sign(ak, sk, "GET", sign_path or path,
                                             sign_pairs if sign_pairs is not None else pairs,
                                             h, date, signed)
        q = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
        return self.get_json(path + ("?" + q if q else ""), h)

    def raw(self, data, timeout=10):
        """Send raw bytes on a new connection; the status code of the reply (or None), body."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            try:  # the server may answer and close before it has read everything
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            got = b""
            while not _complete(got):  # one reply: the connection may stay open after it
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not chunk:
                    break
                got += chunk
        finally:
            s.close()
        m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
        body = got.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in got else b""
        return (int(m.group(1)) if m else None), got, body

    def wait_status(self, want, timeout=30, query=""):
        """Wait until local-repositories has no entry outside the statuses in want."""
        end = time.time() + timeout
        rows = []
        while time.time() < end:
            st, _, j = self.get_json("/v5/p/image/local-repositories?limit=200" + query)
            rows = j["data_list"] if st == 200 else []
            if rows and all(r["scan_status"] in want for r in rows):
                return rows
            time.sleep(0.05)
        raise RuntimeError("statuses not reached: %s" % [(r["input"], r["scan_status"]) for r in rows
                                                         if r["scan_status"] not in want])
