#!/usr/bin/env bash
# bench/hostile.sh: the inputs that were quadratic in imgstat's merged tree (issue 8.9), each
# timed against an ordinary image of the same entry count, plus 100,000 entries with 3.8 KB
# paths read through a pipe against the same from a file.  See bench/README.md.
#
# Needs:     python3, GNU /usr/bin/time (apt-get install time)
# Environment (all optional):
#   IMGSTAT    imgstat binary    (default: build/cli/imgstat, else build/cli/imgstat)
#   BENCH_OUT  where the images go (default: bench/out; this script uses its hostile/)
#   SCALE      size factor       (default: 1: 0.2 to 5 MB per image)
#   RUNS       runs per command  (default: 3; the median time and the largest RSS are kept)
#
# Prints a markdown table; exits 1 if an answer is wrong (a ratio over its target only
# prints "miss").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}/hostile
SCALE=${SCALE:-1}
RUNS=${RUNS:-3}
TARGET=10 # the most a hostile input may cost, in time and memory, over its twin

fail() { printf 'hostile.sh: error: %s\n' "$*" >&2; exit 1; }

if [ -z "${IMGSTAT:-}" ]; then
    for c in "$ROOT/build/cli/imgstat" "$ROOT/build/cli/imgstat"; do
        [ -x "$c" ] && IMGSTAT=$c && break
    done
fi
[ -n "${IMGSTAT:-}" ] && [ -x "$IMGSTAT" ] || fail "no imgstat binary (build it, or set IMGSTAT)"
[ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 ||
    fail "GNU /usr/bin/time is missing: apt-get install time"

# Images are generated once per SCALE (the generator takes about a minute at SCALE=1).
if [ "$(cat "$OUT/.stamp" 2>/dev/null)" != "scale=$SCALE" ]; then
    printf 'hostile.sh: generating the images in %s\n' "$OUT" >&2
    rm -rf "$OUT"
    python3 "$ROOT/bench/gen_hostile.py" "$OUT" "$SCALE"
    echo "scale=$SCALE" >"$OUT/.stamp"
fi

BAD=0

# measure NAME CMD...: runs CMD RUNS times; sets SECS (median) and KIB (largest peak RSS),
# and checks the report against expected.tsv.
measure() {
    local name=$1 i line t=() m=0 out want
    shift
    want=$(awk -F'\t' -v n="$name" '$1 == n { printf "{\"total_files_num\": %s, \"total_files_size\": %s}", $2, $3 }' "$OUT/expected.tsv")
    for ((i = 0; i < RUNS; i++)); do
        out=$(/usr/bin/time -f 'TIME %e %M' "$@" 2>&1) || true
        line=$(printf '%s\n' "$out" | grep '^TIME ' | tail -1)
        t+=("$(echo "$line" | cut -d' ' -f2)")
        m=$(( $(echo "$line" | cut -d' ' -f3) > m ? $(echo "$line" | cut -d' ' -f3) : m ))
        if ! printf '%s\n' "$out" | grep -qxF "$want"; then
            printf 'hostile.sh: WRONG answer for %s: %s (want %s)\n' "$name" \
                "$(printf '%s\n' "$out" | grep -v '^TIME ' | head -2 | tr '\n' ' ')" "$want" >&2
            BAD=1
        fi
    done
    SECS=$(printf '%s\n' "${t[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    KIB=$m
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v r="$1" -v s="$2" -v t=$TARGET 'BEGIN { print (r <= t && s <= t) ? "pass" : "miss" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
size() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

row() { # label hostile-cmd-name twin-name  (both as files)
    local label=$1 a=$2 b=$3 sa ka
    measure "$a" "$IMGSTAT" "$OUT/$a.tar"
    sa=$SECS ka=$KIB
    measure "$b" "$IMGSTAT" "$OUT/$b.tar"
    local rt rm
    rt=$(ratio "$sa" "$SECS") rm=$(ratio "$ka" "$KIB")
    printf '| %s | %s | %s s, %s | %s s, %s | %s× | %s× | %s |\n' "$label" "$(size "$OUT/$a.tar")" \
        "$sa" "$(mib "$ka")" "$SECS" "$(mib "$KIB")" "$rt" "$rm" "$(verdict "$rt" "$rm")"
}

echo "| input | size | imgstat | baseline | time | memory | ≤ ${TARGET}× |"
echo "|---|---:|---:|---:|---:|---:|---|"
row "one opaque marker 60,000 times over 2,000 files (twin: 62,002 ordinary entries)" opaque opaque-twin
row "a whiteout of this layer's directory 60,000 times (twin: 62,001 entries)" whiteout whiteout-twin
row "20,000 entries alternating between two 250-link chains (twin: 20,502 entries)" chains chains-twin
row "60,000 hard links into AUFS .wh..wh.plnk targets (twin: 120,001 entries)" plnk plnk-twin
measure longpaths sh -c "cat '$OUT/longpaths.tar' | '$IMGSTAT' -"
sp=$SECS kp=$KIB
measure longpaths "$IMGSTAT" "$OUT/longpaths.tar"
rt=$(ratio "$sp" "$SECS") rm=$(ratio "$kp" "$KIB")
printf '| 100,000 entries with 3.8 KB paths: `cat X \\| imgstat -` (baseline: imgstat X) | %s | %s s, %s | %s s, %s | %s× | %s× | %s |\n' \
    "$(size "$OUT/longpaths.tar")" "$sp" "$(mib "$kp")" "$SECS" "$(mib "$KIB")" "$rt" "$rm" \
    "$(verdict "$rt" "$rm")"
exit $BAD
