#!/usr/bin/env bash
# JUnit conversion benchmark: `flakiness convert` against the official converter and a bare
# quick-xml event loop.
#
#   bash bench/junit.sh [SIZES...]     # sizes of the JUnit XML file in MB (10^6 bytes); default: 1 20 200
#
# Builds the release binaries, generates deterministic Surefire-style JUnit files into
# bench/out/junit-<N>MB${SUFFIX}.xml (only when missing: delete them to regenerate), installs the official
# converter (npm @flakiness/junit-xml, pinned below) into bench/out/node (only when missing), then
# measures in this one run, for each size:
#
#   (a) ours      target/release/flakiness convert FILE -o bench/out/junit-<N>MB${SUFFIX}.ours --commit-id C
#   (b) xml-loop  target/release/flakiness-bench xml-loop FILE     (read_event_into over a 64 KiB BufReader)
#   (c) official  node bench/out/node/node_modules/@flakiness/junit-xml/lib/cli.js FILE
#                     --output-dir bench/out/junit-<N>MB${SUFFIX}.official --commit-id C --disable-upload
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
# Environment: RUNS (default 3), SKIP_OFFICIAL=1 (skip (c)), OFFICIAL_ONCE_AFTER (seconds),
# OUTPUT_PER_MILLE=P (generate with `--output-per-mille P`: the share of test cases with output,
# 300 by default; 0 gives a file of many small test cases; files get the suffix -oP).
# Needs bash >= 5, GNU time at /usr/bin/time, awk, cargo; node and npm for (c) (skipped without).

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

OFFICIAL_PACKAGE=@flakiness/junit-xml
OFFICIAL_VERSION=1.4.0
COMMIT=0123456789abcdef0123456789abcdef01234567
RUNS=${RUNS:-3}
OFFICIAL_ONCE_AFTER=${OFFICIAL_ONCE_AFTER:-120}

parse_sizes "$@"
SUFFIX=""
GEN_ARGS=()
if [ -n "${OUTPUT_PER_MILLE:-}" ]; then
    if ! [[ "$OUTPUT_PER_MILLE" =~ ^[0-9]+$ ]] || [ "$OUTPUT_PER_MILLE" -gt 1000 ]; then
        echo "junit.sh: OUTPUT_PER_MILLE='$OUTPUT_PER_MILLE' is not an integer from 0 to 1000" >&2
        exit 2
    fi
    SUFFIX="-o$OUTPUT_PER_MILLE"
    GEN_ARGS=(--output-per-mille "$OUTPUT_PER_MILLE")
fi
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
    echo "junit.sh: RUNS='$RUNS' is not a positive integer" >&2
    exit 2
fi

require_timing
build_release "(a) will be n/a"
generate_inputs gen-junit "$OUT/junit-%sMB${SUFFIX}.xml"

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
    file="$OUT/junit-${s}MB${SUFFIX}.xml"
    official_warmup=1
    if is_big "$s"; then
        official_warmup=0
    fi
    echo "== measuring ${s} MB ($RUNS runs each)" >&2
    cat "$file" >/dev/null # into the page cache
    # KEY RUNS WARMUP ONCE_AFTER CLEAN CMD...
    measure "$s:ours" "$RUNS" 1 0 "$OUT/junit-${s}MB${SUFFIX}.ours" \
        "$FLAKINESS" convert "$file" -o "$OUT/junit-${s}MB${SUFFIX}.ours" --commit-id "$COMMIT"
    measure "$s:xml-loop" "$RUNS" 1 0 "" "$BENCH" xml-loop "$file"
    if [ -z "$OFFICIAL_SKIP" ]; then
        measure "$s:official" "$RUNS" "$official_warmup" "$OFFICIAL_ONCE_AFTER" "$OUT/junit-${s}MB${SUFFIX}.official" \
            "${OFFICIAL[@]}" "$file" --output-dir "$OUT/junit-${s}MB${SUFFIX}.official" --commit-id "$COMMIT" --disable-upload
    else
        NOTE[$s:official]=$OFFICIAL_SKIP
    fi

    # Sanity check (not measured): the tools see the same test cases.
    loop=$("$BENCH" xml-loop "$file" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "testcase") print $(i + 1) }')
    counts="xml-loop ${loop:-n/a} <testcase>"
    if command -v node >/dev/null; then
        for tool in ours official; do
            report="$OUT/junit-${s}MB${SUFFIX}.$tool/report.json"
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

print_machine
echo "| size | tool | runs | median wall s | MB/s | median peak RSS MB | RSS / input | official / ours | ours / xml-loop |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
table_rows "$OUT/junit-%sMB${SUFFIX}.xml" 1 xml-loop ours
echo
echo "MB = 10^6 bytes; MB/s = input size / median wall time; RSS / input = median peak RSS / input size."
echo "official / ours = official median / ours (target >= 30); ours / xml-loop = ours median / bare"
echo "quick-xml loop median (target <= 2); ours RSS / input: target <= about 2 (meaningful for large"
echo "inputs only: a process's baseline RSS dominates for small ones)."
echo
echo "Commands (FILE = $OUT/junit-<N>MB${SUFFIX}.xml):"
echo "  (a) $FLAKINESS convert FILE -o $OUT/junit-<N>MB${SUFFIX}.ours --commit-id $COMMIT"
echo "  (b) $BENCH xml-loop FILE"
echo "  (c) FLAKINESS_DISABLE_UPLOAD=1 node $OFFICIAL_JS FILE --output-dir $OUT/junit-<N>MB${SUFFIX}.official --commit-id $COMMIT --disable-upload"

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
    bytes=$(stat -c %s "$OUT/junit-${s}MB${SUFFIX}.xml")
    vs_official=$(ratio "${WALL[$s:official]:-}" "$wall")
    vs_loop=$(ratio "$wall" "${WALL[$s:xml-loop]:-}")
    rss=$(awk -v k="${RSS[$s:ours]}" -v b="$bytes" 'BEGIN { printf "%.2f", k * 1024 / b }')
    echo "- ${s} MB: official/ours ${vs_official}x (>= 30: $(verdict "$vs_official" '>=' 30))," \
        "ours/xml-loop ${vs_loop}x (<= 2: $(verdict "$vs_loop" '<=' 2))," \
        "ours RSS/input ${rss} (<= 2: $(verdict "$rss" '<=' 2)); ${TESTS[$s]}"
done

print_notes
