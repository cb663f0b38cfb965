"""The images a saved-image input holds (image ID and refs), read with python's tarfile and
json alone, so the server tests can name images without asking imgstat.

    images(path) -> [{"id": "sha256:HEX", "refs": [...], "platform": "os/arch"}, ...]

docker-archive: manifest.json (the config's sha256; it wins over index.json, as Docker >= 25
saves both); OCI: index.json, nested indexes followed, attestation manifests skipped, the
manifest's config digest; refs from org.opencontainers.image.ref.name annotations.  Outer
gzip/xz/bz2 through tarfile, zstd through `zstd -dc`.
"""
import hashlib
import io
import json
import os
import subprocess
import tarfile

REF_ANN = "org.opencontainers.image.ref.name"


class _Dir:
    def __init__(self, root):
        self.root = root

    def has(self, name):
        return os.path.isfile(os.path.join(self.root, name))

    def read(self, name):
        with open(os.path.join(self.root, name), "rb") as f:
            return f.read()


class _Tar:
    def __init__(self, path):
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"\x28\xb5\x2f\xfd":
            data = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
            self.t = tarfile.open(fileobj=io.BytesIO(data))
        else:
            self.t = tarfile.open(path, "r:*")
        self.members = {}
        for m in self.t.getmembers():
            self.members[os.path.normpath(m.name).lstrip("./") if m.name not in (".", "./") else "."] = m

    def has(self, name):
        return name in self.members

    def read(self, name):
        m = self.members[name]
        while m.issym() or m.islnk():
            target = m.linkname if m.islnk() else os.path.normpath(
                os.path.join(os.path.dirname(m.name), m.linkname))
            m = self.members[target.lstrip("./")]
        return self.t.extractfile(m).read()


def _blob(src, digest):
    algo, hexd = digest.split(":", 1)
    return json.loads(src.read("blobs/%s/%s" % (algo, hexd)))


def _oci(src, index, refs_from, out):
    for d in index.get("manifests", []):
        mt = d.get("mediaType", "")
        refs = list(refs_from)
        ann = (d.get("annotations") or {})
        if REF_ANN in ann:
            refs = [ann[REF_ANN]]
        if ann.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        if "index" in mt or "manifest.list" in mt:
            _oci(src, _blob(src, d["digest"]), refs, out)
            continue
        try:
            m = _blob(src, d["digest"])
        except KeyError:
            continue
        cfg = m.get("config") or {}
        if "image.config" not in cfg.get("mediaType", "image.config") and \
                "container.image" not in cfg.get("mediaType", ""):
            continue
        plat = d.get("platform") or {}
        out.append({"id": cfg["digest"], "refs": refs,
                    "platform": "%s/%s" % (plat.get("os", ""), plat.get("architecture", "")),
                    "layer_bytes": sum(l.get("size", 0) for l in m.get("layers") or [])})


def images(path):
    """The distinct images of path; [] when python cannot read it (a broken fixture)."""
    try:
        return _images(path)
    except Exception:
        return []


def _images(path):
    src = _Dir(path) if os.path.isdir(path) else _Tar(path)
    out = []
    if src.has("manifest.json"):
        for e in json.loads(src.read("manifest.json")):
            e = {k.lower(): v for k, v in e.items()}
            cfg = src.read(e["config"])
            out.append({"id": "sha256:" + hashlib.sha256(cfg).hexdigest(),
                        "refs": e.get("repotags") or [], "platform": "",
                        "layer_bytes": sum(len(src.read(l)) for l in e.get("layers") or [])})
    elif src.has("index.json"):
        _oci(src, json.loads(src.read("index.json")), [], out)
    merged = {}
    for im in out:  # one entry per distinct image, with all its refs
        merged.setdefault(im["id"], {"id": im["id"], "refs": [], "platform": im["platform"],
                                     "layer_bytes": im["layer_bytes"]})
        merged[im["id"]]["refs"] += [r for r in im["refs"] if r not in merged[im["id"]]["refs"]]
    return list(merged.values())


if __name__ == "__main__":
    import sys
    for p in sys.argv[1:]:
        print(p, images(p))
