#!/usr/bin/env python3
"""A minimal HSS client that signs its requests as the Huawei Cloud SDKs do
(SDK-HMAC-SHA256, sdk_signer.py), for trying `imgstat serve` from a shell.

usage: hss_client.py [--ak AK --sk SK | --token TOKEN] URL
  URL   http://HOST:PORT/v5/{project_id}/image/...?query  (sent as written)
Prints the status line's code on stderr and the body on stdout; exit 0 for 2xx.
"""
import argparse
import http.client
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdk_signer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ak")
    ap.add_argument("--sk")
    ap.add_argument("--token")
    ap.add_argument("--project-id", default="")
    ap.add_argument("url")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    host = u.netloc
    headers = {"Content-Type": "application/json", "Host": host}
    if a.project_id:
        headers["X-Project-Id"] = a.project_id
    if a.ak and a.sk:
        date = sdk_signer.sdk_date(time.time())
        headers["X-Sdk-Date"] = date
        pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        headers["Authorization"] = sdk_signer.sign(a.ak, a.sk, "GET", u.path, pairs, headers, date)
    elif a.token:
        headers["X-Auth-Token"] = a.token
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    c.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
    r = c.getresponse()
    body = r.read()
    sys.stderr.write("%d %s\n" % (r.status, r.getheader("X-Request-Id", "")))
    sys.stdout.write(body.decode("utf-8", "replace") + "\n")
    return 0 if 200 <= r.status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
