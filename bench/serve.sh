#!/usr/bin/env bash
# bench/serve.sh: issue 11's five targets for `imgstat serve`, in one run (bench/README.md).
#
#   1. files-statistics of a cataloged image, wrk -t2 -c64, vs nginx (2 workers) serving the
#      same JSON as a static file on the same machine: requests/s >= 0.5x nginx's
#   2. p99 latency of the same: <= 2x nginx's
#   3. files with a file_name filter on the 1M-file image (many.tar), limit 200: p50 <= 100 ms
#   4. a new gzip image (oci-gzip.tar) landing in a watched folder to scan_status=success:
#      <= 1.3x its cold CLI scan (IMGSTAT_NO_CACHE=1) + 2 s
#   5. server RSS with 100 cataloged images, idle: <= 64 MiB
#
# Environment: IMGSTAT (default build/cli/imgstat), MKBENCH (build/bench/mkbench),
# BENCH_OUT (bench/out: the benchmark images, made with mkbench when absent), DURATION (wrk
# seconds, default 10), RESULTS (where serve.md goes, default $BENCH_OUT/results).
# Needs: apt-get install wrk nginx-light curl python3.  Leaves nothing running.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMGSTAT=${IMGSTAT:-$ROOT/build/cli/imgstat}
MKBENCH=${MKBENCH:-$ROOT/build/bench/mkbench}
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
DURATION=${DURATION:-10}
RESULTS=${RESULTS:-$BENCH_OUT/results}
fail() { echo "serve.sh: $*" >&2; exit 1; }
for t in wrk nginx curl python3; do command -v "$t" >/dev/null || fail "$t missing (apt-get install wrk nginx-light curl python3)"; done
[ -x "$IMGSTAT" ] || fail "imgstat not found at $IMGSTAT"
if [ ! -f "$BENCH_OUT/many.tar" ] || [ ! -f "$BENCH_OUT/oci-gzip.tar" ]; then
  [ -x "$MKBENCH" ] || fail "no images in $BENCH_OUT and no mkbench at $MKBENCH"
  "$MKBENCH" "$BENCH_OUT" >/dev/null || fail "mkbench failed"
fi
mkdir -p "$RESULTS"
work=$(mktemp -d "${TMPDIR:-/tmp}/serve-bench-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

# start_serve NAME DIR: serve DIR with a catalog of its own; sets PORT and SPID
start_serve() {
  local log="$work/$1.log"
  "$IMGSTAT" serve --images "$2" --db "$work/$1.db" --listen 127.0.0.1:0 2>"$log" &
  SPID=$!; pids+=("$SPID")
  for _ in $(seq 300); do
    PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -n 1)
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  fail "serve did not start: $(cat "$log")"
}
stop_serve() { kill "$SPID"; wait "$SPID" 2>/dev/null; }
# wait_success N: until local-repositories lists N entries, all success; prints the seconds
wait_success() {
  python3 - "$PORT" "$1" <<'PY'
import json, sys, time, urllib.request
port, want = int(sys.argv[1]), int(sys.argv[2])
t0 = time.time()
while time.time() - t0 < 3600:
    j = json.load(urllib.request.urlopen("http://127.0.0.1:%d/v5/p/image/local-repositories?limit=200" % port))
    if j["total_num"] >= want and all(r["scan_status"] == "success" for r in j["data_list"]):
        print("%.3f" % (time.time() - t0)); sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
PY
}
image_id() { curl -s "http://127.0.0.1:$PORT/v5/p/image/local-repositories?limit=10" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data_list"][0]["image_id"])'; }
# wrk_run URL CONNECTIONS THREADS -> "req/s p50_ms p99_ms"
wrk_run() {
  wrk -t"$3" -c"$2" -d"${DURATION}s" --latency "$1" > "$work/wrk.txt" 2>&1
  python3 - "$work/wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print("%.0f %.3f %.3f %s" % (rps, p50, p99, bad.group(1) if bad else 0))
PY
}
verdict() { python3 -c "import sys; print('pass' if $1 else 'miss')"; }
rows=()

# ---- 1, 2: files-statistics vs nginx ----
mkdir -p "$work/one" "$work/www"
cp "$ROOT/testdata/fmt/docker25.tar" "$work/one/"
start_serve one "$work/one"; wait_success 1 >/dev/null
url="http://127.0.0.1:$PORT/v5/p/image/$(image_id)/files-statistics?image_type=cicd"
curl -s "$url" > "$work/www/stats.json"
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/nginx.conf" <<EOF2
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nport;
    location / { root $work/www; default_type application/json; }
  }
}
EOF2
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)
sleep 0.5
read -r s_rps s_p50 s_p99 s_bad <<<"$(wrk_run "$url" 64 2)"
read -r n_rps n_p50 n_p99 n_bad <<<"$(wrk_run "http://127.0.0.1:$nport/stats.json" 64 2)"
ratio=$(python3 -c "print('%.2f' % ($s_rps / $n_rps))")
rows+=("| files-statistics req/s, wrk -t2 -c64 | $s_rps | nginx $n_rps | ${ratio}x | >= 0.5x | $(verdict "$s_rps >= 0.5 * $n_rps") |")
ratio=$(python3 -c "print('%.2f' % ($s_p99 / $n_p99))")
rows+=("| files-statistics p99 | $s_p99 ms | nginx $n_p99 ms | ${ratio}x | <= 2x | $(verdict "$s_p99 <= 2 * $n_p99") |")
[ "$s_bad" = 0 ] || rows+=("| (non-2xx answers from serve: $s_bad) | | | | | miss |")
stop_serve

# ---- 3: files with file_name on the 1M-file image ----
mkdir -p "$work/many"
ln "$BENCH_OUT/many.tar" "$work/many/" 2>/dev/null || cp "$BENCH_OUT/many.tar" "$work/many/"
start_serve many "$work/many"
t_many=$(wait_success 1)
url="http://127.0.0.1:$PORT/v5/p/image/$(image_id)/files?image_type=cicd&file_name=777&limit=200"
total=$(curl -s "$url" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_num"])')
read -r f_rps f_p50 f_p99 f_bad <<<"$(wrk_run "$url" 1 1)"
rows+=("| files, file_name=777 ($total matches) on many.tar, limit 200, p50 | $f_p50 ms | — | — | <= 100 ms | $(verdict "$f_p50 <= 100") |")
rows+=("| (many.tar: 1M files cataloged in $t_many s; p99 $f_p99 ms) | | | | | info |")
stop_serve

# ---- 4: a new gzip image landing ----
cold=$(python3 - "$IMGSTAT" "$BENCH_OUT/oci-gzip.tar" <<'PY'
import os, subprocess, sys, time
env = dict(os.environ, IMGSTAT_NO_CACHE="1")
subprocess.run(["cat", sys.argv[2]], stdout=subprocess.DEVNULL)  # page cache warm
ts = []
for _ in range(3):
    t = time.time(); subprocess.run([sys.argv[1], sys.argv[2]], env=env, stdout=subprocess.DEVNULL, check=True)
    ts.append(time.time() - t)
print("%.3f" % sorted(ts)[1])
PY
)
mkdir -p "$work/land"
ln "$BENCH_OUT/oci-gzip.tar" "$work/.landing.tar" 2>/dev/null || cp "$BENCH_OUT/oci-gzip.tar" "$work/.landing.tar"
start_serve land "$work/land"
mv "$work/.landing.tar" "$work/land/oci-gzip.tar"
t_land=$(wait_success 1)
rows+=("| new oci-gzip.tar landing -> success | $t_land s | cold CLI $cold s | — | <= 1.3x + 2 s = $(python3 -c "print('%.2f' % (1.3 * $cold + 2))") s | $(verdict "$t_land <= 1.3 * $cold + 2") |")
stop_serve

# ---- 5: RSS with 100 cataloged images, idle ----
mkdir -p "$work/hundred"
for i in $(seq -w 1 100); do cp "$ROOT/testdata/fmt/docker25.tar" "$work/hundred/img$i.tar"; done
start_serve hundred "$work/hundred"
wait_success 100 >/dev/null
sleep 2
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SPID/status")
rows+=("| RSS, 100 cataloged images, idle | $((rss / 1024)) MiB | — | — | <= 64 MiB | $(verdict "$rss <= 65536") |")
stop_serve

{
  echo "| case | imgstat serve | baseline | ratio | target | |"
  echo "|---|---:|---:|---:|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$RESULTS/serve.md"
