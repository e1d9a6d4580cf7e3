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
#   runs        /ORG/PROJECT                 (the first page of the run list)
#   runs-failed /ORG/PROJECT?status=failed&env=windows
#   flaky       /ORG/PROJECT/flaky           (ranked list, strips, trend, quarantine)
#   test        /ORG/PROJECT/tests/ID        (the first flaky test's page)
#   run         /ORG/PROJECT/runs/KEY        (one run of the history)
#   big-run     /big/run/runs/KEY            (the run of BIG_TESTS tests, read from its blob)
#
# It also times the first view of a project right after a restart (nothing cached: the run
# list and the analysis are computed for that request), and prints the size of each page.
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
    printf '| %s | `%s` | %s | %s ms | %s KB |\n' "$label" "$path" "$code" \
        "$(printf '%s\n' "${times[@]}" | median)" "$(($(stat -c %s "$TMP/page") / 1024))"
}

# The first view after a restart: nothing cached.
kill "$SERVER" && wait "$SERVER" 2>/dev/null
start_server "$DATA" || exit 1
ms() { curl -s -o /dev/null -w '%{time_total}' "$1" | awk '{ printf "%.1f", $1 * 1000 }'; }
COLD_RUNS=$(ms "$BASE/bench/pages")
COLD_FLAKY=$(ms "$BASE/bench/pages/flaky")

P=/bench/pages
TEST=$(curl -s "$BASE$P/flaky" | grep -o "href=\"$P/tests/[0-9]*\"" | head -n 1 | cut -d'"' -f2)
RUN=$(curl -s "$BASE$P" | grep -o "href=\"$P/runs/[^\"]*\"" | head -n 1 | cut -d'"' -f2)
BIGRUN=$(grep -o '/big/run/runs/[^ ]*' "$TMP/big.url" | head -n 1)

echo "## pages: $RUNS runs x $TESTS tests x 2 environments, and a run of $BIG tests ($(nproc) CPUs, medians of $TIMES)"
echo
echo "| page | path | status | time | size |"
echo "|---|---|---:|---:|---:|"
time_page runs "$P"
time_page runs-failed "$P?status=failed&env=windows"
time_page flaky "$P/flaky"
time_page test "$TEST"
time_page run "$RUN"
time_page big-run "$BIGRUN"
echo
echo "First views after a restart (nothing cached): runs list ${COLD_RUNS} ms, flaky tests ${COLD_FLAKY} ms."
