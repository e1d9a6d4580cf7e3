#!/usr/bin/env bash
# Analyzer benchmark: `flakiness analyze` against flaky-tests-detection on the same JUnit
# history, and the large history on SQLite (and PostgreSQL when a server is given).
#
#   bash bench/analyze.sh [compare|shared|scale|postgres|versus|all]     # default: all
#
# Builds the release binaries of flakiness-cli and flakiness-sim, then generates the histories
# with flakiness-sim into bench/out/analyze/ (only when missing: delete them to regenerate):
#
#   ftd-surefire   2,000 runs x 500 tests, 1 environment, scenario mixed (retries 2), written as
#                  JUnit files (one per run) whose every suite carries the run's properties, as
#                  Maven Surefire writes them: `gen --tests 500 --runs 2000 --environments linux --junit`
#   ftd-compact    the same history with the properties once per file (`--compact-junit`)
#   history-junit  the shared generator's history (../shared/bench/gen_history.py --format junit-dir:
#                  2,000 JUnit files x 500 tests, one suite per file; skipped without ../shared/bench)
#   scale          2,000 runs x 2,000 tests x 2 environments (about 8M attempts, 1 GB of JSON
#                  reports): `gen --tests 2000 --runs 2000`; plus scale/extra/run-2000.json, a
#                  copy of the last run one hour later (a new run for the incremental case)
#
# and measures, in this one run:
#
#   compare   for each ftd-* history: `flakiness analyze junit/ --db NEW.db --format json` (cold:
#             a new store each time) and flaky-tests-detection (PyPI, pinned below, installed in
#             bench/out/analyze/ftd-venv when missing) with
#             `flaky --junit-files junit/ --grouping-option runs --window-size 50 --window-count 40 --top-n 20`
#   shared    the history-junit folder: `flakiness analyze history-junit --db NEW.db --format json`
#             (cold) and flaky-tests-detection (as in compare) alternating run by run, RUNS times
#             after one unmeasured round each; medians, and flaky-tests-detection / ours (the goal of
#             issue 18: at least 10x)
#   scale     cold ingest + analysis of scale/reports into a new SQLite store; analysis after one
#             new run (a copy of the cold store, then `analyze scale/reports scale/extra`); and the
#             cold time for the first 500 and 1,000 runs (cost per run, to see it is linear)
#   versus    ours against BASELINE (another flakiness binary: the previous version, built from an
#             older commit), alternating the two run by run on this shared, noisy machine: the
#             scale history cold and after one new run, and history-junit cold; medians, and
#             ours / baseline. Not part of `all`.
#   postgres  the cold and one-new-run cases on PostgreSQL, when FLAKINESS_BENCH_DATABASE_URL names
#             a server and a role that can create databases (e.g. the URL `.ci/postgres.sh` prints);
#             each run gets a database of its own (the incremental case a copy of the cold one,
#             `CREATE DATABASE … TEMPLATE`), dropped after
#
# Each case runs RUNS times (default 3; RUNS_PG for postgres, default 1) after one unmeasured
# warm-up run; the table gives the median wall time and the median peak RSS
# (`/usr/bin/time -f '%e %M'`). Needs bash, GNU time at /usr/bin/time, python3 (with venv and pip
# for flaky-tests-detection), psql for postgres.

set -uo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

PROG=$(basename "$0")
TIME=/usr/bin/time
OUT=bench/out/analyze
FLAKINESS=${CARGO_TARGET_DIR:-$PWD/target}/release/flakiness
SIM=${CARGO_TARGET_DIR:-$PWD/target}/release/flakiness-sim
FTD_VERSION=1.3.0
RUNS=${RUNS:-3}
RUNS_PG=${RUNS_PG:-1}
WHAT=${1:-all}

case "$WHAT" in
compare | shared | scale | postgres | versus | all) ;;
*)
    echo "$PROG: unknown part '$WHAT': compare, shared, scale, postgres, versus or all" >&2
    exit 2
    ;;
esac
if [ ! -x "$TIME" ]; then
    echo "$PROG: GNU time is required at $TIME (apt-get install time)" >&2
    exit 1
fi

cargo build --release -p flakiness-cli -p flakiness-sim >&2 || exit 1
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# gen NAME ARGS...: the history $OUT/NAME, generated with `flakiness-sim gen ARGS` when missing.
gen() {
    local name=$1
    shift
    if [ ! -d "$OUT/$name" ]; then
        echo "$PROG: generating $OUT/$name" >&2
        "$SIM" gen --scenario mixed "$@" --out "$OUT/$name.tmp" >&2 || exit 1
        mv "$OUT/$name.tmp" "$OUT/$name"
    fi
}

# shellcheck source=bench/measure.sh
source "$(dirname "${BASH_SOURCE[0]}")/measure.sh"

# measure LABEL TIMES SETUP CMD...: a table row: LABEL, median wall s, median peak RSS MB (see
# run_measured); n/a with the error when CMD fails.
measure() {
    local label=$1
    shift
    if run_measured "$@"; then
        LAST_WALL=$MEDIAN_WALL
        printf '| %s | %s s | %s MB |\n' "$label" "$MEDIAN_WALL" "$MEDIAN_RSS_MB"
    else
        LAST_WALL=0
        printf '| %s | n/a: %s | |\n' "$label" "$FAILED"
    fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }

# ftd: $OUT/ftd-venv/bin/flaky, installed when missing (or returns 1).
FTD=$OUT/ftd-venv/bin/flaky
ftd() {
    if [ ! -x "$FTD" ]; then
        echo "$PROG: installing flaky-tests-detection $FTD_VERSION into $OUT/ftd-venv" >&2
        python3 -m venv "$OUT/ftd-venv" >&2 &&
            "$OUT/ftd-venv/bin/pip" install -q "flaky-tests-detection==$FTD_VERSION" >&2 ||
            { echo "$PROG: cannot install flaky-tests-detection" >&2; return 1; }
    fi
}

# The arguments of flaky-tests-detection after the folder (the grouping of issue 18).
FTD_ARGS=(--grouping-option runs --window-size 50 --window-count 40 --top-n 20)

compare() {
    ftd || return 1
    gen ftd-surefire --tests 500 --runs 2000 --environments linux --junit
    gen ftd-compact --tests 500 --runs 2000 --environments linux --junit --compact-junit
    echo
    echo "### flakiness analyze vs flaky-tests-detection $FTD_VERSION: 2,000 JUnit files x 500 tests (medians of $RUNS)"
    echo
    echo "| case | wall | peak RSS |"
    echo "|---|---:|---:|"
    local name ours theirs
    for name in ftd-surefire ftd-compact; do
        local dir=$OUT/$name/junit
        measure "$name ($(du -sm "$dir" | cut -f1) MB): flakiness analyze, cold" "$RUNS" \
            "rm -f $TMP/ftd.db*" "$FLAKINESS" analyze "$dir" --db "$TMP/ftd.db" --format json
        ours=$LAST_WALL
        measure "$name: flaky-tests-detection" "$RUNS" ":" "$FTD" --junit-files "$dir" "${FTD_ARGS[@]}"
        theirs=$LAST_WALL
        echo "| $name: flaky-tests-detection / ours | $(ratio "$theirs" "$ours") | |"
    done
}

# first_runs N: $OUT/scale/first-N/, links to the first N reports of the scale history.
first_runs() {
    local n=$1 dir=$OUT/scale/first-$1
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir.tmp"
        find "$PWD/$OUT/scale/reports" -name 'run-*.json' | sort | head -n "$n" |
            while read -r f; do ln -s "$f" "$dir.tmp/"; done
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}

scale_history() {
    gen scale --tests 2000 --runs 2000
    if [ ! -f "$OUT/scale/extra/run-2000.json" ]; then
        mkdir -p "$OUT/scale/extra"
        python3 - "$OUT/scale/reports/run-1999.json" "$OUT/scale/extra/run-2000.json" <<'EOF' || exit 1
import json, sys
report = json.load(open(sys.argv[1]))
report["startTimestamp"] += 3_600_000
report["title"] = "mixed run 2000"
json.dump(report, open(sys.argv[2], "w"))
EOF
    fi
}

scale() {
    scale_history
    echo
    echo "### 2,000 runs x 2,000 tests x 2 environments ($(du -sm "$OUT/scale/reports" | cut -f1) MB of reports), SQLite (medians of $RUNS)"
    echo
    echo "| case | wall | peak RSS |"
    echo "|---|---:|---:|"
    local n
    for n in 500 1000; do
        measure "cold, first $n runs" "$RUNS" "rm -f $TMP/s.db*" \
            "$FLAKINESS" analyze "$(first_runs "$n")" --db "$TMP/s.db" --format json
    done
    measure "cold, 2,000 runs" "$RUNS" "rm -f $TMP/cold.db*" \
        "$FLAKINESS" analyze "$OUT/scale/reports" --db "$TMP/cold.db" --format json
    ls -l "$TMP/cold.db" | awk '{ printf "| store size | %.0f MB | |\n", $5 / 1e6 }'
    measure "one new run (2,001 reports, 1 new)" "$RUNS" \
        "rm -f $TMP/inc.db*; cp $TMP/cold.db $TMP/inc.db" \
        "$FLAKINESS" analyze "$OUT/scale/reports" "$OUT/scale/extra" --db "$TMP/inc.db" --format json
}

# shared_history: $OUT/history-junit, the shared generator's 2,000 JUnit files (when
# ../shared/bench is there).
shared_history() {
    local gen=../shared/bench/gen_history.py
    if [ ! -d "$OUT/history-junit" ] && [ -f "$gen" ]; then
        echo "$PROG: generating $OUT/history-junit with $gen" >&2
        python3 "$gen" --format junit-dir --out "$OUT/history-junit.tmp" >&2 &&
            mv "$OUT/history-junit.tmp" "$OUT/history-junit"
    fi
    [ -d "$OUT/history-junit" ]
}

# timed KEY CMD...: CMD once, measured; appends its wall time (s) and peak RSS (KiB) to
# $TMP/KEY.times unless WARMUP is 1. Returns 1, with FAILED set to its last line on stderr,
# when it fails.
timed() {
    local key=$1
    shift
    if ! /usr/bin/time -o "$TMP/time" -f '%e %M' "$@" >"$TMP/stdout" 2>"$TMP/stderr"; then
        FAILED=$(tail -n 1 "$TMP/stderr")
        return 1
    fi
    [ "${WARMUP:-0}" = 1 ] || awk 'END { print $1, $2 }' "$TMP/time" >>"$TMP/$key.times"
}

# medians KEY: sets WALL (median s) and RSS_MB (median peak RSS, MB) of $TMP/KEY.times.
medians() {
    WALL=$(cut -d' ' -f1 "$TMP/$1.times" | median)
    RSS_MB=$(cut -d' ' -f2 "$TMP/$1.times" | median | awk '{ printf "%.0f", $1 / 1024 }')
}

# alternate LABEL SETUP ARGS...: `flakiness analyze ARGS` with $BASELINE then with ours, RUNS
# times each after one unmeasured round, alternating; a row with both medians and the ratio.
# SETUP runs before every command, with $DB naming the store to use.
alternate() {
    local label=$1 setup=$2 r bin which
    shift 2
    rm -f "$TMP"/base.times "$TMP"/ours.times
    for ((r = 0; r <= RUNS; r++)); do
        for which in base ours; do
            bin=$FLAKINESS
            [ "$which" = base ] && bin=$BASELINE
            DB=$TMP/$which.db
            eval "$setup" || { echo "| $label | setup failed | | |"; return 1; }
            if ! WARMUP=$((r == 0)) timed "$which" "$bin" analyze "$@" --db "$DB" --format json; then
                echo "| $label | $which failed: $FAILED | | |"
                return 1
            fi
        done
    done
    local bw br
    medians base
    bw=$WALL br=$RSS_MB
    medians ours
    echo "| $label | $bw s, $br MB | $WALL s, $RSS_MB MB | $(ratio "$WALL" "$bw") |"
}

# shared: history-junit cold against flaky-tests-detection on the same folder, alternating.
shared() {
    ftd || return 1
    if ! shared_history; then
        echo
        echo "(shared: skipped, ../shared/bench/gen_history.py is not there)"
        return
    fi
    local dir=$OUT/history-junit r which
    echo
    echo "### history-junit ($(find "$dir" -name '*.xml' | wc -l) JUnit files, $(du -sm "$dir" | cut -f1) MB): flakiness analyze, cold, vs flaky-tests-detection $FTD_VERSION, alternating (medians of $RUNS)"
    echo
    echo "| case | wall | peak RSS |"
    echo "|---|---:|---:|"
    rm -f "$TMP"/ours.times "$TMP"/ftd.times
    for ((r = 0; r <= RUNS; r++)); do
        for which in ours ftd; do
            rm -f "$TMP"/shared.db*
            if [ "$which" = ours ]; then
                set -- "$FLAKINESS" analyze "$dir" --db "$TMP/shared.db" --format json
            else
                set -- "$FTD" --junit-files "$dir" "${FTD_ARGS[@]}"
            fi
            if ! WARMUP=$((r == 0)) timed "$which" "$@"; then
                echo "| $which | n/a: $FAILED | |"
                return 1
            fi
        done
    done
    local ours
    medians ours
    ours=$WALL
    echo "| flakiness analyze history-junit --db NEW.db --format json | $WALL s | $RSS_MB MB |"
    medians ftd
    echo "| flaky --junit-files history-junit ${FTD_ARGS[*]} | $WALL s | $RSS_MB MB |"
    echo "| flaky-tests-detection / ours | $(ratio "$WALL" "$ours") | |"
}

versus() {
    if [ ! -x "${BASELINE:-}" ]; then
        echo "$PROG: versus needs BASELINE=/path/to/another/flakiness" >&2
        return 1
    fi
    scale_history
    echo
    echo "### ours against $BASELINE, alternating (medians of $RUNS)"
    echo
    echo "| case | baseline | ours | ours / baseline |"
    echo "|---|---:|---:|---:|"
    alternate "scale: cold, 2,000 runs" 'rm -f "$DB"*' "$OUT/scale/reports"
    # The incremental case starts from a cold store of each binary's own.
    local which
    for which in base ours; do
        local bin=$FLAKINESS
        [ "$which" = base ] && bin=$BASELINE
        rm -f "$TMP/$which-cold.db"*
        "$bin" analyze "$OUT/scale/reports" --db "$TMP/$which-cold.db" --format json >/dev/null 2>&1
    done
    alternate "scale: one new run (2,001 reports, 1 new)" \
        'rm -f "$DB"*; cp "${DB%.db}-cold.db" "$DB"' "$OUT/scale/reports" "$OUT/scale/extra"
    if shared_history; then
        alternate "history-junit: 2,000 JUnit files, cold" 'rm -f "$DB"*' "$OUT/history-junit"
    fi
}

postgres() {
    local admin=${FLAKINESS_BENCH_DATABASE_URL:-}
    if [ -z "$admin" ]; then
        echo
        echo "(postgres: skipped, FLAKINESS_BENCH_DATABASE_URL is not set)"
        return
    fi
    scale_history
    local base=${admin%/*}
    local sql="psql -q -v ON_ERROR_STOP=1 $admin -c"
    echo
    echo "### the same history on PostgreSQL ($(psql -At "$admin" -c 'SHOW server_version' 2>/dev/null), loopback; medians of $RUNS_PG)"
    echo
    echo "| case | wall | peak RSS |"
    echo "|---|---:|---:|"
    measure "cold, 2,000 runs" "$RUNS_PG" \
        "$sql 'DROP DATABASE IF EXISTS flakiness_bench_cold WITH (FORCE)' && $sql 'CREATE DATABASE flakiness_bench_cold'" \
        "$FLAKINESS" analyze "$OUT/scale/reports" --database-url "$base/flakiness_bench_cold" --format json
    measure "one new run (2,001 reports, 1 new)" "$RUNS_PG" \
        "$sql 'DROP DATABASE IF EXISTS flakiness_bench_inc WITH (FORCE)' && $sql 'CREATE DATABASE flakiness_bench_inc TEMPLATE flakiness_bench_cold'" \
        "$FLAKINESS" analyze "$OUT/scale/reports" "$OUT/scale/extra" --database-url "$base/flakiness_bench_inc" --format json
    $sql 'DROP DATABASE IF EXISTS flakiness_bench_inc WITH (FORCE)'
    $sql 'DROP DATABASE IF EXISTS flakiness_bench_cold WITH (FORCE)'
}

echo "## flakiness analyze benchmark ($(nproc) CPUs, $(date -u +%Y-%m-%d))"
case "$WHAT" in
compare) compare ;;
shared) shared ;;
scale) scale ;;
postgres) postgres ;;
versus) versus ;;
all)
    compare
    shared
    scale
    postgres
    ;;
esac
