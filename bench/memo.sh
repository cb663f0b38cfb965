#!/usr/bin/env bash
# bench/memo.sh: the layer memo's benchmark (issue 10) and the catalog's files query
# (issue 11). See bench/README.md, "The layer memo".
#
# Needs:     what bench/run.sh needs (hyperfine, mkbench's images in BENCH_OUT; generated
#            here when missing), python3, and the catalog test tool build/tests/catalog/catq.
# Environment (all optional): IMGSTAT, MKBENCH, CATQ, SCALE, BENCH_OUT, RUNS as in run.sh.
#
# Prints a markdown table (also in $BENCH_OUT/results/memo.md).  Exits 1 when an answer
# with the memo differs from the answer without it, else 0 (a missed target says "miss").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALE=${SCALE:-1}
OUT=${BENCH_OUT:-$ROOT/bench/out}
RUNS=${RUNS:-5}
RES=$OUT/results
IMGSTAT=${IMGSTAT:-$ROOT/build/cli/imgstat}
MKBENCH=${MKBENCH:-$ROOT/build/bench/mkbench}
CATQ=${CATQ:-$ROOT/build/tests/catalog/catq}
MEMO=$OUT/memo-cache # memo folders of the runs below, wiped as each case needs

say() { printf 'memo.sh: %s\n' "$*" >&2; }
fail() { printf 'memo.sh: error: %s\n' "$*" >&2; exit 1; }

for t in hyperfine python3; do command -v "$t" >/dev/null || fail "missing: $t"; done
for b in "$IMGSTAT" "$MKBENCH" "$CATQ"; do
    [ -x "$b" ] || fail "not found: $b (meson setup build --buildtype=release && ninja -C build)"
done
mkdir -p "$RES"
unset IMGSTAT_NO_CACHE IMGSTAT_CACHE_DIR

# ---- images ---------------------------------------------------------------------------

want=$("$MKBENCH" --stamp --scale "$SCALE")
if [ ! -f "$OUT/.stamp" ] || [ "$(cat "$OUT/.stamp")" != "$want" ]; then
    say "generating mkbench's images into $OUT (scale $SCALE)"
    "$MKBENCH" --scale "$SCALE" "$OUT" >/dev/null
fi
python3 "$ROOT/bench/mkfolder.py" "$OUT" >&2

q() { printf '%q' "$1"; }
I=$(q "$IMGSTAT")
G=$(q "$OUT/oci-gzip")
F=$(q "$OUT/folder")

# ---- correctness: the same answers with and without the memo ------------------------------

BAD=0
same() { # label args...: cold without memo, then twice with a fresh memo (store, then hit)
    local label=$1 a b c
    shift
    rm -rf "$MEMO/check"
    a=$("$IMGSTAT" --no-cache "$@")
    b=$("$IMGSTAT" --cache-dir "$MEMO/check" "$@")
    c=$("$IMGSTAT" --cache-dir "$MEMO/check" "$@")
    if [ "$a" != "$b" ] || [ "$a" != "$c" ]; then
        say "MISMATCH $label: the memo changed the answer"
        BAD=$((BAD + 1))
    fi
}
same_pipe() { # label file: the same through a pipe (the one-pass stream's lookups, M5)
    local label=$1 a b c
    rm -rf "$MEMO/check"
    a=$(cat "$2" | "$IMGSTAT" --no-cache -)
    b=$(cat "$2" | "$IMGSTAT" --cache-dir "$MEMO/check" -)
    c=$(cat "$2" | "$IMGSTAT" --cache-dir "$MEMO/check" --detail - | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert all(l["cached"] for l in d["layers"]), "a warm pipe layer not from the memo"
print(json.dumps({k: d[k] for k in ("total_files_num", "total_files_size")}))')
    if [ "$a" != "$b" ] || [ "$a" != "$c" ]; then
        say "MISMATCH $label: the memo changed the answer (or a warm layer was decoded)"
        BAD=$((BAD + 1))
    fi
}
same oci-gzip "$OUT/oci-gzip"
same oci-gzip.tar "$OUT/oci-gzip.tar"
same oci-zstd "$OUT/oci-zstd"
same "folder --all" --all "$OUT/folder"
same_pipe "cat oci-gzip.tar |" "$OUT/oci-gzip.tar"
same_pipe "cat oci-zstd.tar |" "$OUT/oci-zstd.tar"
CHECKS=6
say "correctness: $((CHECKS - BAD)) of $CHECKS answers equal with and without the memo"

# ---- timing ---------------------------------------------------------------------------

hf() { # GROUP hyperfine-args...: one hyperfine run, results in $RES/memo-GROUP.csv
    local group=$1
    shift
    say "timing: $group"
    hyperfine -S bash --warmup 1 --runs "$RUNS" --style basic \
        --export-csv "$RES/memo-$group.csv" "$@" >>"$RES/hyperfine-memo.log" 2>&1 ||
        { say "hyperfine failed for $group"; rm -f "$RES/memo-$group.csv"; }
}
median() { [ -f "$RES/memo-$1.csv" ] && awk -F, -v n="$2" 'NR > 1 && $1 == n {print $4}' "$RES/memo-$1.csv"; }
# CPU seconds (user + system, mean): what a busy machine cannot inflate
cpu() { [ -f "$RES/memo-$1.csv" ] && awk -F, -v n="$2" 'NR > 1 && $1 == n {print $5 + $6}' "$RES/memo-$1.csv"; }

W=$(q "$MEMO/warm")
C=$(q "$MEMO/cold")
P=$(q "$MEMO/folder")
# warm: the warmup run fills the memo; cold-write: every run starts from an empty memo
hf warm -n cold "$I --no-cache $G" -n warm "$I --cache-dir $W $G"
hf write --prepare "rm -rf $C" -n nocache "$I --no-cache $G" -n write "$I --cache-dir $C $G"
# the pipe's memo is filled by the warmup run, through the pipe itself; pipe-write starts
# every run from an empty memo (the cold pipe scan paying for the hashing, M2)
WP=$(q "$MEMO/warm-pipe")
CP=$(q "$MEMO/cold-pipe")
rm -rf "$MEMO/warm-pipe"
hf pipe -n cold "cat $G.tar | $I --no-cache -" -n warm "cat $G.tar | $I --cache-dir $WP -"
hf pipe-write --prepare "rm -rf $CP" -n nocache "cat $G.tar | $I --no-cache -" \
    -n write "cat $G.tar | $I --cache-dir $CP -"
hf folder --prepare "rm -rf $P" -n first "$I --all --cache-dir $P $F" \
    -n base "$I --no-cache $(q "$OUT/folder-base")" -n own "$I --no-cache $(q "$OUT/folder-own")"
hf seek -n docker-seek "$I --no-cache $(q "$OUT/docker.tar")" -n gzip-warm "$I --cache-dir $W $G"

ROWS=()
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a != "" && b > 0) printf "%.3f", a / b}'; }
row() { # case a b a-cpu b-cpu target-max target-text: the verdict is on the wall-clock ratio
    local r c verdict
    r=$(ratio "$2" "$3")
    c=$(ratio "$4" "$5")
    if [ -z "$r" ]; then
        ROWS+=("| $1 | ${2:-error} | ${3:-error} | — | — | $7 | error |")
        return
    fi
    verdict=$(awk -v r="$r" -v m="$6" 'BEGIN {print (m == "" ? "info" : (r <= m ? "pass" : "miss"))}')
    ROWS+=("| $1 | $(printf '%.3f s' "$2") | $(printf '%.3f s' "$3") | ${r}× | ${c:-—}× | $7 | $verdict |")
}
sum() { awk -v a="$1" -v b="$2" 'BEGIN {if (a != "" && b != "") printf "%.6f", a + b}'; }
pair() { # GROUP A B: wall and CPU of A and B, for row
    printf '%s\n%s\n%s\n%s\n' "$(median "$1" "$2")" "$(median "$1" "$3")" "$(cpu "$1" "$2")" "$(cpu "$1" "$3")"
}
row_of() { # case GROUP A B target-max target-text
    local v
    mapfile -t v < <(pair "$2" "$3" "$4")
    row "$1" "${v[0]}" "${v[1]}" "${v[2]}" "${v[3]}" "$5" "$6"
}

row_of "warm re-scan of oci-gzip vs its cold scan (\`--no-cache\`)" warm warm cold 0.05 "≤ 0.05×"
row_of "warm re-scan from a pipe (\`cat oci-gzip.tar | imgstat -\`) vs the cold pipe scan" pipe warm cold 0.3 "≤ 0.3×"
row_of "cold scan writing the memo vs \`--no-cache\`" write write nocache 1.10 "≤ 1.10×"
row_of "cold pipe scan writing the memo vs \`--no-cache\` (its blobs hashed)" pipe-write write nocache 1.10 "≤ 1.10×"
row "folder of 20 images (\`--all\`, first time) vs the base once + each own layer once" \
    "$(median folder first)" "$(sum "$(median folder base)" "$(median folder own)")" \
    "$(cpu folder first)" "$(sum "$(cpu folder base)" "$(cpu folder own)")" 1.3 "≤ 1.3×"
row_of "uncompressed docker.tar walked by seeking vs the same layers replayed from the memo" seek docker-seek gzip-warm "" "— (info)"

# ---- memo bytes per layer vs the layer's tar headers ------------------------------------------

memo_size() {
    rm -rf "$MEMO/size"
    "$IMGSTAT" --cache-dir "$MEMO/size" "$OUT/oci-gzip" >/dev/null
    python3 - "$MEMO/size/imgstat.db" "$OUT/oci-gzip" <<'EOF'
import gzip, sqlite3, sys, tarfile
db, layout = sys.argv[1:]
rows = sqlite3.connect(db).execute(
    "SELECT digest, entries, length(records) FROM memo_layers").fetchall()
head_total = memo_total = entries_total = 0
for digest, entries, size in rows:
    heads = 0  # header blocks of every member (pax and GNU long-name headers included)
    with tarfile.open(layout + "/blobs/sha256/" + digest.split(":")[1], "r:gz") as t:
        for m in t:
            heads += m.offset_data - m.offset
    heads += 1024  # the end marker
    head_total, memo_total, entries_total = head_total + heads, memo_total + size, entries_total + entries
    print("layer %s: %d entries, %d B of headers, %d B in the memo (%.1f%%, %.1f B/entry)"
          % (digest[7:19], entries, heads, size, 100.0 * size / heads, size / entries), file=sys.stderr)
print("%d %d %d" % (memo_total, head_total, entries_total))
EOF
}
read -r mt ht et < <(memo_size)
ratio=$(awk -v a="$mt" -v b="$ht" 'BEGIN {printf "%.3f", a / b}')
ROWS+=("| memo bytes vs the layers' uncompressed tar headers (oci-gzip, $et entries) | $mt B | $ht B | ${ratio}× | $(awk -v a="$mt" -v e="$et" 'BEGIN {printf "%.1f", a / e}') B/entry | ≤ 0.25× | $(awk -v r="$ratio" 'BEGIN {print (r <= 0.25 ? "pass" : "miss")}') |")

# ---- the catalog: files with a file_name filter on the 1M-file image --------------------------

DB=$OUT/many-catalog.db
if [ ! -f "$DB" ] || [ "$OUT/many.tar" -nt "$DB" ]; then
    say "recording many.tar into $DB"
    rm -f "$DB" "$DB-wal" "$DB-shm"
    "$IMGSTAT" add --no-cache --db "$DB" "$OUT/many.tar" >/dev/null
fi
ID=$("$CATQ" "$DB" list --limit 1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["image_id"])')
worst=0
worst_cpu=0
for needle in "" zzzz 0042 .js module; do
    line=$("$CATQ" "$DB" files --id "$ID" --file-name "$needle" --limit 200 --repeat 21 2>&1 >/dev/null | tail -1)
    say "files --file-name '${needle}': $line"
    p50=$(echo "$line" | sed -n 's/.*runs, p50 \([0-9.]*\) ms.*/\1/p')
    worst=$(awk -v a="$worst" -v b="${p50:-0}" 'BEGIN {print (b > a ? b : a)}')
    c50=$(echo "$line" | sed -n 's/.*cpu p50 \([0-9.]*\) ms.*/\1/p')
    worst_cpu=$(awk -v a="$worst_cpu" -v b="${c50:-0}" 'BEGIN {print (b > a ? b : a)}')
done
ROWS+=("| \`files\` page of 200 with a \`file_name\` filter, 1M-file image (worst p50 of 5 filters; CPU: its worst) | $worst ms | 100 ms | $(awk -v a="$worst" 'BEGIN {printf "%.2f", a / 100}')× | $(awk -v a="$worst_cpu" 'BEGIN {printf "%.2f", a / 100}')× | ≤ 100 ms | $(awk -v a="$worst" 'BEGIN {print (a <= 100 ? "pass" : "miss")}') |")

{
    echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); $(date +%F)"
    echo "imgstat: $("$IMGSTAT" --version | head -1); medians of $RUNS runs after 1 warmup"
    echo
    echo "| case | imgstat | baseline | ratio | CPU ratio | target | verdict |"
    echo "|---|---:|---:|---:|---:|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Correctness: $((CHECKS - BAD)) of $CHECKS answers equal with and without the memo."
} | tee "$RES/memo.md"
[ "$BAD" -eq 0 ]
