#!/usr/bin/env bash
# Validation benchmark of Flakiness reports.
#
#   bash bench/run.sh [SIZES...]        # sizes of report.json in MB (10^6 bytes); default: 1 20 200
#
# Builds the release binaries, generates deterministic reports into bench/out/<N>MB (only when
# missing: delete bench/out to regenerate them), then measures in this one run, for each size:
#
#   (a) ours         target/release/flakiness validate bench/out/<N>MB
#   (b) jsonschema   target/release/flakiness validate --engine jsonschema bench/out/<N>MB
#   (c) official     node bench/zod-validate.mjs bench/out/<N>MB/report.json   (JSON.parse + Zod)
#   (d) ignored-any  target/release/flakiness-bench ignored-any bench/out/<N>MB/report.json
#
# Wall time: median of 5 runs (3 runs for sizes >= 100 MB), measured around each process with
# bash's $EPOCHREALTIME (microseconds), after one unmeasured warm-up run. Peak RSS: the largest
# maximum resident set size reported by `/usr/bin/time -f '%e %M'` over the measured runs.
# A tool that fails (missing command, exit status not 0) is reported as n/a with its error.
# Needs bash >= 5, GNU time at /usr/bin/time, awk, cargo and node; not hyperfine.

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

parse_sizes "$@"
require_timing
build_release "(a) and (b) may be n/a"
generate_inputs gen "$OUT/%sMB" /report.json

RSS_STAT=max # peak RSS: the largest over the measured runs

TOOLS=(ours jsonschema official ignored-any)
declare -A LABEL=(
    [ours]="(a) ours: flakiness validate"
    [jsonschema]="(b) flakiness validate --engine jsonschema"
    [official]="(c) official: node zod-validate.mjs"
    [ignored-any]="(d) serde_json IgnoredAny"
)

for s in "${SIZES[@]}"; do
    dir="$OUT/${s}MB"
    file="$dir/report.json"
    runs=5
    if is_big "$s"; then
        runs=3
    fi
    echo "== measuring ${s} MB ($runs runs each)" >&2
    # KEY RUNS WARMUP ONCE_AFTER CLEAN CMD...
    measure "$s:ours" "$runs" 1 0 "" "$FLAKINESS" validate "$dir"
    measure "$s:jsonschema" "$runs" 1 0 "" "$FLAKINESS" validate --engine jsonschema "$dir"
    measure "$s:official" "$runs" 1 0 "" node bench/zod-validate.mjs "$file"
    measure "$s:ignored-any" "$runs" 1 0 "" "$BENCH" ignored-any "$file"
done

print_machine
echo "| size | tool | median wall s | MB/s | peak RSS MB | RSS / file | official / ours | ours / ignored-any |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
table_rows "$OUT/%sMB/report.json" 0 ignored-any ours jsonschema
echo
echo "MB = 10^6 bytes; MB/s = report.json size / median wall time; RSS / file = peak RSS / report.json size."
echo "official / ours = official median / this row's median (higher: this row is faster than the official path);"
echo "ours / ignored-any = this row's median / bare serde_json median (1.00: as fast as parsing alone)."
echo "Row (b) shows the same ratios with the jsonschema engine in place of ours."

print_notes
