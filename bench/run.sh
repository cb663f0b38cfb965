#!/usr/bin/env bash
# bench/run.sh: the imgstat benchmark of issue 3. See bench/README.md.
#
# Needs:     apt-get install hyperfine isal libarchive-tools zstd time
#            (hyperfine, igzip, bsdtar, zstd, GNU /usr/bin/time), plus meson and
#            ninja if it has to build. ~3 GB free in BENCH_OUT at scale 1.
# Optional:  apt-get install umoci   (adds the "umoci unpack" row)
#
# Environment (all optional):
#   IMGSTAT    imgstat binary        (default: build/cli/imgstat or build/imgstat; built if missing)
#   MKBENCH    mkbench binary        (default: build/bench/mkbench; built if missing)
#   SCALE      image size factor     (default: 1 = 600 MB main image, 1M-file many.tar)
#   BENCH_OUT  images and results    (default: bench/out)
#   RUNS       hyperfine runs        (default: 5, after 1 warmup run)
#   UMOCI_RUNS umoci unpack runs     (default: 1)
#
# Prints a markdown table (also in $BENCH_OUT/results/table.md) and exits 0
# when imgstat's answers equal expected.json, 1 when they do not. A missed
# performance target does not change the exit status; the table says "miss".
set -euo pipefail
# The layer memo would make every run after the first a warm one: these figures are of cold
# scans (bench/memo.sh times the memo).
export IMGSTAT_NO_CACHE=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALE=${SCALE:-1}
OUT=${BENCH_OUT:-$ROOT/bench/out}
RUNS=${RUNS:-5}
UMOCI_RUNS=${UMOCI_RUNS:-1}
RES=$OUT/results

say() { printf 'run.sh: %s\n' "$*" >&2; }
fail() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }

# ---- requirements -------------------------------------------------------------------

check_tools() {
    local missing=() t
    for t in hyperfine igzip bsdtar zstd awk; do
        command -v "$t" >/dev/null || missing+=("$t")
    done
    [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1 || missing+=("/usr/bin/time (GNU)")
    if [ ${#missing[@]} -gt 0 ]; then
        fail "missing: ${missing[*]}; install with: apt-get install hyperfine isal libarchive-tools zstd time"
    fi
    HAVE_UMOCI=0
    command -v umoci >/dev/null && HAVE_UMOCI=1
    [ $HAVE_UMOCI = 1 ] || say "umoci not installed: skipping the umoci row (apt-get install umoci)"
}

# First existing of the candidates, else the first one.
pick() {
    local c
    for c in "$@"; do [ -x "$c" ] && { echo "$c"; return; }; done
    echo "$1"
}

# Builds build/ (release) when a default binary is missing; explicit paths are used as given.
find_binaries() {
    local user_i=${IMGSTAT:-} user_m=${MKBENCH:-} need=0 bt
    local cand_i=("$ROOT/build/cli/imgstat" "$ROOT/build/imgstat") cand_m=("$ROOT/build/bench/mkbench")
    IMGSTAT=${user_i:-$(pick "${cand_i[@]}")}
    MKBENCH=${user_m:-$(pick "${cand_m[@]}")}
    { [ -z "$user_i" ] && [ ! -x "$IMGSTAT" ]; } && need=1
    { [ -z "$user_m" ] && [ ! -x "$MKBENCH" ]; } && need=1
    if [ $need = 1 ]; then
        if ! command -v meson >/dev/null || ! command -v ninja >/dev/null; then
            fail "meson and ninja are needed to build"
        fi
        say "building in $ROOT/build"
        if [ ! -f "$ROOT/build/build.ninja" ]; then
            meson setup "$ROOT/build" "$ROOT" --buildtype=release >&2 || say "meson setup failed"
        fi
        ninja -C "$ROOT/build" >&2 || say "ninja failed (see above)"
        IMGSTAT=${user_i:-$(pick "${cand_i[@]}")}
        MKBENCH=${user_m:-$(pick "${cand_m[@]}")}
    fi
    [ -x "$MKBENCH" ] || fail "mkbench not found at $MKBENCH (build: meson setup build --buildtype=release && ninja -C build; or set MKBENCH=path)"
    [ -x "$IMGSTAT" ] || fail "imgstat not found at $IMGSTAT (build: meson setup build --buildtype=release && ninja -C build; or set IMGSTAT=path)"
    if [ -z "$user_i" ] && [ -f "$ROOT/build/build.ninja" ]; then
        bt=$(meson configure "$ROOT/build" 2>/dev/null | awk '$1 == "buildtype" {print $2; exit}')
        case "$bt" in release | debugoptimized | "") ;; *) say "warning: build/ is a '$bt' build; timings are not representative" ;; esac
    fi
    say "imgstat: $IMGSTAT"
}

# ---- images -------------------------------------------------------------------------

generate() {
    local want
    want=$("$MKBENCH" --stamp --scale "$SCALE")
    if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$want" ] && [ -f "$OUT/expected.json" ]; then
        say "images in $OUT are current ($want); not regenerating"
        return
    fi
    say "generating images into $OUT (scale $SCALE)"
    local t0=$SECONDS
    "$MKBENCH" --scale "$SCALE" "$OUT" >/dev/null
    say "generated in $((SECONDS - t0)) s"
}

# images.tsv: name path bytes layers paths files_num files_size data_bytes
tsv_field() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n {print $c}' "$OUT/images.tsv"; }

layer_files() { sed "s|^|$OUT/|" "$OUT/layers-$1.txt"; }

# ---- correctness ----------------------------------------------------------------------

# "N M" from imgstat's JSON output on stdin
answer() { tr -d ' \n\t' | sed -n 's/.*"total_files_num":\([0-9]*\).*"total_files_size":\([0-9]*\).*/\1 \2/p'; }

CHECK_OK=0
CHECK_BAD=0
check_one() { # label expected-"N M" command...
    local label=$1 want=$2 got
    shift 2
    got=$("$@" 2>/dev/null | answer) || got=""
    if [ "$got" = "$want" ]; then
        CHECK_OK=$((CHECK_OK + 1))
    else
        CHECK_BAD=$((CHECK_BAD + 1))
        say "MISMATCH $label: got '${got:-no answer}', expected '$want'"
    fi
}

check_answers() {
    local name want
    while IFS=$'\t' read -r name _ _ _ _ n s _; do
        [ "$name" = name ] && continue
        want="$n $s"
        check_one "$name" "$want" "$IMGSTAT" "$OUT/$name"
        check_one "$name -j 1" "$want" "$IMGSTAT" -j 1 "$OUT/$name"
        # shellcheck disable=SC2016 # $1 and $2 belong to the inner sh
        case "$name" in *.tar) check_one "$name via stdin" "$want" sh -c '"$1" - < "$2"' _ "$IMGSTAT" "$OUT/$name" ;; esac
    done <"$OUT/images.tsv"
    say "correctness: $CHECK_OK of $((CHECK_OK + CHECK_BAD)) outputs equal expected.json"
}

# ---- timing ---------------------------------------------------------------------------

q() { printf '%q' "$1"; }

# each FORMAT CMD: a shell loop running CMD over every layer file of FORMAT in stack order
each() {
    local f list=""
    while read -r f; do list+=" $(q "$f")"; done < <(layer_files "$1")
    # shellcheck disable=SC2016 # "$f" is expanded by hyperfine's shell
    printf 'for f in%s; do %s "$f" >/dev/null; done' "$list" "$2"
}

# hf GROUP -n NAME CMD ... : one hyperfine run, results in $RES/GROUP.{json,csv}
hf() {
    local group=$1
    shift
    say "timing: $group"
    if ! hyperfine -S bash --warmup 1 --runs "$RUNS" --style basic \
        --export-json "$RES/$group.json" --export-csv "$RES/$group.csv" "$@" \
        >>"$RES/hyperfine.log" 2>&1; then
        say "hyperfine failed for $group (see $RES/hyperfine.log)"
        rm -f "$RES/$group.csv"
    fi
}

median() { # GROUP NAME -> seconds, or empty
    [ -f "$RES/$1.csv" ] || return 0
    awk -F, -v n="$2" 'NR > 1 && $1 == n {print $4}' "$RES/$1.csv"
}

ROWS=()
row() { # case, imgstat value, baseline value, unit (s|MiB), target ratio, target text
    local case=$1 a=$2 b=$3 unit=$4 max=$5 ttext=$6 ratio verdict fa fb
    if [ -z "$a" ] || [ -z "$b" ]; then
        ROWS+=("| $case | ${a:-error} | ${b:-error} | — | $ttext | error |")
        return
    fi
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a / b}')
    verdict=$(awk -v r="$ratio" -v m="$max" 'BEGIN {print (m == "" ? "info" : (r <= m ? "pass" : "miss"))}')
    if [ "$unit" = s ]; then
        fa=$(awk -v x="$a" 'BEGIN {printf "%.3f s", x}')
        fb=$(awk -v x="$b" 'BEGIN {printf "%.3f s", x}')
    else
        fa=$(awk -v x="$a" 'BEGIN {printf "%.1f MiB", x}')
        fb=$(awk -v x="$b" 'BEGIN {printf "%.1f MiB", x}')
    fi
    ROWS+=("| $case | $fa | $fb | ${ratio}× | $ttext | $verdict |")
}

time_all() {
    local I D G Z
    I=$(q "$IMGSTAT")
    D=$(q "$OUT/docker.tar")
    G=$(q "$OUT/oci-gzip")
    Z=$(q "$OUT/oci-zstd")
    hf docker -n imgstat "$I $D" -n cat "cat $D >/dev/null" -n bsdtar "$(each docker 'bsdtar -tf')"
    hf oci-gzip -n imgstat "$I $G" -n imgstat-archive "$I $G.tar" \
        -n igzip "$(each oci-gzip 'igzip -dc')" -n bsdtar "$(each oci-gzip 'bsdtar -tf')"
    hf oci-zstd -n imgstat "$I $Z" -n imgstat-archive "$I $Z.tar" -n zstd "$(each oci-zstd 'zstd -dcq')"
    hf pipe-docker -n imgstat "cat $D | $I -" -n cat "cat $D | cat >/dev/null"
    hf pipe-gzip -n imgstat "cat $G.tar | $I -" -n imgstat-j1 "$I -j 1 $G.tar"

    row "docker-archive vs \`cat IMAGE\`" "$(median docker imgstat)" "$(median docker cat)" s 1.0 "≤ 1.0×"
    row "docker-archive vs \`bsdtar -tf\` each layer" "$(median docker imgstat)" "$(median docker bsdtar)" s 0.5 "≤ 0.5×"
    row "OCI gzip layout vs \`igzip -dc\` each layer" "$(median oci-gzip imgstat)" "$(median oci-gzip igzip)" s 1.0 "≤ 1.0×"
    row "OCI gzip layout vs \`bsdtar -tf\` each layer" "$(median oci-gzip imgstat)" "$(median oci-gzip bsdtar)" s 0.5 "≤ 0.5×"
    row "OCI zstd layout vs \`zstd -dc\` each layer" "$(median oci-zstd imgstat)" "$(median oci-zstd zstd)" s 1.0 "≤ 1.0×"
    row "\`cat docker.tar \| imgstat -\` vs \`cat \| cat\`" "$(median pipe-docker imgstat)" "$(median pipe-docker cat)" s 1.2 "≤ 1.2×"
    row "\`cat oci-gzip.tar \| imgstat -\` vs \`imgstat -j 1 oci-gzip.tar\`" "$(median pipe-gzip imgstat)" "$(median pipe-gzip imgstat-j1)" s 1.2 "≤ 1.2×"
    row "oci-gzip.tar (file) vs \`igzip -dc\` each layer" "$(median oci-gzip imgstat-archive)" "$(median oci-gzip igzip)" s "" "—"
    row "oci-zstd.tar (file) vs \`zstd -dc\` each layer" "$(median oci-zstd imgstat-archive)" "$(median oci-zstd zstd)" s "" "—"

    if [ "$HAVE_UMOCI" = 1 ]; then
        local U
        U=$(q "$OUT/.umoci-unpack")
        say "timing: umoci unpack ($UMOCI_RUNS run(s))"
        if hyperfine -S bash --warmup 0 --runs "$UMOCI_RUNS" --style basic --prepare "rm -rf $U" \
            --export-json "$RES/umoci.json" --export-csv "$RES/umoci.csv" \
            -n umoci "umoci unpack --rootless --image $G:latest $U" >>"$RES/hyperfine.log" 2>&1; then :; else
            say "umoci unpack failed (see $RES/hyperfine.log)"
            rm -f "$RES/umoci.csv"
        fi
        rm -rf "$OUT/.umoci-unpack"
        row "OCI gzip layout vs \`umoci unpack\`" "$(median oci-gzip imgstat)" "$(median umoci umoci)" s 0.02 "≥ 50× faster (≤ 0.02×)"
    fi
}

# ---- memory ---------------------------------------------------------------------------

peak_rss_mib() { # image -> peak RSS of imgstat in MiB (max of 2 runs), or empty
    local kb best=0 _
    for _ in 1 2; do
        kb=$(/usr/bin/time -v "$IMGSTAT" "$OUT/$1" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}')
        [ -n "$kb" ] || return 0
        [ "$kb" -gt "$best" ] && best=$kb
    done
    awk -v k="$best" 'BEGIN {printf "%.3f", k / 1024}'
}

memory_all() {
    local img paths target rss
    for img in many.tar docker.tar; do
        say "memory: $img"
        paths=$(tsv_field "$img" 5)
        target=$(awk -v p="$paths" 'BEGIN {printf "%.3f", (16 * 1048576 + 150 * p) / 1048576}')
        rss=$(peak_rss_mib "$img")
        row "peak RSS, $img ($paths paths) vs 16 MiB + 150 B/path" "$rss" "$target" MiB 1.0 "≤ 1.0×"
    done
}

# ---- report ---------------------------------------------------------------------------

machine() {
    local cpu
    cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
    echo "Machine: ${cpu:-unknown CPU}, $(nproc) CPUs online, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
    echo "imgstat: $("$IMGSTAT" --version 2>/dev/null | head -n 1 || true)"
    echo "Images: scale $SCALE; main image $(tsv_field docker.tar 8) bytes of file data, $(tsv_field docker.tar 5) paths in 4 layers; many.tar $(tsv_field many.tar 5) paths. Medians of $RUNS runs after 1 warmup, page cache warm. $(date -u +%Y-%m-%d)"
}

main() {
    check_tools
    find_binaries
    mkdir -p "$OUT"
    generate
    mkdir -p "$RES"
    : >"$RES/hyperfine.log"
    check_answers
    time_all
    memory_all
    {
        machine
        echo
        echo "| case | imgstat median | baseline median | ratio | target | verdict |"
        echo "|---|---:|---:|---:|---|---|"
        printf '%s\n' "${ROWS[@]}"
        echo
        echo "Correctness: $CHECK_OK of $((CHECK_OK + CHECK_BAD)) imgstat outputs equal expected.json (each image by path, with -j 1, and each tarball on stdin)."
    } | tee "$RES/table.md"
    [ "$CHECK_BAD" = 0 ]
}

main "$@"
