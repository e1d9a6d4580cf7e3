#!/usr/bin/env bash
# Speed on the shapes users have (issue 18): the shared generators' files (../shared/bench/),
# ours against the bare Rust baselines, alternating tool by tool in one run.
#
#   bash bench/shapes.sh          # RUNS (default 5) measured runs of each, after one warm-up
#
# Files (generated into bench/out/shared/ when missing, by ../shared/bench/gen_report.py):
#   junit-200mb.xml, junit-20mb.xml   (387k / 39k testcases, Surefire retries, output)
#   report-200mb.json, report-1mb.json (92k tests, 258k attempts, 4 environments)
#
# Rows:
#   convert          flakiness convert FILE -o OUT --commit-id C   (parse, model, write, validate)
#   convert 1 core   the same under `taskset -c 0` (the multi-threaded pipeline on one core)
#   xml-decode       flakiness-bench xml-decode FILE  (quick-xml: every attribute, text, CDATA
#                    decoded; no model, no output: the bare baseline)
#   validate         flakiness validate --no-attachments FILE  (the generator writes attachment
#                    references without files)
#   ignored-any      flakiness-bench ignored-any FILE  (serde_json IgnoredAny: the bare baseline)
#
# Wall: median of RUNS, measured around each process with $EPOCHREALTIME; RSS: median peak
# (GNU time). Needs bash >= 5, /usr/bin/time, taskset, python3, awk.

set -uo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
RUNS=${RUNS:-5}
REL=${CARGO_TARGET_DIR:-target}/release
SHARED=${SHARED:-../shared/bench}
OUT=bench/out/shared
COMMIT=0123456789abcdef0123456789abcdef01234567
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ -f "$SHARED/gen_report.py" ] || { echo "no $SHARED/gen_report.py: the shared generators are needed" >&2; exit 1; }
cargo build --release -p flakiness-cli -p flakiness-bench >&2 || exit 1
mkdir -p "$OUT"
gen() { [ -f "$OUT/$2" ] || python3 "$SHARED/gen_report.py" --format "$1" --target-mb "$3" --out "$OUT/$2" >&2 || exit 1; }
gen junit junit-200mb.xml 200
gen junit junit-20mb.xml 20
gen json report-200mb.json 200
gen json report-1mb.json 1

# run KEY CMD...: one measured run; appends "wall_s rss_kib" to $TMP/KEY.
run() {
    local key=$1; shift
    rm -rf "$TMP/out"
    local start=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/err" || { echo "$key failed: $(tail -1 "$TMP/err")" >&2; return; }
    local end=$EPOCHREALTIME
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}') $(cat "$TMP/rss")" >>"$TMP/$key"
}
median() { sort -n | awk '{v[NR]=$1} END{ if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
wall() { cut -d' ' -f1 "$TMP/$1" | median; }
rss() { cut -d' ' -f2 "$TMP/$1" | median | awk '{printf "%.0f", $1/1024}'; }

for f in junit-200mb.xml junit-20mb.xml; do
    for ((i = 0; i <= RUNS; i++)); do
        run "convert-$f" "$REL/flakiness" convert "$OUT/$f" -o "$TMP/out" --commit-id $COMMIT
        run "convert1-$f" taskset -c 0 "$REL/flakiness" convert "$OUT/$f" -o "$TMP/out" --commit-id $COMMIT
        run "decode-$f" "$REL/flakiness-bench" xml-decode "$OUT/$f"
        # The first round warms the page cache: not counted.
        [ "$i" -eq 0 ] && rm -f "$TMP/convert-$f" "$TMP/convert1-$f" "$TMP/decode-$f"
    done
done
for f in report-200mb.json report-1mb.json; do
    for ((i = 0; i <= RUNS; i++)); do
        run "validate-$f" "$REL/flakiness" validate --no-attachments "$OUT/$f"
        run "ignored-$f" "$REL/flakiness-bench" ignored-any "$OUT/$f"
        [ "$i" -eq 0 ] && rm -f "$TMP/validate-$f" "$TMP/ignored-$f"
    done
done

echo "## shapes: the shared generators' files ($(nproc) CPUs, medians of $RUNS, binary $(($(stat -c %s "$REL/flakiness") / 1000000)) MB)"
echo
echo "| work | ours | 1 core | bare Rust | ours vs bare |"
echo "|---|---|---|---|---|"
for f in junit-200mb.xml junit-20mb.xml; do
    o=$(wall "convert-$f") one=$(wall "convert1-$f") d=$(wall "decode-$f")
    printf '| convert %s | %.3f s, %s MiB | %.3f s | %.3f s xml-decode | %.1f× |\n' "$f" "$o" "$(rss "convert-$f")" "$one" "$d" \
        "$(awk -v a="$o" -v b="$d" 'BEGIN{print a/b}')"
done
for f in report-200mb.json report-1mb.json; do
    o=$(wall "validate-$f") d=$(wall "ignored-$f")
    printf '| validate %s | %.3f s, %s MiB | | %.3f s IgnoredAny | %.1f× |\n' "$f" "$o" "$(rss "validate-$f")" "$d" \
        "$(awk -v a="$o" -v b="$d" 'BEGIN{print a/b}')"
done
