#!/usr/bin/env bash
# Page benchmark: how long `flakiness serve` takes to answer its pages on large data.
#
#   bash bench/pages.sh [RUNS] [TESTS] [BIG_TESTS]     # default: 2000 400 20000
#
# Builds the release binaries, simulates a history of RUNS runs of TESTS tests in two
# environments (`flakiness-sim gen --scenario mixed`) and one run of BIG_TESTS tests in one
# environment, uploads them all with `flakiness upload` to a new `flakiness serve` on loopback,
# then times each page over HTTP (curl's total time on loopback: the server's work), as the
# median of TIMES requests (default 5) after one unmeasured request:
#
#   projects     /                            (each project with its last run)
#   overview     /ORG/PROJECT                 (counts, charts, newly flaky, patterns, last runs)
#   runs         /ORG/PROJECT/runs            (the first page of the run list)
#   runs-failed  /ORG/PROJECT/runs?status=failed&env=windows
#   flaky        /ORG/PROJECT/flaky           (ranked list, strips, trend, quarantine)
#   test         /ORG/PROJECT/tests/ID        (the first flaky test's page: charts over every run)
#   test-page-10 /ORG/PROJECT/tests/ID?page=10
#   run          /ORG/PROJECT/runs/KEY        (the newest run of the history)
#   compare      /ORG/PROJECT/runs/A/compare/B (the two newest runs)
#   big-run      /big/run/runs/KEY            (the run of BIG_TESTS tests, read from its blob)
#
# Each page is also timed once right after a restart of the server (cold: nothing cached, the
# history and the analysis are computed for that request). The size of each page is printed.
# Needs curl.

set -uo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

RUNS=${1:-2000}
TESTS=${2:-400}
BIG=${3:-20000}
TIMES=${TIMES:-5}
OUT=bench/out/pages
FLAKINESS=$PWD/target/release/flakiness
SIM=$PWD/target/release/flakiness-sim

cargo build --release -p flakiness-cli -p flakiness-sim >&2 || exit 1
mkdir -p "$OUT"
HIST=$OUT/h$RUNS-$TESTS
if [ ! -d "$HIST/dirs" ]; then
    rm -rf "$HIST"
    "$SIM" gen --scenario mixed --runs "$RUNS" --tests "$TESTS" --seed 11 --out "$HIST" >/dev/null || exit 1
    mkdir -p "$HIST/dirs"
    for f in "$HIST"/reports/run-*.json; do
        d=$HIST/dirs/$(basename "$f" .json)
        mkdir -p "$d" && ln -sf "$PWD/$f" "$d/report.json"
    done
fi
BIGDIR=$OUT/big$BIG
if [ ! -f "$BIGDIR/dir/report.json" ]; then
    rm -rf "$BIGDIR"
    "$SIM" gen --scenario mixed --runs 1 --tests "$BIG" --environments linux --seed 12 --out "$BIGDIR" >/dev/null || exit 1
    mkdir -p "$BIGDIR/dir" && cp "$BIGDIR/reports/run-0000.json" "$BIGDIR/dir/report.json"
fi

# shellcheck source=bench/measure.sh
source "$(dirname "${BASH_SOURCE[0]}")/measure.sh"
scratch

DATA=$TMP/data

T1=$("$FLAKINESS" serve --data "$DATA" token create --project bench/pages 2>/dev/null) || exit 1
T2=$("$FLAKINESS" serve --data "$DATA" token create --project big/run 2>/dev/null) || exit 1
start_server "$DATA" || { echo "the server did not start" >&2; exit 1; }
echo "uploading $RUNS runs of $TESTS tests and one of $BIG tests to $BASE ..." >&2
started=$(date +%s.%N)
ls -d "$HIST"/dirs/run-* | xargs -P 2 -n 100 env FLAKINESS_ENDPOINT="$BASE" FLAKINESS_ACCESS_TOKEN="$T1" \
    "$FLAKINESS" upload --project bench/pages >/dev/null 2>"$TMP/upload.log" || { tail -n 3 "$TMP/upload.log" >&2; exit 1; }
FLAKINESS_ENDPOINT="$BASE" FLAKINESS_ACCESS_TOKEN="$T2" "$FLAKINESS" upload --project big/run "$BIGDIR/dir" >"$TMP/big.url" 2>/dev/null || exit 1
echo "uploaded in $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" >&2

# time_page LABEL PATH: a table row: median time (ms) of TIMES requests, and the page's size.
time_page() {
    local label=$1 path=$2 i times=()
    curl -s -o /dev/null "$BASE$path"
    for ((i = 0; i < TIMES; i++)); do
        times+=("$(curl -s -o "$TMP/page" -w '%{time_total}' "$BASE$path" | awk '{ printf "%.1f", $1 * 1000 }')")
    done
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$path")
    printf '| %s | `%s` | %s | %s ms | %s KB |' "$label" "$path" "$code" \
        "$(printf '%s\n' "${times[@]}" | median)" "$(($(stat -c %s "$TMP/page") / 1024))"
}

P=/bench/pages
TEST=$(curl -s "$BASE$P/flaky" | grep -o "href=\"$P/tests/[0-9]*\"" | head -n 1 | cut -d'"' -f2)
RUN=$(curl -s "$BASE$P/runs" | grep -o "href=\"$P/runs/[^\"]*\"" | head -n 1 | cut -d'"' -f2)
PREV=$(curl -s "$BASE$P/runs" | grep -o "href=\"$P/runs/[^\"]*\"" | sed -n 2p | cut -d'"' -f2)
BIGRUN=$(grep -o '/big/run/runs/[^ ]*' "$TMP/big.url" | head -n 1)
COMPARE=$PREV/compare/${RUN##*/}

PAGES=(
    "projects /"
    "overview $P"
    "runs $P/runs"
    "runs-failed $P/runs?status=failed&env=windows"
    "flaky $P/flaky"
    "test $TEST"
    "test-page-10 $TEST?page=10"
    "run $RUN"
    "compare $COMPARE"
    "big-run $BIGRUN"
)

echo "## pages: $RUNS runs x $TESTS tests x 2 environments, and a run of $BIG tests ($(nproc) CPUs, medians of $TIMES)"
echo
echo "| page | path | status | cached | size | cold |"
echo "|---|---|---:|---:|---:|---:|"
ms() { curl -s -o /dev/null -w '%{time_total}' "$1" | awk '{ printf "%.1f", $1 * 1000 }'; }
for entry in "${PAGES[@]}"; do
    label=${entry%% *} path=${entry#* }
    # Cold: the first view right after a restart, nothing cached (the run list, the history
    # and the analysis are computed for that request).
    kill "$SERVER" && wait "$SERVER" 2>/dev/null
    start_server "$DATA" || exit 1
    cold=$(ms "$BASE$path")
    row=$(time_page "$label" "$path")
    echo "$row $cold ms |"
done
