# What bench/run.sh and bench/junit.sh share; sourced by them (`source "$(dirname "$0")/common.sh"`),
# not run. Sets the shell options, moves to the root of the repository and defines the paths, the
# result arrays and the steps both scripts take: checking the sizes and the tools, building,
# generating the inputs, measuring, and printing the table rows and the n/a notes.
#
# The scripts define TOOLS (the tools, in table order) and LABEL (TOOL -> label) before measuring.
# Needs bash >= 5, GNU time at /usr/bin/time, awk and cargo.

set -uo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

PROG=$(basename "$0")
TIME=/usr/bin/time
OUT=bench/out
FLAKINESS=target/release/flakiness
BENCH=target/release/flakiness-bench

# Filled by measure, per KEY (SIZE:TOOL): median wall seconds, RSS KiB (see RSS_STAT), number of
# measured runs, or why the tool is n/a.
declare -A WALL=() RSS=() COUNT=() NOTE=()
# RSS[KEY]: the median (median) or the largest (max) of the peak RSS of the measured runs.
RSS_STAT=median

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# parse_sizes [SIZES...]: fills SIZES (default 1 20 200), or exits 2 on a size that is not a
# number of MB.
parse_sizes() {
    SIZES=("$@")
    if [ ${#SIZES[@]} -eq 0 ]; then
        SIZES=(1 20 200)
    fi
    local s
    for s in "${SIZES[@]}"; do
        if ! [[ "$s" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
            echo "$PROG: size '$s' is not a number of MB" >&2
            exit 2
        fi
    done
}

# require_timing: exits 1 without GNU time at $TIME or without bash >= 5 ($EPOCHREALTIME).
require_timing() {
    if [ ! -x "$TIME" ]; then
        echo "$PROG: GNU time is required at $TIME (apt-get install time)" >&2
        exit 1
    fi
    if [ -z "${EPOCHREALTIME:-}" ]; then
        echo "$PROG: bash >= 5 is required (EPOCHREALTIME)" >&2
        exit 1
    fi
}

# build_release WHAT_IS_LOST: builds the release binaries of flakiness-cli and flakiness-bench, or
# of flakiness-bench alone (saying WHAT_IS_LOST) when flakiness-cli does not build; exits 1 when
# flakiness-bench does not build either.
build_release() {
    echo "== building release binaries" >&2
    if ! cargo build --release -p flakiness-cli -p flakiness-bench >&2; then
        echo "$PROG: building flakiness-cli failed; building flakiness-bench alone ($1)" >&2
        cargo build --release -p flakiness-bench >&2 || exit 1
    fi
}

# generate_inputs SUBCOMMAND FORMAT [MADE]: for each size S, with P = printf FORMAT S, runs
# `$BENCH SUBCOMMAND --size-mb S --out P [GEN_ARGS...]` unless the file P followed by MADE
# exists; exits 1 when that fails. GEN_ARGS (an array, optional) holds more generator options.
generate_inputs() {
    local subcommand=$1 format=$2 made=${3:-} s path
    mkdir -p "$OUT"
    for s in "${SIZES[@]}"; do
        # shellcheck disable=SC2059 # FORMAT is the pattern of the paths
        printf -v path "$format" "$s"
        if [ ! -f "$path$made" ]; then
            echo "== generating $path" >&2
            "$BENCH" "$subcommand" --size-mb "$s" --out "$path" ${GEN_ARGS[@]+"${GEN_ARGS[@]}"} >&2 || exit 1
        fi
    done
}

# is_big SIZE: whether SIZE (MB) is 100 or more.
is_big() {
    awk -v s="$1" 'BEGIN { exit !(s >= 100) }'
}

# median: the median of the numbers on stdin.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# failed KEY RC: NOTE[KEY] = exit status RC and the first line of the last run's stderr.
failed() {
    NOTE[$1]="exit $2: $(grep -m1 -v '^[[:space:]]*$' "$TMP/stderr" | cut -c1-240)"
}

# measure KEY RUNS WARMUP ONCE_AFTER CLEAN CMD... : fills WALL[KEY] (median seconds), RSS[KEY]
# (peak KiB, see RSS_STAT) and COUNT[KEY] (runs), or NOTE[KEY]. With WARMUP=1, one unmeasured run
# first (which also checks that the tool works). CLEAN (unless empty) is removed before every run;
# with ONCE_AFTER > 0, a first run slower than that many seconds is the only one.
measure() {
    local key=$1 runs=$2 warmup=$3 once_after=$4 clean=$5
    shift 5
    local err="$TMP/stderr" tf="$TMP/time" walls=() rsss=() i t0 t1 rc wall
    if [ "$warmup" = 1 ]; then
        [ -z "$clean" ] || rm -rf "$clean"
        "$@" >/dev/null 2>"$err"
        rc=$?
        if [ $rc -ne 0 ]; then
            failed "$key" $rc
            return
        fi
    fi
    for ((i = 0; i < runs; i++)); do
        [ -z "$clean" ] || rm -rf "$clean"
        t0=$EPOCHREALTIME
        "$TIME" -f '%e %M' -o "$tf" "$@" >/dev/null 2>"$err"
        rc=$?
        t1=$EPOCHREALTIME
        if [ $rc -ne 0 ]; then
            failed "$key" $rc
            return
        fi
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
        walls+=("$wall")
        rsss+=("$(tail -n1 "$tf" | awk '{ print $2 }')")
        if [ "$once_after" != 0 ] && [ "$i" -eq 0 ] && [ "$runs" -gt 1 ] &&
            awk -v w="$wall" -v l="$once_after" 'BEGIN { exit !(w > l) }'; then
            echo "   $key: first run took ${wall} s (> ${once_after} s): 1 run only" >&2
            break
        fi
    done
    WALL[$key]=$(printf '%s\n' "${walls[@]}" | median)
    if [ "$RSS_STAT" = max ]; then
        RSS[$key]=$(printf '%s\n' "${rsss[@]}" | sort -g | tail -n1)
    else
        RSS[$key]=$(printf '%s\n' "${rsss[@]}" | median)
    fi
    COUNT[$key]=${#walls[@]}
}

# ratio A B: A / B with 2 decimals, or n/a.
ratio() {
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
    else
        echo "n/a"
    fi
}

# print_machine: the machine line, between blank lines.
print_machine() {
    echo
    echo "Machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //') ($(nproc) CPUs)," \
        "node $(node --version 2>/dev/null || echo n/a), commit $(git rev-parse --short HEAD 2>/dev/null || echo n/a)"
    echo
}

# table_rows FORMAT RUNS_COLUMN BASELINE COMPARED... : the table rows, one a size and tool, for
# the inputs printf FORMAT SIZE: size, tool, runs (COUNT; only with RUNS_COLUMN=1), median wall
# s, MB/s, RSS MB, RSS / input, then for the COMPARED tools official / TOOL and TOOL / BASELINE.
table_rows() {
    local format=$1 runs_column=$2 baseline=$3
    shift 3
    local s file bytes size tool key wall runs wall_s mbs rss_mb rss_ratio vs_official vs_baseline
    for s in "${SIZES[@]}"; do
        # shellcheck disable=SC2059 # FORMAT is the pattern of the paths
        printf -v file "$format" "$s"
        bytes=$(stat -c %s "$file")
        size=$(awk -v b="$bytes" -v s="$s" 'BEGIN { printf "%s MB (%.2f)", s, b / 1e6 }')
        for tool in "${TOOLS[@]}"; do
            key="$s:$tool"
            wall=${WALL[$key]:-}
            runs=""
            if [ "$runs_column" = 1 ]; then
                runs=" ${COUNT[$key]:-0} |"
            fi
            if [ -z "$wall" ]; then
                echo "| $size | ${LABEL[$tool]} |$runs n/a | n/a | n/a | n/a | | |"
                continue
            fi
            read -r wall_s mbs rss_mb rss_ratio < <(awk -v w="$wall" -v b="$bytes" -v k="${RSS[$key]}" \
                'BEGIN { printf "%.3f %.1f %.1f %.2f\n", w, (w > 0 ? b / 1e6 / w : 0), k * 1024 / 1e6, k * 1024 / b }')
            vs_official="" vs_baseline=""
            if [[ " $* " == *" $tool "* ]]; then
                vs_official=$(ratio "${WALL[$s:official]:-}" "$wall")
                vs_baseline=$(ratio "$wall" "${WALL[$s:$baseline]:-}")
            fi
            echo "| $size | ${LABEL[$tool]} |$runs $wall_s | $mbs | $rss_mb | $rss_ratio | $vs_official | $vs_baseline |"
        done
    done
}

# print_notes: why each n/a tool is n/a, if any is.
print_notes() {
    local s tool
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
}
