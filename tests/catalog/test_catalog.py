#!/usr/bin/env python3
"""The catalog suite (issues 10 and 11): the layer memo and the catalog of images.

usage: test_catalog.py IMGSTAT CATQ SOURCE_ROOT [-k SUBSTRING]

The layer memo must never change an answer: every testdata image and the shared corpus are
scanned cold then warm from one cache folder, -j 1 and -j 4, from a file and from a pipe,
against their independent answers (tests/run_cases.py, ../shared/tools/conformance).  Then
what the memo stores and uses is checked in the file itself with python's sqlite3: a blob
whose name lies is scanned, reported and never stored, and never answered for by the memo;
--verify reads every blob; rows of another record format are ignored; the least recently
used layers go first beyond --cache-max; and every fault (an unwritable, absent or full
folder, a damaged, truncated, locked, newer or foreign file, kill -9 during writes, a schema
upgrade) leaves the answer and the exit status alone, with one warning line.

Streams and keyed checksums (rules M1-M7, docs/rules.md): every testdata case and the corpus
through a real pipe only, cold then warm; --detail's "cached" through a pipe; a blob whose
bytes do not match its name (or with one byte changed) fed through a pipe after its good twin
was remembered gives the documented error, and reads as cold with --no-cache; limits fail
warm as cold; each file's secret, and every stored checksum against XXH3-128 computed by
libxxhash alone (xxhkey, built beside catq); the schema 2 -> 3 migration.

The catalog (catq, the public API from the command line): `imgstat add` of the corpus, each
image found by image ID, prefix or ref, its totals against the corpus answers and its file
pages against the corpus file lists (computed outside imgstat), '%' and '_' as literal text,
listing filters, and kill -9 during `imgstat add`.

Images of its own are built here with tests/fixtures/gen_fixtures.py's builders; their
answers are written by hand next to them.  Prints one line per failure, then "N passed,
N failed".
"""
import hashlib
import importlib.util
import json
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import run_cases  # noqa: E402  (its check() judges a case's run)
from testlib import finish, ok  # noqa: E402
from testlib import run as pipe_run  # noqa: E402  (feeds stdin through a real pipe)

EXE, CATQ, ROOT = (os.path.abspath(a) for a in sys.argv[1:4])
ONLY = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))
CONFORMANCE = os.path.normpath(os.path.join(ROOT, "..", "shared", "tools", "conformance"))
REC_FORMAT_VERSION = 1  # layers/record.h
SCHEMA_VERSION = 3  # catalog/db.h CAT_SCHEMA_VERSION
SECRET_BYTES = 192  # catalog/db.h CAT_SECRET_BYTES
# under AddressSanitizer everything is slower: kills are spread over a longer time
ASAN = "libasan" in subprocess.run(["ldd", EXE], capture_output=True, text=True).stdout

_spec = importlib.util.spec_from_file_location(
    "gen_fixtures", os.path.join(ROOT, "tests", "fixtures", "gen_fixtures.py"))
g = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(g)

TMP = tempfile.mkdtemp(prefix="imgstat-catalog-")


# ---- running things -------------------------------------------------------------------------

def env_for(cache, no_cache=False):
    env = dict(os.environ)
    env.pop("IMGSTAT_NO_CACHE", None)
    env.pop("IMGSTAT_CACHE_DIR", None)
    if cache:
        env["IMGSTAT_CACHE_DIR"] = cache
    if no_cache:
        env["IMGSTAT_NO_CACHE"] = "1"
    return env


def run(cmd, env=None, stdin=None, timeout=300, preexec=None):
    """(exit status, stdout, stderr) as text; status None on a timeout."""
    try:
        p = subprocess.run(cmd, env=env, stdin=stdin or subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, preexec_fn=preexec)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8",
                                                                                   "replace")
    except subprocess.TimeoutExpired:
        return None, "", "timed out"


def imgstat(args, cache, no_cache=False, **kw):
    return run([EXE] + args, env=env_for(cache, no_cache), **kw)


def catq(db, *args):
    return run([CATQ, db] + list(args))


def jl(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sql(db, query, *params):
    c = sqlite3.connect(db, timeout=30)
    try:
        return c.execute(query, params).fetchall()
    finally:
        c.close()


def memo_db(cache):
    return os.path.join(cache, "imgstat.db")


def fresh(name):
    d = os.path.join(TMP, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def file_hash(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def section(name):
    return ONLY is None or ONLY in name


def cached_flags(out):
    return [l.get("cached") for l in json.loads(out)["layers"]]


# ---- images of our own ----------------------------------------------------------------------

def zstd_raw(data):
    """A zstd frame of raw blocks only: its size depends on the data's length alone, so two
    tars of one length make blobs of one size (and only a digest tells them apart)."""
    out = bytearray(b"\x28\xb5\x2f\xfd\xE0") + struct.pack("<Q", len(data))
    blocks = [data[i:i + 65536] for i in range(0, len(data), 65536)] or [b""]
    for i, b in enumerate(blocks):
        out += struct.pack("<I", (1 if i == len(blocks) - 1 else 0) | (len(b) << 3))[:3] + b
    return bytes(out)


def layer_zraw(*entries):
    tar = g.build_tar(list(entries))
    return g.Layer(list(entries), comp="zstd", blob=zstd_raw(tar), stream=tar)


def oci_layout(layers, ref, blobs):
    lay = g.OCILayout()
    m = lay.image(g.Image(layers, name=ref))
    lay.index["manifests"] = [g.desc_with(m, annotations={g.REF_NAME: ref})]
    lay.blobs.update(blobs or {})
    return lay


def oci_dir(path, layers, ref="img", blobs=None):
    """An OCI layout of one image; blobs: {digest: bytes} written instead of the layers' own."""
    shutil.rmtree(path, ignore_errors=True)
    oci_layout(layers, ref, blobs).write_dir(path)
    return path


def oci_tar(path, layers, ref="img", blobs=None):
    """The same as an oci-archive tarball (blobs first, as skopeo writes them)."""
    files = oci_layout(layers, ref, blobs).files()
    g.write_outer_tar(path, [g.tar_member(k, v) for k, v in sorted(files.items())])
    return path


def files_layer(prefix, n, comp="gzip", size=37):
    """A layer of n regular files under prefix/ (n files, n * size bytes)."""
    return g.L(*[g.F("%s/f%05d" % (prefix, i), size) for i in range(n)], comp=comp)


def stats(out):
    d = json.loads(out)
    return d["total_files_num"], d["total_files_size"]


# ---- 1. answers cold and warm -----------------------------------------------------------------

def test_cold_warm():
    cache = fresh("coldwarm")
    env = env_for(cache)
    runner = os.path.join(ROOT, "tests", "run_cases.py")
    sets = [(os.path.join(ROOT, "testdata", "cases.json"), [])]
    if os.path.exists(os.path.join(CORPUS, "cases.json")):
        sets.append((os.path.join(CORPUS, "cases.json"), ["--files", "--detail"]))
    for cases, extra in sets:
        for label, jobs in (("cold", "1"), ("warm", "4"), ("warm", "1")):
            code, out, err = run([sys.executable, runner, EXE, cases, "--stdin"] + extra
                                 + ["--", "-j", jobs], env=env, timeout=900)
            last = (out.strip().splitlines() or ["?"])[-1]
            ok("run_cases %s -j %s %s" % (label, jobs, os.path.relpath(cases, ROOT)),
               code == 0, last + " " + out[-600:] + err[-300:])
    hits = sql(memo_db(cache), "SELECT hits FROM memo_stats")[0][0]
    ok("cold-warm: the warm runs hit the memo", hits > 0, "hits %d" % hits)
    if os.path.exists(CONFORMANCE):
        cache2 = fresh("conformance")
        for label in ("cold", "warm"):
            code, out, err = run([sys.executable, CONFORMANCE, EXE, "--stdin"],
                                 env=env_for(cache2), timeout=900)
            ok("conformance %s" % label, code == 0 and out.strip().endswith(" 0 failed"),
               out[-400:] + err[-200:])
        ok("conformance: warm hits", sql(memo_db(cache2), "SELECT hits FROM memo_stats")[0][0] > 0)
    # --detail says where each layer came from: std-gzip has 3 gzip layers (gen_fixtures)
    img = os.path.join(ROOT, "testdata", "oci", "std-gzip")
    cache3 = fresh("cachedflag")
    for want in (False, True):
        code, out, err = imgstat(["--detail", img], cache3)
        ok("cached flags %s" % want, code == 0 and cached_flags(out) == [want] * 3, out[-300:])
        ok("cached flags %s: stderr empty" % want, err == "", err)


# ---- 2. a blob whose name lies ----------------------------------------------------------------

def test_lying_blob():
    """GOOD's layer holds /etc/a and /etc/b of 5 bytes each (2 files, 10 bytes); LIAR's blob,
    stored under GOOD's digest and of the same size, has /etc/b of 6 bytes (2 files, 11
    bytes): the tars have one length (both files fit one 512-byte block), so do the raw-block
    zstd frames."""
    good_l = layer_zraw(g.F("etc/a", 5), g.F("etc/b", 5))
    liar_l = layer_zraw(g.F("etc/a", 5), g.F("etc/b", 6))
    assert len(good_l.blob) == len(liar_l.blob) and good_l.blob != liar_l.blob
    good = oci_dir(os.path.join(TMP, "good"), [good_l], "good")
    liar = oci_dir(os.path.join(TMP, "liar"), [good_l], "liar", {good_l.digest: liar_l.blob})
    good2 = os.path.join(TMP, "good-copy")
    shutil.rmtree(good2, ignore_errors=True)
    shutil.copytree(good, good2)
    cache = fresh("lying")
    db = memo_db(cache)
    rows = lambda: sql(db, "SELECT digest FROM memo_layers")  # noqa: E731

    code, out, err = imgstat(["--detail", liar], cache)
    ok("liar cold: the bytes' answer", code == 0 and stats(out) == (2, 11), out + err)
    ok("liar cold: reported", err.count("\n") == 1 and "not stored" in err
       and liar_l.digest in err, err)
    ok("liar cold: never stored", rows() == [], rows())
    steps = [(good, (2, 10), [False], "good stored"),
             (liar, (2, 11), [False], "liar after good (digest computed)"),
             (good2, (2, 10), [True], "good elsewhere (digest computed)"),
             (liar, (2, 11), [False], "liar after good's checksum"),
             (good, (2, 10), [True], "good again (checksum)"),
             (good, (2, 10), [True], "good again (same place)")]
    for path, want, flags, what in steps:
        code, out, err = imgstat(["--detail", path], cache)
        ok("lying: %s" % what, code == 0 and stats(out) == want and cached_flags(out) == flags,
           "%s %s %s" % (code, out[:200], err))
    ok("lying: one row, the good one", rows() == [(good_l.digest,)], rows())
    ok("lying: its checksum is known", sql(db, "SELECT length(xxh128) FROM memo_layers") ==
       [(16,)])
    # --verify reads every blob, hit or not
    code, out, err = imgstat(["--verify", "--detail", good], cache)
    ok("verify on a hit: read, not replayed", code == 0 and cached_flags(out) == [False], out)
    hits = sql(db, "SELECT hits FROM memo_stats")
    imgstat(["--verify", good], cache)
    ok("verify: the memo is not consulted", sql(db, "SELECT hits FROM memo_stats") == hits)
    code, out, err = imgstat(["--verify", liar], cache)
    ok("verify on the liar: digest mismatch", code == 1 and "digest mismatch" in err and
       out == "", err)


# ---- 3. record format, LRU ------------------------------------------------------------------

def test_version_bump():
    img = os.path.join(ROOT, "testdata", "oci", "std-gzip")
    cache = fresh("version")
    db = memo_db(cache)
    code, cold, _ = imgstat([img], cache)
    n = sql(db, "SELECT count(*) FROM memo_layers")[0][0]
    ok("version: stored", n == 3, n)
    for other in (REC_FORMAT_VERSION + 1, REC_FORMAT_VERSION - 1):
        sql_exec(db, "UPDATE memo_layers SET rec_version = ?", other)
        code, out, err = imgstat(["--detail", img], cache)
        ok("version %d: ignored" % other, code == 0 and cached_flags(out) == [False] * 3
           and stats(out) == stats(cold), out[:300] + err)
        got = sorted(sql(db, "SELECT rec_version, count(*) FROM memo_layers GROUP BY 1"))
        ok("version %d: stored again beside" % other,
           got == sorted([(other, 3), (REC_FORMAT_VERSION, 3)]), got)
        sql_exec(db, "DELETE FROM memo_layers WHERE rec_version = ?", REC_FORMAT_VERSION)


def sql_exec(db, query, *params):
    c = sqlite3.connect(db, timeout=30)
    try:
        c.execute(query, params)
        c.commit()
    finally:
        c.close()


def test_lru():
    """Four images of one distinct gzip layer each.  X, Y, Z are stored, then X is used
    again; W is stored with --cache-max set to exactly X's and W's records: the least
    recently used, Y then Z, must go, and nothing else."""
    cache = fresh("lru")
    db = memo_db(cache)
    imgs = {}
    for name, n in (("x", 40), ("y", 50), ("z", 60), ("w", 70)):
        imgs[name] = oci_dir(os.path.join(TMP, "lru-" + name), [files_layer(name, n)], name)
    size = {}
    for name in ("x", "y", "z", "x"):
        code, out, err = imgstat([imgs[name]], cache)
        ok("lru: scan %s" % name, code == 0 and err == "", err)
        time.sleep(0.05)  # distinct use times (ms)
    for digest, length in sql(db, "SELECT digest, length(records) FROM memo_layers"):
        size[digest] = length
    ok("lru: three stored", len(size) == 3, size)
    dig = {k: json.load(open(os.path.join(v, "index.json")))["manifests"][0]["digest"]
           for k, v in imgs.items()}
    layer = {}
    for k, v in imgs.items():
        m = json.load(open(os.path.join(v, "blobs", "sha256", dig[k].split(":")[1])))
        layer[k] = m["layers"][0]["digest"]
    code, out, err = imgstat([imgs["w"]], cache, timeout=60)
    sw = dict(sql(db, "SELECT digest, length(records) FROM memo_layers")).get(layer["w"])
    # W stored with a generous bound first, to learn its size; then redo with the exact one
    sql_exec(db, "DELETE FROM memo_layers WHERE digest = ?", layer["w"])
    bound = size[layer["x"]] + sw
    code, out, err = imgstat(["--cache-max", str(bound), imgs["w"]], cache)
    left = sorted(d for (d,) in sql(db, "SELECT digest FROM memo_layers"))
    ok("lru: Y and Z evicted, X and W kept", left == sorted([layer["x"], layer["w"]]),
       "%s want x,w" % left)
    total, stored = sql(db, "SELECT bytes, (SELECT sum(length(records)) FROM memo_layers)"
                            " FROM memo_stats")[0]
    ok("lru: within the bound, counted right", total == stored and total <= bound,
       (total, stored, bound))
    code, out, err = imgstat(["--cache-max", "0", imgs["w"]], cache)
    ok("lru: --cache-max 0 is a usage error", code == 2, err)


# ---- 4. faults ------------------------------------------------------------------------------

def one_warning(err):
    lines = err.splitlines()
    return len(lines) == 1 and lines[0].startswith("imgstat: warning: layer memo")


def expect_same(label, args, cache, want_out, want_warning=True, timeout=120, preexec=None):
    t0 = time.time()
    code, out, err = imgstat(args, cache, timeout=timeout, preexec=preexec)
    ok("%s: exit 0" % label, code == 0, "%s %s" % (code, err))
    ok("%s: same answer" % label, out == want_out, out + " vs " + want_out)
    if want_warning:
        ok("%s: one warning line" % label, one_warning(err), repr(err))
    else:
        ok("%s: no warning" % label, err == "", repr(err))
    return time.time() - t0, err


def can_mount():
    if os.geteuid() != 0:
        return False
    d = fresh("mount-probe")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                      capture_output=True).returncode != 0:
        return False
    subprocess.run(["umount", d])
    return True


def test_faults():
    img = os.path.join(ROOT, "testdata", "oci", "std-gzip")
    code, want, _ = imgstat([img], None, no_cache=True)
    ok("faults: reference", code == 0, want)
    # an absent folder is created (private)
    cache = os.path.join(fresh("absent"), "a", "b", "c")
    expect_same("absent folder", [img], cache, want, want_warning=False)
    ok("absent folder: created 0700", oct(os.stat(cache).st_mode & 0o777) == "0o700")
    # a folder that cannot be created: its parent is a file
    blocker = os.path.join(fresh("blocked"), "file")
    open(blocker, "w").close()
    expect_same("folder under a file", [img], os.path.join(blocker, "cache"), want)
    # an unwritable folder: a read-only mount as root, a 0500 folder otherwise
    mounted = can_mount()
    ro = fresh("readonly")
    if mounted:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro], check=True)
    else:
        os.chmod(ro, 0o500)
    try:
        expect_same("unwritable folder", [img], ro, want)
    finally:
        if mounted:
            subprocess.run(["umount", ro])
        os.chmod(ro, 0o700)
    no_home = dict(env_for(None))
    for k in ("HOME", "XDG_CACHE_HOME"):
        no_home.pop(k, None)
    code, out, err = run([EXE, img], env=no_home)
    ok("no folder to name: same answer, one warning", code == 0 and out == want
       and one_warning(err), err)
    test_full_disk(img, want, mounted)
    test_damaged(img, want)
    test_locked(img, want)
    test_schemas(img, want)
    test_kill_writes()
    test_migration(img)


def test_full_disk(img, want, mounted):
    """The memo's file exists, then the disk fills: the store fails with SQLITE_FULL."""
    big = oci_dir(os.path.join(TMP, "full-img"), [files_layer("many", 3000)], "full")
    code, want_big, _ = imgstat([big], None, no_cache=True)
    d = fresh("full")
    if mounted:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", d], check=True)
        try:
            imgstat([img], d)  # the file exists, in WAL mode
            fd = os.open(os.path.join(d, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError:
                pass
            os.close(fd)
            expect_same("full disk (tmpfs)", [big], d, want_big)
        finally:
            subprocess.run(["umount", d])
    # the same through RLIMIT_FSIZE (as `ulimit -f`): writes past it fail with EFBIG
    d = fresh("fsize")
    imgstat([img], d)
    limit = 8192  # the WAL cannot grow past one page: the first store fails

    def small_files():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited: a write fails, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    expect_same("file size limit", [big], d, want_big, preexec=small_files)


def test_damaged(img, want):
    """Garbage, a truncated file and overwritten pages."""
    many = oci_dir(os.path.join(TMP, "damaged-img"),
                   [files_layer("a", 800), files_layer("b", 900), files_layer("c", 1000)], "dm")
    code, want_many, _ = imgstat([many], None, no_cache=True)
    d = fresh("garbage")
    with open(memo_db(d), "wb") as f:
        f.write(os.urandom(50000))
    expect_same("garbage file", [img], d, want)
    code, out, err = run([EXE, "cache", "clear"], env=env_for(d))
    ok("cache clear replaces a damaged file", code == 0 and "replaced" in err, err)
    expect_same("after cache clear", [img], d, want, want_warning=False)
    ok("after cache clear: stored", sql(memo_db(d), "SELECT count(*) FROM memo_layers") == [(3,)])
    for label, damage in (("truncated", "truncate"), ("overwritten pages", "pages")):
        d = fresh(label.replace(" ", "-"))
        imgstat([many], d)
        sql_exec(memo_db(d), "PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(memo_db(d))
        with open(memo_db(d), "r+b") as f:
            if damage == "truncate":
                f.truncate(size // 3)
            else:
                f.seek(size // 3)
                f.write(os.urandom(size // 3))
        code, out, err = imgstat([many], d)
        ok("%s: exit 0, same answer" % label, code == 0 and out == want_many, err)
        ok("%s: at most one warning line" % label,
           err == "" or one_warning(err), repr(err))
        code, out, err = imgstat([many], d)
        ok("%s again: same answer" % label, code == 0 and out == want_many, err)


def test_locked(img, want):
    d = fresh("locked")
    imgstat([img], d)  # exists, WAL
    other = oci_dir(os.path.join(TMP, "locked-img"), [files_layer("l", 30)], "locked")
    code, want_other, _ = imgstat([other], None, no_cache=True)
    holder = sqlite3.connect(memo_db(d), timeout=1, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        took, err = expect_same("locked (BEGIN EXCLUSIVE)", [other], d, want_other, timeout=60)
        ok("locked: the wait is bounded", took < 20, took)
        ok("locked: the message says so", "locked" in err, err)
        # readers still read (WAL): the stored image is answered from the memo
        code, out, err = imgstat(["--detail", img], d)
        ok("locked: a hit still reads", code == 0 and cached_flags(out) == [True] * 3, err)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_schemas(img, want):
    d = fresh("newer")
    imgstat([img], d)
    sql_exec(memo_db(d), "PRAGMA user_version = 99")
    before = file_hash(memo_db(d))
    _, err = expect_same("newer schema", [img], d, want)
    ok("newer schema: says so", "newer imgstat" in err, err)
    ok("newer schema: file untouched", file_hash(memo_db(d)) == before)
    d = fresh("foreign")
    sql_exec(memo_db(d), "CREATE TABLE notes (x TEXT)")
    before = file_hash(memo_db(d))
    _, err = expect_same("another program's database", [img], d, want)
    ok("foreign: says so", "not an imgstat catalog" in err, err)
    ok("foreign: file untouched", file_hash(memo_db(d)) == before)
    code, out, err = run([EXE, "cache", "clear"], env=env_for(d))
    ok("foreign: cache clear refuses", code == 1 and "not an imgstat catalog" in err, err)


def test_kill_writes():
    """kill -9 at random moments of scans that store 24 layers: the next run opens the file,
    it passes SQLite's integrity check, and the answer is right (24 layers of 150 files of
    37 bytes under distinct folders: 3600 files, 133200 bytes)."""
    layers = [files_layer("k%02d" % i, 150) for i in range(24)]
    img = oci_dir(os.path.join(TMP, "kill-img"), layers, "kill")
    rnd = random.Random(7)
    for i in range(8):
        d = fresh("kill%d" % i)
        for _ in range(3):
            p = subprocess.Popen([EXE, "-j", "2", img], env=env_for(d),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.005, 0.25 if not ASAN else 1.0))
            p.kill()
            p.wait()
        integrity = sql(memo_db(d), "PRAGMA integrity_check") if os.path.exists(memo_db(d)) \
            else [("ok",)]
        ok("kill -9 #%d: integrity" % i, integrity == [("ok",)], integrity)
        code, out, err = imgstat([img], d)
        ok("kill -9 #%d: the next run answers" % i, code == 0 and stats(out) == (3600, 133200)
           and err == "", out + err)


def test_migration(img):
    """A schema-1 file (the memo alone, as issue 10's imgstat wrote it) is upgraded in place,
    its layers kept; the result has the schema a new file gets."""
    d = fresh("migrate")
    imgstat([img], d)
    db = memo_db(d)
    c = sqlite3.connect(db)
    for t in ("image_files", "image_refs", "images", "inputs", "memo_secret"):
        c.execute("DROP TABLE %s" % t)
    c.execute("PRAGMA user_version = 1")
    c.commit()
    c.close()
    code, out, err = imgstat(["--detail", img], d)
    ok("migration 1->3: the layers survive", code == 0 and cached_flags(out) == [True] * 3,
       out[:200] + err)
    ok("migration 1->3: version", sql(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)])
    fresh_dir = fresh("migrate-new")
    imgstat([img], fresh_dir)
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    ok("migration 1->3: the schema of a new file",
       sql(db, schema) == sql(memo_db(fresh_dir), schema))


# ---- 6. streams and keyed checksums (M3, M5, M6) ----------------------------------------

XXHKEY = os.path.join(os.path.dirname(CATQ), "xxhkey")
STD_DIR = os.path.join(ROOT, "testdata", "oci", "std-gzip")
STD_TAR = os.path.join(ROOT, "testdata", "oci", "std-gzip.oci.tar")  # the same image, tarred


def xxhkey(secret, path):
    """XXH3-128 of the file at path keyed with secret (None: unkeyed), computed by libxxhash
    alone (tests/catalog/xxhkey.c), as canonical bytes."""
    code, out, err = run([XXHKEY, secret.hex() if secret else "-", path])
    assert code == 0, err
    return bytes.fromhex(out.strip())


def pipe(args, path, cache, no_cache=False):
    """cat PATH | imgstat ARGS -"""
    return pipe_run([EXE] + args + ["-"], path, env=env_for(cache, no_cache), timeout=300)


def secret_of(cache):
    return sql(memo_db(cache), "SELECT secret FROM memo_secret")[0][0]


def blob_path(layout, digest):
    return os.path.join(layout, "blobs", *digest.split(":"))


def without_cached(out):
    d = json.loads(out)
    for layer in d["layers"]:
        layer.pop("cached")
    return d


def test_stream_pipes():
    """M5: every testdata case and the shared corpus through a real pipe only, cold then warm
    from one fresh cache folder: each run as its case expects (independent answers), the warm
    answer equal to the cold one, and the warm pass taking layers from the memo."""
    sets = [os.path.join(ROOT, "testdata", "cases.json")]
    if os.path.exists(os.path.join(CORPUS, "cases.json")):
        sets.append(os.path.join(CORPUS, "cases.json"))
    cache = fresh("pipes")
    cold = {}
    for label in ("cold", "warm"):
        bad, n = [], 0
        for cases_file in sets:
            base = os.path.dirname(cases_file)
            for case in json.load(open(cases_file))["cases"]:
                path = os.path.join(base, case["input"])
                if not os.path.isfile(path) or not case.get("stdin", True):
                    continue
                got = pipe(case.get("args", []), path, cache)
                why = run_cases.check(case, *got)
                key = (cases_file, case["name"])
                if why is None and label == "warm" and got[:2] != cold[key]:
                    why = "warm %r differs from cold %r" % (got[:2], cold[key])
                cold.setdefault(key, got[:2])
                n += 1
                if why:
                    bad.append("%s: %s" % (case["name"], " ".join(why.split())[:200]))
        ok("pipes only, %s: %d cases as expected" % (label, n), not bad, bad[:5])
        if label == "cold":
            hits0 = sql(memo_db(cache), "SELECT hits FROM memo_stats")[0][0]
    hits = sql(memo_db(cache), "SELECT hits FROM memo_stats")[0][0]
    ok("pipes only: the warm pass hits", hits > hits0 + 100, (hits0, hits))


def test_stream_detail():
    """M5: --detail through a pipe says which layers came from the memo, and nothing else
    changes; rows stored from a pipe have no place but a checksum, which a file scan trusts;
    rows stored from a file are used by a pipe."""
    cache = fresh("stream-detail")
    db = memo_db(cache)
    ref = pipe(["--detail"], STD_TAR, None, no_cache=True)
    ok("stream detail: reference", ref[0] == 0 and cached_flags(ref[1]) == [False] * 3, ref)
    cold = pipe(["--detail"], STD_TAR, cache)
    ok("stream detail cold: as --no-cache", cold == ref, cold[1][:300] + cold[2])
    rows = sql(db, "SELECT seen_ino, length(xxh128) FROM memo_layers")
    ok("M5 stream store: 3 rows, no place, a checksum", rows == [(0, 16)] * 3, rows)
    warm = pipe(["--detail"], STD_TAR, cache)
    ok("M5 stream hit: cached true", warm[0] == 0 and cached_flags(warm[1]) == [True] * 3
       and warm[2] == "", warm[1][:300] + warm[2])
    ok("M5 stream hit: the same detail", warm[0] == 0 and without_cached(warm[1]) ==
       without_cached(ref[1]), warm[1][:400])
    ok("M5 stream: 3 hits, 3 misses", sql(db, "SELECT hits, misses FROM memo_stats") == [(3, 3)],
       sql(db, "SELECT hits, misses FROM memo_stats"))
    code, out, err = imgstat(["--detail", STD_DIR], cache)
    ok("M4 a file trusts a stream's row by its checksum", code == 0 and
       cached_flags(out) == [True] * 3 and err == "", out[:300] + err)
    ok("M4 ... and remembers the file's place",
       all(ino for (ino,) in sql(db, "SELECT seen_ino FROM memo_layers")))
    cache2 = fresh("stream-detail-file")
    imgstat([STD_DIR], cache2)
    got = pipe(["--detail"], STD_TAR, cache2)
    ok("M3 rows stored from a file have their checksum: a pipe uses them",
       got[0] == 0 and cached_flags(got[1]) == [True] * 3, got[1][:300] + got[2])


def test_codecs_warm():
    """M1: layers of every codec are stored and used, from a file and from a pipe (rows of xz
    and bzip2 layers were once read back as malformed, turning the memo off)."""
    for name in ("D6-xz-layer.oci.tar", "D6-bzip2-layer.oci.tar", "D6-bzip2-two-streams.oci.tar"):
        path = os.path.join(ROOT, "testdata", "codec", name)
        for how in ("file", "pipe"):
            cache = fresh("codec")
            runs = []
            for _ in range(2):
                runs.append(pipe(["--detail"], path, cache) if how == "pipe" else
                            imgstat(["--detail", path], cache))
            (c1, o1, e1), (c2, o2, e2) = runs
            ok("M1 %s (%s): cold, then warm from the memo" % (name, how),
               c1 == c2 == 0 and e1 == e2 == "" and cached_flags(o2) == [True] * len(
                   cached_flags(o1)) and without_cached(o1) == without_cached(o2),
               "%s %s" % (o2[:300], e1 + e2))


def test_stream_forged():
    """M5: a blob whose bytes do not match its name, met in a pipe after its good twin was
    remembered.  GOOD's layer holds /etc/a and /etc/b of 5 bytes each (2 files, 10 bytes);
    LIAR's blob under GOOD's digest has /etc/b of 6 bytes (2 files, 11 bytes) and the same
    size (raw zstd blocks, as in test_lying_blob); FLIP is GOOD's blob with the first data
    byte of /etc/a changed (the same 2 files, 10 bytes: 13 bytes of zstd frame header, 3 of
    block header, 512 of tar header before it); LIARGZ has LIAR's entries gzip-compressed
    under GOOD's digest, a size the memo does not know."""
    good_l = layer_zraw(g.F("etc/a", 5), g.F("etc/b", 5))
    liar_l = layer_zraw(g.F("etc/a", 5), g.F("etc/b", 6))
    liar_gz = g.L(g.F("etc/a", 5), g.F("etc/b", 6), comp="gzip")
    flip = bytearray(good_l.blob)
    flip[13 + 3 + 512] ^= 0x20
    assert len(good_l.blob) == len(liar_l.blob) != len(liar_gz.blob)
    good = oci_tar(os.path.join(TMP, "good.tar"), [good_l], "good")
    imgs = {"liar": (oci_tar(os.path.join(TMP, "liar.tar"), [good_l], "liar",
                             {good_l.digest: liar_l.blob}), (2, 11)),
            "one byte changed": (oci_tar(os.path.join(TMP, "flip.tar"), [good_l], "flip",
                                         {good_l.digest: bytes(flip)}), (2, 10))}
    liargz = oci_tar(os.path.join(TMP, "liargz.tar"), [good_l], "liargz",
                     {good_l.digest: liar_gz.blob})
    cache = fresh("forged")
    db = memo_db(cache)
    digests = lambda: sql(db, "SELECT digest FROM memo_layers")  # noqa: E731
    misses = lambda: sql(db, "SELECT misses FROM memo_stats")[0][0]  # noqa: E731
    code, out, err = pipe([], imgs["liar"][0], cache)
    ok("M2 liar in a pipe, cold: the bytes' answer, reported, not stored",
       code == 0 and stats(out) == (2, 11) and "not stored" in err and digests() == [],
       out + err)
    code, out, err = pipe(["--detail"], good, cache)
    ok("M2 good in a pipe: stored", code == 0 and stats(out) == (2, 10) and
       cached_flags(out) == [False] and digests() == [(good_l.digest,)], out + err)
    for what, (path, want) in imgs.items():
        before = misses()
        code, out, err = pipe([], path, cache)
        ok("M5 %s after good, warm pipe: refused" % what,
           code == 1 and out == "" and len(err.splitlines()) == 1 and
           "rerun with --no-cache" in err and good_l.digest in err and
           "damaged or forged" in err, "%s %r %r" % (code, out, err))
        ok("M5 %s: a miss" % what, misses() == before + 1, (before, misses()))
        code, out, err = pipe([], path, cache, no_cache=True)
        ok("M5 %s with --no-cache: read as cold" % what,
           code == 0 and stats(out) == want and err == "", out + err)
    code, out, err = pipe(["--detail"], liargz, cache)
    ok("M5 a blob of another size under good's name: decoded, answered, not stored",
       code == 0 and stats(out) == (2, 11) and cached_flags(out) == [False] and
       "not stored" in err, out + err)
    code, out, err = pipe(["--detail"], good, cache)
    ok("M5 good again: from the memo", code == 0 and stats(out) == (2, 10) and
       cached_flags(out) == [True], out + err)
    ok("M5 forged blobs never replaced the good row", digests() == [(good_l.digest,)], digests())
    good_file = os.path.join(TMP, "good.blob")
    with open(good_file, "wb") as f:
        f.write(good_l.blob)
    ok("M3 the row's checksum is good's, keyed",
       sql(db, "SELECT xxh128 FROM memo_layers") == [(xxhkey(secret_of(cache), good_file),)])


def test_stream_limits():
    """M6: --max-entries and --max-layer-bytes fail warm through a pipe exactly as cold (the
    first layer of std-gzip holds more than 5 entries and 18432 tar bytes, gen_fixtures)."""
    for args in (["--max-entries", "5"], ["--max-layer-bytes", "10000"]):
        cache = fresh("limits")
        pipe([], STD_TAR, cache)
        cold = pipe(args, STD_TAR, None, no_cache=True)
        warm = pipe(args, STD_TAR, cache)
        ok("M6 %s: cold fails" % args[0], cold[0] == 1 and "raise it with " + args[0] in cold[2],
           cold)
        ok("M6 %s: warm fails the same" % args[0], warm == cold, "%r vs %r" % (warm, cold))


def test_secret():
    """M3: each memo file has its own secret, and every stored checksum is the XXH3-128 of
    the blob keyed with it, as libxxhash computes it (xxhkey), from a file scan and from a
    pipe; the unkeyed one differs."""
    a, b = fresh("secret-a"), fresh("secret-b")
    imgstat([STD_DIR], a)
    pipe([], STD_TAR, b)
    sa, sb = secret_of(a), secret_of(b)
    ok("M3 a secret of %d bytes" % SECRET_BYTES, len(sa) == len(sb) == SECRET_BYTES,
       (len(sa), len(sb)))
    ok("M3 two files, two secrets", sa != sb)
    for cache, secret, how in ((a, sa, "file"), (b, sb, "pipe")):
        rows = sql(memo_db(cache), "SELECT digest, xxh128 FROM memo_layers")
        want = [(d, xxhkey(secret, blob_path(STD_DIR, d))) for d, _ in rows]
        ok("M3 checksums stored from a %s: keyed XXH3-128" % how, len(rows) == 3 and rows == want,
           rows)
        ok("M3 ... not the unkeyed one (%s)" % how,
           all(x != xxhkey(None, blob_path(STD_DIR, d)) for d, x in rows))


def make_schema2(cache, layout):
    """Turn a memo file into what schema 2 wrote: no secret, unkeyed checksums."""
    c = sqlite3.connect(memo_db(cache))
    c.execute("DROP TABLE memo_secret")
    for (d,) in c.execute("SELECT digest FROM memo_layers").fetchall():
        c.execute("UPDATE memo_layers SET xxh128 = ? WHERE digest = ?",
                  (xxhkey(None, blob_path(layout, d)), d))
    c.execute("PRAGMA user_version = 2")
    c.commit()
    c.close()


def test_migration_2_3():
    """M3: a schema-2 file is upgraded in place: a secret is made and the unkeyed checksums
    are forgotten (kept, they would never match a keyed one: every layer would miss for good);
    its layers are still used and get keyed checksums."""
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    new = fresh("mig23-new")
    imgstat([STD_DIR], new)
    copy = os.path.join(TMP, "mig23-copy")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(STD_DIR, copy)
    for first in ("file", "pipe"):
        d = fresh("mig23-" + first)
        db = memo_db(d)
        imgstat([STD_DIR], d)
        make_schema2(d, STD_DIR)
        if first == "file":  # at a new place: the digest is computed again
            code, out, err = imgstat(["--detail", copy], d)
            want = [True] * 3
        else:  # a pipe cannot trust a row without a checksum: decoded, stored again
            code, out, err = pipe(["--detail"], STD_TAR, d)
            want = [False] * 3
        ok("M3 2->3 then a %s: right, cached %s" % (first, want[0]), code == 0 and
           cached_flags(out) == want and err == "" and stats(out) == (9, 5323),
           out[:300] + err)
        ok("M3 2->3 (%s): version and schema" % first,
           sql(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and
           sql(db, schema) == sql(memo_db(new), schema))
        secret = secret_of(d)
        rows = sql(db, "SELECT digest, xxh128 FROM memo_layers")
        ok("M3 2->3 (%s): keyed checksums" % first, len(secret) == SECRET_BYTES and
           rows == [(x, xxhkey(secret, blob_path(STD_DIR, x))) for x, _ in rows], rows)
        got = pipe(["--detail"], STD_TAR, d)
        ok("M3 2->3 (%s): then a pipe hits" % first, got[0] == 0 and
           cached_flags(got[1]) == [True] * 3, got[1][:300] + got[2])


# ---- 5. the catalog -------------------------------------------------------------------------

def tsv(path):
    out = []
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if line:
                p, size = line.rsplit(b"\t", 1)
                out.append((p.decode("utf-8", "surrogateescape"), int(size)))
    return out


def page_of(listing):
    d = json.loads(listing)
    return d["total_num"], [(e["file_path"], e["size"]) for e in d["data_list"]]


def name_of(path):
    return path.rsplit("/", 1)[-1]


def corpus_select(entries, args):
    """The catalog entries a corpus case's --image/--platform names (matched on refs as
    written and platform, in python)."""
    ref = args[args.index("--image") + 1] if "--image" in args else None
    plat = args[args.index("--platform") + 1] if "--platform" in args else None
    return [e for e in entries if (ref is None or ref in e["refs"])
            and (plat is None or e["platform"] == plat)]


def test_catalog_corpus():
    cases = json.load(open(os.path.join(CORPUS, "cases.json")))["cases"]
    db = os.path.join(fresh("catalog"), "cat.db")
    inputs = sorted({c["input"] for c in cases if "expect" in c})
    code, out, err = imgstat(["add", "--db", db] + [os.path.join(CORPUS, i) for i in inputs],
                             fresh("catalog-memo"), timeout=600)
    lines = jl(out)
    ok("add corpus: exit 0", code == 0, err[-400:])
    ok("add corpus: a line per input, all success",
       len(lines) == len(inputs) and all(l["scan_status"] == "success" for l in lines), out[-400:])
    code, out, err = catq(db, "list", "--limit", "0")
    entries = jl(out)[:-1]
    for c in cases:
        if "expect" not in c:
            continue
        path = os.path.realpath(os.path.join(CORPUS, c["input"]))
        mine = corpus_select([e for e in entries if e["input"] == path], c["args"])
        label = "catalog %s" % c["name"]
        ok("%s: one image" % label, len(mine) == 1, len(mine))
        if len(mine) != 1:
            continue
        e = mine[0]
        ok("%s: totals" % label, (e["total_files_num"], e["total_files_size"]) ==
           (c["expect"]["total_files_num"], c["expect"]["total_files_size"]), e)
        if "files" in c:
            check_pages(label, db, e, tsv(os.path.join(CORPUS, c["files"])), c)
    return db, entries


def check_pages(label, db, e, want, case):
    key = str(e["key"])
    code, out, err = catq(db, "files", "--key", key, "--limit", "0")
    ok("%s: every file" % label, code == 0 and page_of(out) == (len(want), want), out[:300])
    for off, lim in ((0, 3), (2, 4), (len(want) - 1, 10), (len(want), 5), (5, 200)):
        code, out, err = catq(db, "files", "--key", key, "--offset", str(off), "--limit",
                              str(lim))
        ok("%s: page %d+%d" % (label, off, lim),
           page_of(out) == (len(want), want[off:off + lim]), out[:300])
    names = sorted({name_of(p) for p, _ in want})
    for needle in {names[0][:2], ".", "a", names[-1][1:4], "no-such-name"}:
        if not needle:
            continue
        sel = [w for w in want if needle in name_of(w[0])]
        code, out, err = catq(db, "files", "--key", key, "--file-name", needle, "--limit", "2",
                              "--offset", "1")
        ok("%s: filter %r" % (label, needle), page_of(out) == (len(sel), sel[1:3]), out[:300])
    # the same page as `imgstat files` prints, byte for byte
    inp = os.path.join(CORPUS, case["input"])
    code, cli, err = imgstat(["files", "--no-cache", "--offset", "1", "--limit", "4", "--file-name",
                              "e"] + case["args"] + [inp], None)
    code2, out, err2 = catq(db, "files", "--key", key, "--offset", "1", "--limit", "4",
                            "--file-name", "e")
    ok("%s: equals imgstat files" % label, code == 0 and out == cli, out + " vs " + cli)


def test_selection(db, entries):
    tiny = [e for e in entries if "tiny" in e["refs"]][0]
    hexid = tiny["image_id"].split(":")[1]
    for sel, label in ((tiny["image_id"], "full"), (hexid, "bare hex"), (hexid[:12], "prefix 12")):
        code, out, err = catq(db, "find", "--id", sel)
        ok("find by %s" % label, code == 0 and jl(out)[0]["image_id"] == tiny["image_id"], err)
    code, out, err = catq(db, "find", "--id", hexid[:11])
    ok("find: 11 hex digits is malformed", code == 1 and "12" in err, err)
    code, out, err = catq(db, "find", "--id", "0" * 64)
    ok("find: unknown ID", code == 3, err)
    code, out, err = catq(db, "find", "--id", "sha256:../../etc")
    ok("find: not hex", code == 1, err)
    for ns, name, tag, label in (("library", "tiny", "latest", "library/"),
                                 ("docker.io/library", "tiny", "latest", "with host"),
                                 (None, "tiny-alias", None, "no namespace, no tag"),
                                 ("localhost", "tiny", "v2", "localhost/ (podman)")):
        args = ["find", "--name", name] + (["--ns", ns] if ns else []) + (
            ["--tag", tag] if tag else [])
        code, out, err = catq(db, *args)
        got = jl(out)[0] if code == 0 else {}
        ok("find by ref %s" % label, code == 0 and got.get("total_files_num") == 10, err)
    code, out, err = catq(db, "find", "--ns", "library", "--name", "tiny", "--tag", "latest",
                          "--id", "f" * 12)
    ok("find by ref with another image's ID: none", code == 3, out + err)
    code, out, err = catq(db, "find", "--ns", "library", "--name", "tiny", "--tag", "latest",
                          "--id", hexid[:16])
    ok("find by ref with its ID prefix", code == 0, err)
    # an ID prefix of two images: one row copied under an ID that shares 20 digits
    other = hexid[:20] + ("0" if hexid[20] != "0" else "1") + hexid[21:]
    sql_exec(db, "INSERT INTO images (input_id, seq, image_id, id_hex, format, refs, status,"
                 " scanned_ms) SELECT input_id, 99, 'sha256:' || ?1, ?1, format, refs, status,"
                 " scanned_ms FROM images WHERE id = ?2", other, tiny["key"])
    code, out, err = catq(db, "find", "--id", hexid[:20])
    ok("find: an ambiguous prefix", code == 1 and "several images" in err, err)
    code, out, err = catq(db, "find", "--id", hexid[:21])
    ok("find: a longer prefix decides", code == 0, err)
    sql_exec(db, "DELETE FROM images WHERE id_hex = ?", other)


def test_literal_names():
    """% and _ are text: names a%b, a_b, axb, 100%, _x, %% and plain (hand-listed below)."""
    names = ["a%b", "a_b", "axb", "100%", "_x", "%%", "plain"]
    img = oci_dir(os.path.join(TMP, "literal"), [g.L(*[g.F("d/" + n, 3) for n in names],
                                                     comp="gzip")], "literal")
    db = os.path.join(fresh("literal-db"), "cat.db")
    code, out, err = imgstat(["add", "--db", db, img], fresh("literal-memo"))
    ok("literal: add", code == 0, err)
    for needle, want in (("%", ["%%", "100%", "a%b"]), ("_", ["_x", "a_b"]), ("a_b", ["a_b"]),
                         ("%%", ["%%"]), ("a%", ["a%b"])):
        code, out, err = catq(db, "files", "--id", sql(db, "SELECT id_hex FROM images")[0][0],
                              "--file-name", needle, "--limit", "0")
        got = [name_of(p) for p, _ in page_of(out)[1]]
        ok("literal %r" % needle, got == sorted(want, key=lambda s: s.encode()), got)
        code, cli, err = imgstat(["files", "--no-cache", "--file-name", needle, "--limit", "0",
                                  img], None)
        ok("literal %r: as imgstat files" % needle, cli == out, cli + out)


def test_listing(db):
    junk = os.path.join(TMP, "not-an-image.txt")
    with open(junk, "w") as f:
        f.write("hello\n")
    code, out, err = imgstat(["add", "--db", db, junk], None, no_cache=True)
    ok("add a non-image: exit 1, recorded failed", code == 1 and jl(out)[0]["scan_status"] ==
       "failed", out + err)
    code, out, err = catq(db, "list", "--status", "failed", "--limit", "0")
    got = jl(out)
    ok("list failed: the placeholder entry", got[-1]["total_num"] == 1 and got[0]["key"] == 0
       and got[0]["input"] == os.path.realpath(junk) and got[0]["scan_failed_desc"], out)
    code, out, err = catq(db, "list", "--name", "tiny", "--limit", "0")
    got = jl(out)
    ok("list --name tiny", got[-1]["total_num"] == len(got) - 1 and all(
        any("tiny" in r for r in e["refs"]) for e in got[:-1]) and len(got) > 3, out[-300:])
    code, out, err = catq(db, "list", "--version", "v2", "--limit", "0")
    got = jl(out)
    ok("list --version v2", [e["ref"] for e in got[:-1]] == ["localhost/tiny:latest"], out)
    code, out, err = catq(db, "list", "--limit", "0")
    every = jl(out)[:-1]
    code, out, err = catq(db, "list", "--offset", "3", "--limit", "4")
    got = jl(out)
    ok("list paging", [e["key"] for e in got[:-1]] == [e["key"] for e in every[3:7]]
       and got[-1]["total_num"] == len(every), out[-200:])
    path = [e for e in every if e["key"]][0]["input"]
    code, out, err = catq(db, "status", path, "scanning")
    code, out, err = catq(db, "list", "--status", "scanning", "--limit", "0")
    got = jl(out)[:-1]
    ok("status scanning: shown on the input's images", got and all(e["input"] == path
                                                                   for e in got), out)
    code, out, err = catq(db, "counts")
    counts = jl(out)[0]
    ok("counts", counts["scanning"] == len(got) and counts["failed"] == 1 and
       sum(counts[k] for k in ("waiting_for_scan", "scanning", "success", "failed")) ==
       len(every), counts)
    code, out, err = catq(db, "remove", path)
    code2, out2, err2 = catq(db, "list", "--limit", "0")
    ok("remove", code == 0 and all(e["input"] != path for e in jl(out2)[:-1]), err)
    code, out, err = catq(db, "remove", path)
    ok("remove twice: not found", code == 3, err)


def test_kill_add():
    """kill -9 during `imgstat add` of an archive of three images (2000 + 2500 + 3000 files
    of 37 bytes): the catalog opens, and each input is absent, or marked scanning with no
    image, or recorded whole (three images whose file chunks add up)."""
    imgs = [g.Image([files_layer("p%d" % i, n, comp="gzip")], tags=["app:%d" % i],
                    name="app%d" % i) for i, n in enumerate((2000, 2500, 3000))]
    arch = os.path.join(TMP, "three.docker.tar")
    g.docker_archive(arch, imgs)
    rnd = random.Random(11)
    seen = {"none": 0, "scanning": 0, "whole": 0}
    for i in range(10):
        db = os.path.join(fresh("killadd%d" % i), "cat.db")
        p = subprocess.Popen([EXE, "add", "--no-cache", "--db", db, arch],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.0, 0.5 if not ASAN else 2.0))
        p.kill()
        p.wait()
        if not os.path.exists(db):
            seen["none"] += 1
            continue
        code, out, err = catq(db, "list", "--limit", "0")
        got = jl(out)[:-1] if code == 0 else None
        ok("kill add #%d: opens" % i, got is not None, err)
        images = [e for e in got or [] if e["key"]]
        consistent = all(sql(db, "SELECT sum(nfiles) FROM image_files WHERE image = ?",
                             e["key"])[0][0] == e["total_files_num"] for e in images)
        state_ok = (not images and all(e["scan_status"] in ("scanning", "waiting_for_scan")
                                       for e in got or [])) or \
            (len(images) == 3 and sorted(e["total_files_num"] for e in images) ==
             [2000, 2500, 3000])
        seen["whole" if len(images) == 3 else "scanning" if got else "none"] += 1
        ok("kill add #%d: old state or whole" % i, state_ok and consistent, got)
        code, out, err = imgstat(["add", "--no-cache", "--db", db, arch], None)
        code, out, err = catq(db, "list", "--limit", "0")
        ok("kill add #%d: added again, whole" % i,
           sorted(e["total_files_num"] for e in jl(out)[:-1]) == [2000, 2500, 3000], out)
    print("kill -9 during add landed: %s" % seen)


def main():
    try:
        if section("cold-warm"):
            test_cold_warm()
        if section("lying"):
            test_lying_blob()
        if section("version"):
            test_version_bump()
        if section("lru"):
            test_lru()
        if section("faults"):
            test_faults()
        if section("stream"):
            test_stream_detail()
            test_codecs_warm()
            test_stream_forged()
            test_stream_limits()
            test_stream_pipes()
        if section("secret"):
            test_secret()
            test_migration_2_3()
        if section("catalog") and os.path.exists(os.path.join(CORPUS, "cases.json")):
            db, entries = test_catalog_corpus()
            test_selection(db, entries)
            test_listing(db)
        if section("literal"):
            test_literal_names()
        if section("kill-add"):
            test_kill_add()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
