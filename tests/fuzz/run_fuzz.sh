#!/usr/bin/env bash
# Time-boxed fuzzing of one target, as CI does it (issue 5: 60 s per target under ASan/UBSan).
#
# usage: tests/fuzz/run_fuzz.sh TARGET SECONDS [BUILDDIR]
#   TARGET    layer | manifest | image | record | serve   (or fuzz_layer, ...)
#   SECONDS   wall time to fuzz
#   BUILDDIR  a build configured with -Dfuzz=true (default: build-fuzz, set up and built when
#             missing with CC=clang -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false)
#
# The corpus grows in BUILDDIR/fuzz-corpus/TARGET (seeded from tests/fuzz/seeds/TARGET and
# regress/TARGET, kept between runs); crashes, leaks, timeouts and OOMs are written to
# BUILDDIR/fuzz-artifacts/TARGET/.  Copy each into tests/fuzz/regress/TARGET/ once triaged.
# Environment: FUZZ_KEEP_GOING=1 continues past crashes (libFuzzer -fork=1 -ignore_crashes=1,
# for triage runs); FUZZ_JOBS=N with it runs N fuzzing processes; FUZZ_ARGS adds libFuzzer
# options.  The last line is "TARGET: N execs in S s (R execs/s), K crash/leak/timeout files";
# exit 0 when K is 0, 1 when something was found, 2 on a usage or build problem.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -lt 2 ]; then
  echo "usage: $0 TARGET SECONDS [BUILDDIR]" >&2
  exit 2
fi
target=${1#fuzz_}
secs=$2
build=${3:-$root/build-fuzz}
case $target in layer|manifest|image|record|serve) ;; *) echo "$0: unknown target '$1'" >&2; exit 2;; esac
case $secs in ''|*[!0-9]*) echo "$0: SECONDS must be a whole number" >&2; exit 2;; esac

if [ ! -f "$build/build.ninja" ]; then
  CC=${CC:-clang} meson setup "$build" "$root" -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null || { echo "$0: meson setup failed" >&2; exit 2; }
fi
ninja -C "$build" "tests/fuzz/fuzz_$target" >/dev/null || { echo "$0: build failed" >&2; exit 2; }
exe=$build/tests/fuzz/fuzz_$target
[ -x "$exe" ] || { echo "$0: $exe missing (is the build -Dfuzz=true?)" >&2; exit 2; }

corpus=$build/fuzz-corpus/$target
art=$build/fuzz-artifacts/$target
mkdir -p "$corpus" "$art"
log=$build/fuzz-$target.log
before=$(ls "$art" | wc -l)

# UBSan reports must stop the run (and become artifacts) like ASan's do.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
dict=()
[ -f "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")
mode=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
  mode=(-fork="${FUZZ_JOBS:-1}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

start=$(date +%s)
# shellcheck disable=SC2086
"$exe" "${mode[@]}" "${dict[@]}" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/" ${FUZZ_ARGS:-} \
  "$corpus" "$here/seeds/$target" "$here/regress/$target" >"$log" 2>&1
rc=$?
end=$(date +%s)

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
if [ -z "$execs" ]; then # fork mode, or a crash before the final stats: the last status line
  execs=$(grep -Eo '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
fi
execs=${execs:-0}
after=$(ls "$art" | wc -l)
found=$((after - before))
elapsed=$((end - start))
rate=$((execs / (elapsed > 0 ? elapsed : 1)))
if [ "$found" -gt 0 ] || { [ "$rc" -ne 0 ] && [ "${FUZZ_KEEP_GOING:-0}" != 1 ]; }; then
  grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|check failed' "$log" | sort | uniq -c | head -n 20
  echo "log: $log; artifacts: $art"
fi
echo "fuzz_$target: $execs execs in $elapsed s ($rate execs/s), $found crash/leak/timeout files"
[ "$found" -eq 0 ] && { [ "$rc" -eq 0 ] || [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; }
