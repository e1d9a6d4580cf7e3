#!/usr/bin/env bash
# Upload benchmark: `flakiness upload` against the official Node SDK (`@flakiness/sdk`
# `uploadReport`), both to `flakiness serve` on loopback, in one run.
#
#   bash bench/upload.sh [SIZE_MB] [ATTACHMENTS]      # default: 200 1000
#
# Builds the release binaries, generates bench/out/upload/r<SIZE>-<ATTACHMENTS>/ with
# `flakiness-bench gen --size-mb SIZE --attachments ATTACHMENTS` when missing, installs the SDK
# (`npm ci --prefix .ci/conformance`) when missing, starts `flakiness serve` on a free port with
# a new, empty data folder and token before every upload (each one is a first upload, ingested
# before finish answers), then measures RUNS times each (default 3, after one warm-up):
#
#   ours, zstd    flakiness upload DIR --endpoint URL           (our server offers zstd)
#   ours, br      flakiness upload DIR --endpoint URL --no-zstd
#   official      node .ci/conformance/sdk-upload.mjs DIR          (brotli quality 6)
#
# and prints median wall time, throughput (report + attachments bytes / s) and peak RSS, and the
# compression of report.json alone (`flakiness-bench compress`: ratio and time, br vs zstd).
# Needs GNU time at /usr/bin/time, node and npm.

set -uo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

SIZE=${1:-200}
COUNT=${2:-1000}
RUNS=${RUNS:-3}
TIME=/usr/bin/time
OUT=bench/out/upload
DIR=$OUT/r$SIZE-$COUNT
FLAKINESS=$PWD/target/release/flakiness

cargo build --release -p flakiness-cli -p flakiness-bench >&2 || exit 1
mkdir -p "$OUT"
if [ ! -f "$DIR/report.json" ]; then
    target/release/flakiness-bench gen --size-mb "$SIZE" --attachments "$COUNT" --out "$DIR" >&2 || exit 1
fi
if [ ! -f .ci/conformance/node_modules/@flakiness/sdk/package.json ]; then
    npm ci --prefix .ci/conformance --no-audit --no-fund --loglevel=error >&2 || exit 1
fi

# shellcheck source=bench/measure.sh
source "$(dirname "${BASH_SOURCE[0]}")/measure.sh"
scratch

# fresh_server: a new `flakiness serve` with an empty data folder, so that every upload is a
# first upload (the server validates, parses and ingests the report before finish answers);
# exports FLAKINESS_ENDPOINT and FLAKINESS_ACCESS_TOKEN for it.
N=0
fresh_server() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    N=$((N + 1))
    local data=$TMP/data-$N
    rm -rf "$TMP/data-$((N - 1))"
    FLAKINESS_ACCESS_TOKEN=$("$FLAKINESS" serve --data "$data" token create --project "${PROJECT:-bench/upload}" 2>/dev/null) || return 1
    start_server "$data" || return 1
    FLAKINESS_ENDPOINT=$BASE
    export FLAKINESS_ENDPOINT FLAKINESS_ACCESS_TOKEN
}

# The token is for the report's own project (both clients name it at start).
PROJECT=$(head -c 65536 "$DIR/report.json" | grep -o '"flakinessProject":"[^"]*"' | head -n 1 | cut -d'"' -f4)

BYTES=$(du -sb "$DIR/report.json" "$DIR/attachments" | awk '{ s += $1 } END { print s }')

# measure LABEL CMD...: a table row: wall, throughput, peak RSS (medians of RUNS).
measure() {
    local label=$1
    shift
    LAST=0
    if ! run_measured "$RUNS" fresh_server "$@"; then
        printf '| %s | n/a: %s | | |\n' "$label" "$FAILED"
        return
    fi
    LAST=$MEDIAN_WALL
    printf '| %s | %s s | %s MB/s | %s MB |\n' "$label" "$MEDIAN_WALL" \
        "$(awk -v b="$BYTES" -v w="$MEDIAN_WALL" 'BEGIN { printf "%.1f", b / 1e6 / w }')" "$MEDIAN_RSS_MB"
}

echo "## upload benchmark: $(du -sm "$DIR/report.json" | cut -f1) MB report.json, $(find "$DIR/attachments" -type f | wc -l) attachment files, to flakiness serve on loopback ($(nproc) CPUs, medians of $RUNS)"
echo
echo "| client | wall | throughput | peak RSS |"
echo "|---|---:|---:|---:|"
measure "flakiness upload (zstd)" "$FLAKINESS" upload "$DIR"
OURS=$LAST
measure "flakiness upload --no-zstd (br)" "$FLAKINESS" upload "$DIR" --no-zstd
measure "official SDK uploadReport (br)" node .ci/conformance/sdk-upload.mjs "$DIR"
THEIRS=$LAST
echo "| official / ours (zstd) | $(awk -v a="$THEIRS" -v b="$OURS" 'BEGIN { printf "%.1fx", a / b }') | | |"
echo
echo "| report.json compression | bytes | ratio | time |"
echo "|---|---:|---:|---:|"
target/release/flakiness-bench compress "$DIR/report.json" |
    awk -F'\t' '{ printf "| %s | %d -> %d | %.2f | %.3f s |\n", $1, $2, $3, $4, $5 }'
