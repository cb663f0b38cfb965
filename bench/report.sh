#!/usr/bin/env bash
# bench/report.sh: `imgstat report` on the benchmark's images (issue 12): the page's size,
# the time imgstat takes to write it, and the time headless Chromium takes to open it from
# disk and draw it.  See bench/README.md.
#
# Needs:     the images of bench/run.sh (generated here with mkbench when missing),
#            apt-get install chromium chromium-driver python3-selenium time
# Environment (all optional): IMGSTAT, MKBENCH, SCALE, BENCH_OUT as for run.sh;
#            RUNS  page loads per image (default 5; the median is printed)
#
# Prints a markdown table (also $BENCH_OUT/results/report.md).  Exit status 1 when a page
# cannot be written or drawn; a page over 5 MB or slower than 2 s is printed as "miss".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALE=${SCALE:-1}
OUT=${BENCH_OUT:-$ROOT/bench/out}
RUNS=${RUNS:-5}
IMGSTAT=${IMGSTAT:-$ROOT/build/cli/imgstat}
MKBENCH=${MKBENCH:-$ROOT/build/bench/mkbench}
PY=/usr/bin/python3

say() { printf 'report.sh: %s\n' "$*" >&2; }
fail() { printf 'report.sh: error: %s\n' "$*" >&2; exit 1; }

[ -x "$IMGSTAT" ] || fail "imgstat not found at $IMGSTAT (meson setup build && ninja -C build)"
[ -x "$MKBENCH" ] || fail "mkbench not found at $MKBENCH"
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
    fail "needs apt-get install chromium chromium-driver"
"$PY" -c 'import selenium' 2>/dev/null || fail "needs apt-get install python3-selenium"
[ -x /usr/bin/time ] || fail "needs GNU time (apt-get install time)"

want=$("$MKBENCH" --stamp --scale "$SCALE")
if ! { [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$want" ]; }; then
    say "generating images into $OUT (scale $SCALE)"
    "$MKBENCH" --scale "$SCALE" "$OUT" >/dev/null
fi
mkdir -p "$OUT/results"

# median of RUNS loads: [navigation start to drawn, script alone] in ms
load_times() {
    "$PY" - "$1" "$RUNS" <<'PYEOF'
import statistics, sys, tempfile, time
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
o = Options()
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--user-data-dir=" + tempfile.mkdtemp(prefix="imgstat-bench-"), "--window-size=1280,1400"):
    o.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
loaded, script = [], []
try:
    for _ in range(int(sys.argv[2])):
        d.get("about:blank")
        d.get("file://" + sys.argv[1])   # returns once the load event has fired
        state = d.execute_script("var e = document.documentElement;"
                                 "return [e.dataset.loaded, e.dataset.ready, e.dataset.error];")
        if not state[0] or state[2]:
            sys.exit("the page was not drawn: %r" % (state,))
        loaded.append(int(state[0]))
        script.append(int(state[1]))
finally:
    d.quit()
print(int(statistics.median(loaded)), int(statistics.median(script)))
PYEOF
}

{
    echo "| image | paths | page | written in | peak RSS | opened in (Chromium) | of which the script | ≤ 5 MB, ≤ 2 s |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    for img in docker.tar many.tar; do
        page=$OUT/results/report-${img%.tar}.html
        /usr/bin/time -f '%e %M' -o "$OUT/results/report.time" "$IMGSTAT" report -o "$page" "$OUT/$img" ||
            fail "imgstat report $img failed"
        read -r secs kb <"$OUT/results/report.time"
        bytes=$(stat -c %s "$page")
        paths=$(awk -F'\t' -v n="$img" '$1 == n {print $5}' "$OUT/images.tsv")
        read -r loaded script < <(load_times "$page") || fail "Chromium could not draw $page"
        verdict=pass
        { [ "$bytes" -le 5000000 ] && [ "$loaded" -le 2000 ]; } || verdict=miss
        printf '| %s | %s | %.2f MB | %.2f s | %.0f MiB | %d ms | %d ms | %s |\n' "$img" "$paths" \
            "$(echo "$bytes / 1000000" | bc -l)" "$secs" "$(echo "$kb / 1024" | bc -l)" \
            "$loaded" "$script" "$verdict"
    done
} | tee "$OUT/results/report.md"
