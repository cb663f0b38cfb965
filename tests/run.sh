#!/usr/bin/env bash
# Run the whole test suite of one build directory and close with "N passed, N failed".
# usage: tests/run.sh [BUILDDIR]   (default: build; set up and built if missing)
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$build" >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
log=$(mktemp)
meson test -C "$build" --print-errorlogs --num-processes 2 "${@:2}" 2>&1 | tee "$log" | grep -E '^ *[0-9]+/[0-9]+ |FAIL|^N?[0-9]+ passed'
ok=$(awk '/^Ok:/ {print $NF}' "$log"); fail=$(awk '/^Fail:/ {print $NF}' "$log")
timeout=$(awk '/^Timeout:/ {print $NF}' "$log"); xpass=$(awk '/^Unexpected Pass:/ {print $NF}' "$log")
rm -f "$log"
failed=$(( ${fail:-1} + ${timeout:-0} + ${xpass:-0} ))
echo "${ok:-0} passed, ${failed} failed"
[ "$failed" -eq 0 ]
