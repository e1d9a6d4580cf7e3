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
# before finish answers), then runs the clients in turn, round by round (one warm-up round,
# then RUNS measured ones, default 3):
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

# once KEY CMD...: a fresh server, then one run of CMD; from the second round on (the first
# warms up), appends "wall_s rss_kib" to $TMP/KEY.runs; a failure is kept in $TMP/KEY.failed.
once() {
    local key=$1
    shift
    [ -f "$TMP/$key.failed" ] && return
    if ! fresh_server; then
        echo "setup failed" >"$TMP/$key.failed"
        return
    fi
    if /usr/bin/time -o "$TMP/time" -f '%e %M' "$@" >"$TMP/stdout" 2>"$TMP/stderr"; then
        [ "$ROUND" -gt 0 ] && tail -n 1 "$TMP/time" >>"$TMP/$key.runs"
    else
        tail -n 1 "$TMP/stderr" >"$TMP/$key.failed"
    fi
}

# row LABEL KEY: the table row of KEY: median wall, throughput, median peak RSS; sets LAST to
# the median wall (0 when it failed).
row() {
    LAST=0
    if [ -f "$TMP/$2.failed" ]; then
        printf '| %s | n/a: %s | | |\n' "$1" "$(cat "$TMP/$2.failed")"
        return
    fi
    LAST=$(cut -d' ' -f1 "$TMP/$2.runs" | median)
    local rss
    rss=$(cut -d' ' -f2 "$TMP/$2.runs" | median | awk '{ printf "%.0f", $1 / 1024 }')
    printf '| %s | %s s | %s MB/s | %s MB |\n' "$1" "$LAST" \
        "$(awk -v b="$BYTES" -v w="$LAST" 'BEGIN { printf "%.1f", b / 1e6 / w }')" "$rss"
}

# The clients alternate round by round (this machine is shared and noisy): ours with zstd,
# the official SDK, ours with brotli; one warm-up round, then RUNS measured ones.
for ((ROUND = 0; ROUND <= RUNS; ROUND++)); do
    once zstd "$FLAKINESS" upload "$DIR"
    once official node .ci/conformance/sdk-upload.mjs "$DIR"
    once br "$FLAKINESS" upload "$DIR" --no-zstd
done

echo "## upload benchmark: $(du -sm "$DIR/report.json" | cut -f1) MB report.json, $(find "$DIR/attachments" -type f | wc -l) attachment files, to flakiness serve on loopback ($(nproc) CPUs, medians of $RUNS, clients alternating)"
echo
echo "| client | wall | throughput | peak RSS |"
echo "|---|---:|---:|---:|"
row "flakiness upload (zstd)" zstd
OURS=$LAST
row "flakiness upload --no-zstd (br)" br
row "official SDK uploadReport (br)" official
THEIRS=$LAST
echo "| official / ours (zstd) | $(awk -v a="$THEIRS" -v b="$OURS" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }') | | |"
echo
echo "| report.json compression | bytes | ratio | time |"
echo "|---|---:|---:|---:|"
target/release/flakiness-bench compress "$DIR/report.json" |
    awk -F'\t' '{ printf "| %s | %d -> %d | %.2f | %.3f s |\n", $1, $2, $3, $4, $5 }'
