#!/usr/bin/env python3
"""Write seeds/serve/: requests for fuzz_serve in its text form (METHOD TARGET, then header
lines), signed with the fuzz target's key (AKFUZZ/skfuzz) at its fixed clock, or carrying
its token, so the fuzzer starts past authentication; plus malformed ones.

usage: make_serve_seeds.py   (asks fuzz_serve_replay for the image ID: FUZZ_SERVE_PRINT_ID=1)
"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "server"))
import sdk_signer  # noqa: E402

DATE = "20261202T160845Z"  # FUZZ_NOW
IMAGE_ID = sys.argv[1] if len(sys.argv) > 1 else None


def signed(path, pairs, host="h:1"):
    h = {"Content-Type": "application/json", "X-Sdk-Date": DATE, "host": host}
    h["Authorization"] = sdk_signer.sign("AKFUZZ", "skfuzz", "GET", path, pairs, h, DATE)
    q = "&".join("%s=%s" % (sdk_signer._enc(k), sdk_signer._enc(v)) for k, v in pairs)
    lines = ["GET " + path + ("?" + q if q else "")] + ["%s: %s" % kv for kv in h.items()]
    return ("\n".join(lines) + "\n").encode()


def token(target):
    return ("GET %s\nX-Auth-Token: tokfuzz\n" % target).encode()


def main():
    iid = IMAGE_ID
    out = os.path.join(here, "seeds", "serve")
    os.makedirs(out, exist_ok=True)
    stats = "/v5/p/image/%s/files-statistics" % iid
    files = "/v5/p/image/%s/files" % iid
    seeds = {
        "signed-stats": signed(stats, [("image_type", "cicd")]),
        "signed-stats-ref": signed(stats, [("image_type", "private_image"), ("namespace", "library"),
                                           ("image_name", "app"), ("tag_name", "1")]),
        "signed-files": signed(files, [("image_type", "cicd"), ("file_name", "lib"),
                                       ("limit", "2"), ("offset", "1")]),
        "signed-local": signed("/v5/p/image/local-repositories",
                               [("image_name", "app"), ("scan_status", "success"), ("limit", "10")]),
        "token-files-prefix": token(files.replace(iid, iid[7:19]) + "?image_type=cicd&limit=200"),
        "token-local": token("/v5/p/image/local-repositories?offset=0&limit=200&image_version=1"),
        "token-metrics": token("/metrics"),
        "healthz": b"GET /healthz\n",
        "post": b"POST /v5/p/image/local-repositories\nX-Auth-Token: tokfuzz\n",
        "body": token("/healthz") + b"X-Fuzz-Body: xx\n",
        "bad-escape": token(files + "?image_type=cicd&file_name=%zz"),
        "dotdot": token("/v5/p/image/%2e%2e/files?image_type=cicd"),
        "repeat": token(files + "?image_type=cicd&limit=1&limit=2"),
        "bad-auth": b"GET /v5/p/image/local-repositories\nAuthorization: SDK-HMAC-SHA256 Access=AKFUZZ, SignedHeaders=host;x-sdk-date, Signature=00\nX-Sdk-Date: " + DATE.encode() + b"\nhost: h:1\n",
        "other-project": token("/v5/q/image/local-repositories"),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds), out))


if __name__ == "__main__":
    if not IMAGE_ID:
        sys.exit("usage: make_serve_seeds.py IMAGE_ID  (FUZZ_SERVE_PRINT_ID=1 "
                 "REPLAY_NOFORK=1 build/tests/fuzz/fuzz_serve_replay /dev/null prints it)")
    main()
