#!/usr/bin/env bash
# bench/smoke.sh IMGSTAT MKBENCH: the benchmark's generator at a tiny size.
# Runs mkbench --scale 0.001 into a temporary directory and checks imgstat's
# answer for every image against the generator's expected.json: by path, with
# -j 1, and each tarball on stdin. Prints "N passed, N failed"; exits 1 on failure.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: smoke.sh IMGSTAT MKBENCH" >&2
    exit 2
fi
IMGSTAT=$1
MKBENCH=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgstat-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

if ! "$MKBENCH" --scale 0.001 "$TMP" >/dev/null 2>"$TMP/mkbench.err"; then
    cat "$TMP/mkbench.err" >&2
    echo "mkbench failed"
    echo "0 passed, 1 failed"
    exit 1
fi

pass=0
failed=0
check() { # label "N M" command...
    local label=$1 want=$2 got
    shift 2
    got=$("$@" 2>"$TMP/err" | tr -d ' \n\t' |
        sed -n 's/.*"total_files_num":\([0-9]*\).*"total_files_size":\([0-9]*\).*/\1 \2/p') || got=""
    if [ "$got" = "$want" ]; then
        pass=$((pass + 1))
        echo "ok   $label"
    else
        failed=$((failed + 1))
        echo "FAIL $label: got '${got:-no answer}', expected '$want'"
        sed 's/^/     /' "$TMP/err" | head -n 5
    fi
}

# images.tsv: name path bytes layers paths files_num files_size data_bytes
while IFS=$'\t' read -r name _ _ _ _ n s _; do
    [ "$name" = name ] && continue
    check "$name" "$n $s" "$IMGSTAT" "$TMP/$name"
    check "$name -j 1" "$n $s" "$IMGSTAT" -j 1 "$TMP/$name"
    # shellcheck disable=SC2016 # $1 and $2 belong to the inner sh
    case "$name" in
    *.tar) check "$name on stdin" "$n $s" sh -c '"$1" - <"$2"' _ "$IMGSTAT" "$TMP/$name" ;;
    esac
done <"$TMP/images.tsv"

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
