#!/usr/bin/env bash
# JUnit conversion benchmark: `flakiness convert` against the official converter and a bare
# quick-xml event loop.
#
#   bash bench/junit.sh [SIZES...]     # sizes of the JUnit XML file in MB (10^6 bytes); default: 1 20 200
#
# Builds the release binaries, generates deterministic Surefire-style JUnit files into
# bench/out/junit-<N>MB.xml (only when missing: delete them to regenerate), installs the official
# converter (npm @flakiness/junit-xml, pinned below) into bench/out/node (only when missing), then
# measures in this one run, for each size:
#
#   (a) ours      target/release/flakiness convert FILE -o bench/out/junit-<N>MB.ours --commit-id C
#   (b) xml-loop  target/release/flakiness-bench xml-loop FILE     (read_event_into over a 64 KiB BufReader)
#   (c) official  node bench/out/node/node_modules/@flakiness/junit-xml/lib/cli.js FILE
#                     --output-dir bench/out/junit-<N>MB.official --commit-id C --disable-upload
#
# with C = 0123456789abcdef0123456789abcdef01234567. Output directories are removed before each
# run, outside the measurement. Each tool runs once unmeasured (warm-up, and a check that it
# works), then RUNS times (default 3). The official converter skips the warm-up for sizes >= 100 MB,
# and runs only once when its first measured run takes more than OFFICIAL_ONCE_AFTER seconds
# (default 120); the table says so.
#
# Wall time: median, measured around each process with bash's $EPOCHREALTIME (microseconds).
# Peak RSS: median of the maximum resident set sizes reported by `/usr/bin/time -f '%e %M'`.
# A tool that fails (missing command, exit status not 0) is reported as n/a with its error.
#
# Environment: RUNS (default 3), SKIP_OFFICIAL=1 (skip (c)), OFFICIAL_ONCE_AFTER (seconds).
# Needs bash >= 5, GNU time at /usr/bin/time, awk, cargo; node and npm for (c) (skipped without).

set -uo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

OFFICIAL_PACKAGE=@flakiness/junit-xml
OFFICIAL_VERSION=1.4.0
COMMIT=0123456789abcdef0123456789abcdef01234567
RUNS=${RUNS:-3}
OFFICIAL_ONCE_AFTER=${OFFICIAL_ONCE_AFTER:-120}

SIZES=("$@")
if [ ${#SIZES[@]} -eq 0 ]; then
    SIZES=(1 20 200)
fi
for s in "${SIZES[@]}"; do
    if ! [[ "$s" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
        echo "junit.sh: size '$s' is not a number of MB" >&2
        exit 2
    fi
done
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
    echo "junit.sh: RUNS='$RUNS' is not a positive integer" >&2
    exit 2
fi

TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
    echo "junit.sh: GNU time is required at $TIME (apt-get install time)" >&2
    exit 1
fi
if [ -z "${EPOCHREALTIME:-}" ]; then
    echo "junit.sh: bash >= 5 is required (EPOCHREALTIME)" >&2
    exit 1
fi

echo "== building release binaries" >&2
if ! cargo build --release -p flakiness-cli -p flakiness-bench >&2; then
    echo "junit.sh: building flakiness-cli failed; building flakiness-bench alone ((a) will be n/a)" >&2
    cargo build --release -p flakiness-bench >&2 || exit 1
fi
FLAKINESS=target/release/flakiness
BENCH=target/release/flakiness-bench

OUT=bench/out
mkdir -p "$OUT"
for s in "${SIZES[@]}"; do
    file="$OUT/junit-${s}MB.xml"
    if [ ! -f "$file" ]; then
        echo "== generating $file" >&2
        "$BENCH" gen-junit --size-mb "$s" --out "$file" >&2 || exit 1
    fi
done

# The official converter: a CLI (bin `flakiness-junit-xml`, lib/cli.js) with no dependencies.
OFFICIAL_JS="$OUT/node/node_modules/$OFFICIAL_PACKAGE/lib/cli.js"
OFFICIAL_SKIP=""
if [ "${SKIP_OFFICIAL:-}" = 1 ]; then
    OFFICIAL_SKIP="skipped (SKIP_OFFICIAL=1)"
elif ! command -v node >/dev/null; then
    OFFICIAL_SKIP="skipped: node not found"
else
    installed=$(node -p "require('./$OUT/node/node_modules/$OFFICIAL_PACKAGE/package.json').version" 2>/dev/null)
    if [ "$installed" != "$OFFICIAL_VERSION" ]; then
        if ! command -v npm >/dev/null; then
            OFFICIAL_SKIP="skipped: npm not found to install $OFFICIAL_PACKAGE@$OFFICIAL_VERSION"
        else
            echo "== installing $OFFICIAL_PACKAGE@$OFFICIAL_VERSION into $OUT/node" >&2
            mkdir -p "$OUT/node"
            printf '{ "private": true, "dependencies": { "%s": "%s" } }\n' \
                "$OFFICIAL_PACKAGE" "$OFFICIAL_VERSION" >"$OUT/node/package.json"
            if ! (cd "$OUT/node" && npm install --no-audit --no-fund --loglevel=error >&2); then
                OFFICIAL_SKIP="skipped: npm install $OFFICIAL_PACKAGE@$OFFICIAL_VERSION failed"
            fi
        fi
    fi
    if [ -z "$OFFICIAL_SKIP" ] && [ ! -f "$OFFICIAL_JS" ]; then
        OFFICIAL_SKIP="skipped: $OFFICIAL_JS not found"
    fi
fi
if [ -n "$OFFICIAL_SKIP" ]; then
    echo "junit.sh: official converter $OFFICIAL_SKIP" >&2
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

declare -A WALL=() RSS=() NOTE=() COUNT=()

# median: the median of the numbers on stdin.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# measure KEY RUNS WARMUP ONCE_AFTER CLEAN CMD... : fills WALL[KEY] (median seconds), RSS[KEY]
# (median peak KiB) and COUNT[KEY] (runs), or NOTE[KEY]. CLEAN is removed before every run;
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
            NOTE[$key]="exit $rc: $(grep -m1 -v '^[[:space:]]*$' "$err" | cut -c1-240)"
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
            NOTE[$key]="exit $rc: $(grep -m1 -v '^[[:space:]]*$' "$err" | cut -c1-240)"
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
    RSS[$key]=$(printf '%s\n' "${rsss[@]}" | median)
    COUNT[$key]=${#walls[@]}
}

TOOLS=(ours xml-loop official)
declare -A LABEL=(
    [ours]="(a) ours: flakiness convert"
    [xml-loop]="(b) bare quick-xml loop"
    [official]="(c) official: $OFFICIAL_PACKAGE@$OFFICIAL_VERSION"
)

# The official converter must never upload: --disable-upload, and no credentials in its env.
OFFICIAL=(env -u FLAKINESS_ACCESS_TOKEN -u FLAKINESS_PROJECT -u FLAKINESS_ENDPOINT -u FLAKINESS_ID_TOKEN
    -u ACTIONS_ID_TOKEN_REQUEST_URL -u ACTIONS_ID_TOKEN_REQUEST_TOKEN FLAKINESS_DISABLE_UPLOAD=1
    node "$OFFICIAL_JS")

declare -A TESTS=()
for s in "${SIZES[@]}"; do
    file="$OUT/junit-${s}MB.xml"
    big=0
    if awk -v s="$s" 'BEGIN { exit !(s >= 100) }'; then
        big=1
    fi
    echo "== measuring ${s} MB ($RUNS runs each)" >&2
    cat "$file" >/dev/null # into the page cache
    measure "$s:ours" "$RUNS" 1 0 "$OUT/junit-${s}MB.ours" \
        "$FLAKINESS" convert "$file" -o "$OUT/junit-${s}MB.ours" --commit-id "$COMMIT"
    measure "$s:xml-loop" "$RUNS" 1 0 "" "$BENCH" xml-loop "$file"
    if [ -z "$OFFICIAL_SKIP" ]; then
        measure "$s:official" "$RUNS" $((1 - big)) "$OFFICIAL_ONCE_AFTER" "$OUT/junit-${s}MB.official" \
            "${OFFICIAL[@]}" "$file" --output-dir "$OUT/junit-${s}MB.official" --commit-id "$COMMIT" --disable-upload
    else
        NOTE[$s:official]=$OFFICIAL_SKIP
    fi

    # Sanity check (not measured): the tools see the same test cases.
    loop=$("$BENCH" xml-loop "$file" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "testcase") print $(i + 1) }')
    counts="xml-loop ${loop:-n/a} <testcase>"
    if command -v node >/dev/null; then
        for tool in ours official; do
            report="$OUT/junit-${s}MB.$tool/report.json"
            if [ -n "${WALL[$s:$tool]:-}" ] && [ -f "$report" ]; then
                n=$(node -e '
                    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
                    let n = 0;
                    const walk = (s) => { n += (s.tests || []).length; (s.suites || []).forEach(walk); };
                    walk(r);
                    console.log(n);' "$report" 2>/dev/null)
                counts+=", $tool ${n:-n/a} tests"
            fi
        done
    fi
    TESTS[$s]=$counts
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
echo "| size | tool | runs | median wall s | MB/s | median peak RSS MB | RSS / input | official / ours | ours / xml-loop |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for s in "${SIZES[@]}"; do
    file="$OUT/junit-${s}MB.xml"
    bytes=$(stat -c %s "$file")
    size=$(awk -v b="$bytes" -v s="$s" 'BEGIN { printf "%s MB (%.2f)", s, b / 1e6 }')
    for tool in "${TOOLS[@]}"; do
        key="$s:$tool"
        wall=${WALL[$key]:-}
        if [ -z "$wall" ]; then
            echo "| $size | ${LABEL[$tool]} | 0 | n/a | n/a | n/a | n/a | | |"
            continue
        fi
        kb=${RSS[$key]}
        read -r wall_s mbs rss_mb rss_ratio < <(awk -v w="$wall" -v b="$bytes" -v k="$kb" \
            'BEGIN { printf "%.3f %.1f %.1f %.2f\n", w, (w > 0 ? b / 1e6 / w : 0), k * 1024 / 1e6, k * 1024 / b }')
        vs_official="" vs_loop=""
        if [ "$tool" = ours ]; then
            vs_official=$(ratio "${WALL[$s:official]:-}" "$wall")
            vs_loop=$(ratio "$wall" "${WALL[$s:xml-loop]:-}")
        fi
        echo "| $size | ${LABEL[$tool]} | ${COUNT[$key]} | $wall_s | $mbs | $rss_mb | $rss_ratio | $vs_official | $vs_loop |"
    done
done
echo
echo "MB = 10^6 bytes; MB/s = input size / median wall time; RSS / input = median peak RSS / input size."
echo "official / ours = official median / ours (target >= 30); ours / xml-loop = ours median / bare"
echo "quick-xml loop median (target <= 2); ours RSS / input: target <= about 2 (meaningful for large"
echo "inputs only: a process's baseline RSS dominates for small ones)."
echo
echo "Commands (FILE = $OUT/junit-<N>MB.xml):"
echo "  (a) $FLAKINESS convert FILE -o $OUT/junit-<N>MB.ours --commit-id $COMMIT"
echo "  (b) $BENCH xml-loop FILE"
echo "  (c) FLAKINESS_DISABLE_UPLOAD=1 node $OFFICIAL_JS FILE --output-dir $OUT/junit-<N>MB.official --commit-id $COMMIT --disable-upload"

# verdict VALUE OP LIMIT: met, MISSED or n/a.
verdict() {
    if [ "$1" = n/a ]; then
        echo "n/a"
    elif awk -v v="$1" -v l="$3" "BEGIN { exit !(v $2 l) }"; then
        echo "met"
    else
        echo "MISSED"
    fi
}

echo
echo "Targets (whole process, same run):"
for s in "${SIZES[@]}"; do
    wall=${WALL[$s:ours]:-}
    if [ -z "$wall" ]; then
        echo "- ${s} MB: ours n/a"
        continue
    fi
    bytes=$(stat -c %s "$OUT/junit-${s}MB.xml")
    vs_official=$(ratio "${WALL[$s:official]:-}" "$wall")
    vs_loop=$(ratio "$wall" "${WALL[$s:xml-loop]:-}")
    rss=$(awk -v k="${RSS[$s:ours]}" -v b="$bytes" 'BEGIN { printf "%.2f", k * 1024 / b }')
    echo "- ${s} MB: official/ours ${vs_official}x (>= 30: $(verdict "$vs_official" '>=' 30))," \
        "ours/xml-loop ${vs_loop}x (<= 2: $(verdict "$vs_loop" '<=' 2))," \
        "ours RSS/input ${rss} (<= 2: $(verdict "$rss" '<=' 2)); ${TESTS[$s]}"
done

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
