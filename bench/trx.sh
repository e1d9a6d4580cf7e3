#!/usr/bin/env bash
# TRX conversion benchmark: `flakiness convert` against a bare quick-xml event loop over the same file.
#
#   bash bench/trx.sh [SIZES...]     # sizes of the TRX file in MB (10^6 bytes); default: 20 200
#
# Generates deterministic TRX files with bench/gen_trx.py into bench/out/trx-<N>MB.trx
# (only when missing), builds the release binaries, then, for each size, alternates the tools
# RUNS times (default 3; this machine is shared and noisy) and prints the median wall time,
# the throughput (input MB / s) and the median peak RSS:
#
#   (a) ours       target/release/flakiness convert FILE -o DIR --commit-id C
#   (b) xml-loop   target/release/flakiness-bench xml-loop FILE   (read_event_into, 64 KiB BufReader)
#   (c) dorny      DORNY_TRX FILE   (when DORNY_TRX names a script running dorny/test-reporter's
#                  TRX parser on one file; not part of this repository)
#
# Needs bash >= 5, GNU time at /usr/bin/time, python3, cargo.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
OUT=bench/out
REL=${CARGO_TARGET_DIR:-target}/release
RUNS=${RUNS:-3}
COMMIT=0123456789abcdef0123456789abcdef01234567
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(20 200)
mkdir -p "$OUT"
cargo build --release -q -p flakiness-cli -p flakiness-bench || exit 1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run KEY CMD...: one measured run; appends "wall_s rss_kib" to $TMP/KEY.
run() {
    local key=$1; shift
    local start end
    start=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/err" || { echo "$key failed: $(tail -1 "$TMP/err")" >&2; return; }
    end=$EPOCHREALTIME
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}') $(cat "$TMP/rss")" >>"$TMP/$key"
}

median() { sort -n | awk '{v[NR]=$1} END{ if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }

printf '| size | tool | median wall | MB/s | median peak RSS |\n|---|---|---|---|---|\n'
for s in "${SIZES[@]}"; do
    file="$OUT/trx-${s}MB.trx"
    [ -f "$file" ] || python3 bench/gen_trx.py --target-mb "$s" --out "$file" || exit 1
    mb=$(awk -v b="$(stat -c %s "$file")" 'BEGIN{printf "%.1f", b/1e6}')
    for i in $(seq "$RUNS"); do
        rm -rf "$TMP/ours"
        run "ours-$s" "$REL/flakiness" convert "$file" -o "$TMP/ours" --commit-id "$COMMIT"
        run "xml-loop-$s" "$REL/flakiness-bench" xml-loop "$file"
        if [ -n "${DORNY_TRX:-}" ]; then
            run "dorny-$s" "$DORNY_TRX" "$file"
        fi
    done
    for tool in ours xml-loop dorny; do
        [ -f "$TMP/$tool-$s" ] || continue
        wall=$(cut -d' ' -f1 "$TMP/$tool-$s" | median)
        rss=$(cut -d' ' -f2 "$TMP/$tool-$s" | median)
        printf '| %s MB | %s | %.2f s | %.0f | %.0f MB |\n' "$mb" "$tool" "$wall" \
            "$(awk -v m="$mb" -v w="$wall" 'BEGIN{print m/w}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
    done
done
