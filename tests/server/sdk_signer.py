"""An SDK-HMAC-SHA256 signer written from ../shared/HSS-API.md alone, with hmac and hashlib
(the way the official Huawei Cloud SDKs sign), independent of imgstat's C verifier.

    sign(ak, sk, method, path, query_pairs, headers, date) -> Authorization header value

`path` is the request path exactly as sent (not decoded); `query_pairs` the decoded
(key, value) pairs sent; `headers` a dict of the headers to sign (names as sent).
"""
import hashlib
import hmac
import urllib.parse

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _enc(s):
    """Percent-encode every byte but A-Z a-z 0-9 - _ . ~ (upper-case hex)."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    return urllib.parse.quote_from_bytes(s, safe="-_.~")


def canonical_uri(raw_path):
    # each segment encoded again as received, without decoding it first
    segs = [_enc(seg.encode("latin-1")) for seg in raw_path.split("/")]
    uri = "/".join(segs)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs):
    items = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in pairs)
    return "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in items)


def string_to_sign(method, raw_path, pairs, headers, signed, date, body_hash=EMPTY_SHA256):
    lower = {k.lower(): v for k, v in headers.items()}
    canon_headers = "".join("%s:%s\n" % (h, lower[h].strip()) for h in signed)
    creq = "\n".join([method, canonical_uri(raw_path), canonical_query(pairs), canon_headers,
                      ";".join(signed), body_hash])
    return "SDK-HMAC-SHA256\n%s\n%s" % (date, hashlib.sha256(creq.encode("utf-8")).hexdigest())


def signature(sk, sts):
    return hmac.new(sk.encode("utf-8"), sts.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(ak, sk, method, raw_path, pairs, headers, date, signed=None):
    """The Authorization value for a request carrying headers (which must hold X-Sdk-Date
    = date and host); signed: the header names to sign (default: all given, sorted)."""
    signed = sorted(h.lower() for h in (signed or headers.keys()))
    sts = string_to_sign(method, raw_path, pairs, headers, signed, date)
    return "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
        ak, ";".join(signed), signature(sk, sts))


def sdk_date(t):
    import time
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


if __name__ == "__main__":
    # HSS-API.md's worked example
    h = {"Content-Type": "application/json", "X-Project-Id": "0123456789abcdef0123456789abcdef",
         "X-Sdk-Date": "20261202T160845Z", "host": "127.0.0.1:18932"}
    print(sign("AKDEMO0000000000EXAMPLE", "skdemo0000000000000000000000000000000EXAMPLE", "GET",
               "/v5/0123456789abcdef0123456789abcdef/image/img001/files-statistics",
               [("image_type", "private_image")], h, "20261202T160845Z"))
