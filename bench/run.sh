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

set -uo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

SIZES=("$@")
if [ ${#SIZES[@]} -eq 0 ]; then
    SIZES=(1 20 200)
fi
for s in "${SIZES[@]}"; do
    if ! [[ "$s" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
        echo "run.sh: size '$s' is not a number of MB" >&2
        exit 2
    fi
done

TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
    echo "run.sh: GNU time is required at $TIME (apt-get install time)" >&2
    exit 1
fi
if [ -z "${EPOCHREALTIME:-}" ]; then
    echo "run.sh: bash >= 5 is required (EPOCHREALTIME)" >&2
    exit 1
fi

echo "== building release binaries" >&2
if ! cargo build --release -p flakiness-cli -p flakiness-bench >&2; then
    echo "run.sh: building flakiness-cli failed; building flakiness-bench alone ((a) and (b) may be n/a)" >&2
    cargo build --release -p flakiness-bench >&2 || exit 1
fi
FLAKINESS=target/release/flakiness
BENCH=target/release/flakiness-bench

OUT=bench/out
mkdir -p "$OUT"
for s in "${SIZES[@]}"; do
    dir="$OUT/${s}MB"
    if [ ! -f "$dir/report.json" ]; then
        echo "== generating $dir" >&2
        "$BENCH" gen --size-mb "$s" --out "$dir" >&2 || exit 1
    fi
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

declare -A WALL=() RSS=() NOTE=()

# measure KEY RUNS CMD... : fills WALL[KEY] (median seconds) and RSS[KEY] (peak KiB), or NOTE[KEY].
measure() {
    local key=$1 runs=$2
    shift 2
    local err="$TMP/stderr" tf="$TMP/time" walls=() peak=0 i t0 t1 rc rss
    # Warm-up (also checks that the tool works).
    "$@" >/dev/null 2>"$err"
    rc=$?
    if [ $rc -ne 0 ]; then
        NOTE[$key]="exit $rc: $(grep -m1 -v '^[[:space:]]*$' "$err" | cut -c1-240)"
        return
    fi
    for ((i = 0; i < runs; i++)); do
        t0=$EPOCHREALTIME
        "$TIME" -f '%e %M' -o "$tf" "$@" >/dev/null 2>"$err"
        rc=$?
        t1=$EPOCHREALTIME
        if [ $rc -ne 0 ]; then
            NOTE[$key]="exit $rc: $(grep -m1 -v '^[[:space:]]*$' "$err" | cut -c1-240)"
            return
        fi
        walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
        rss=$(tail -n1 "$tf" | awk '{ print $2 }')
        if [ "$rss" -gt "$peak" ]; then
            peak=$rss
        fi
    done
    WALL[$key]=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    RSS[$key]=$peak
}

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
    if awk -v s="$s" 'BEGIN { exit !(s >= 100) }'; then
        runs=3
    fi
    echo "== measuring ${s} MB ($runs runs each)" >&2
    measure "$s:ours" "$runs" "$FLAKINESS" validate "$dir"
    measure "$s:jsonschema" "$runs" "$FLAKINESS" validate --engine jsonschema "$dir"
    measure "$s:official" "$runs" node bench/zod-validate.mjs "$file"
    measure "$s:ignored-any" "$runs" "$BENCH" ignored-any "$file"
done

# ratio A B: A / B with 2 decimals, or n/a.
ratio() {
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
    else
        echo "n/a"
    fi
}

echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') ($(nproc) CPUs)," \
    "node $(node --version 2>/dev/null || echo n/a), commit $(git rev-parse --short HEAD 2>/dev/null || echo n/a)"
echo
echo "| size | tool | median wall s | MB/s | peak RSS MB | RSS / file | official / ours | ours / ignored-any |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for s in "${SIZES[@]}"; do
    file="$OUT/${s}MB/report.json"
    bytes=$(stat -c %s "$file")
    size=$(awk -v b="$bytes" -v s="$s" 'BEGIN { printf "%s MB (%.2f)", s, b / 1e6 }')
    for tool in "${TOOLS[@]}"; do
        key="$s:$tool"
        wall=${WALL[$key]:-}
        if [ -z "$wall" ]; then
            echo "| $size | ${LABEL[$tool]} | n/a | n/a | n/a | n/a | | |"
            continue
        fi
        kb=${RSS[$key]}
        read -r wall_s mbs rss_mb rss_ratio < <(awk -v w="$wall" -v b="$bytes" -v k="$kb" \
            'BEGIN { printf "%.3f %.1f %.1f %.2f\n", w, (w > 0 ? b / 1e6 / w : 0), k * 1024 / 1e6, k * 1024 / b }')
        vs_official="" vs_ignored=""
        if [ "$tool" = ours ] || [ "$tool" = jsonschema ]; then
            vs_official=$(ratio "${WALL[$s:official]:-}" "$wall")
            vs_ignored=$(ratio "$wall" "${WALL[$s:ignored-any]:-}")
        fi
        echo "| $size | ${LABEL[$tool]} | $wall_s | $mbs | $rss_mb | $rss_ratio | $vs_official | $vs_ignored |"
    done
done
echo
echo "MB = 10^6 bytes; MB/s = report.json size / median wall time; RSS / file = peak RSS / report.json size."
echo "official / ours = official median / this row's median (higher: this row is faster than the official path);"
echo "ours / ignored-any = this row's median / bare serde_json median (1.00: as fast as parsing alone)."
echo "Row (b) shows the same ratios with the jsonschema engine in place of ours."

if [ ${#NOTE[@]} -gt 0 ]; then
    echo
    echo "n/a:"
    for s in "${SIZES[@]}"; do
        for tool in "${TOOLS[@]}"; do
            if [ -n "${NOTE[$s:$tool]:-}" ]; then
                echo "- ${s} MB, ${LABEL[$tool]}: ${NOTE[$s:$tool]}"
            fi
        done
    done
fi
