#!/usr/bin/env bash
# Go test2json conversion benchmark: `flakiness convert` against gotestsum on the same stream.
#
#   bash bench/go.sh [SIZES...]     # sizes of the stream in MB (10^6 bytes); default: 20 200
#
# Generates deterministic test2json streams with bench/gen_go.py into bench/out/go-<N>MB.json
# (only when missing), builds the release binary, then, for each size, alternates the tools
# RUNS times (default 3; this machine is shared and noisy) and prints the median wall time,
# the throughput (input MB / s) and the median peak RSS:
#
#   (a) ours       target/release/flakiness convert FILE -o DIR --commit-id C
#   (b) gotestsum  gotestsum --junitfile OUT.xml --raw-command -- cat FILE   (when installed)
#
# Needs bash >= 5, GNU time at /usr/bin/time, python3, cargo.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
OUT=bench/out
RUNS=${RUNS:-3}
COMMIT=0123456789abcdef0123456789abcdef01234567
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(20 200)
mkdir -p "$OUT"
cargo build --release -q -p flakiness-cli || exit 1
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
    file="$OUT/go-${s}MB.json"
    [ -f "$file" ] || python3 bench/gen_go.py --target-mb "$s" --out "$file" || exit 1
    mb=$(awk -v b="$(stat -c %s "$file")" 'BEGIN{printf "%.1f", b/1e6}')
    for i in $(seq "$RUNS"); do
        rm -rf "$TMP/ours"
        run "ours-$s" target/release/flakiness convert "$file" -o "$TMP/ours" --commit-id "$COMMIT"
        if command -v gotestsum >/dev/null; then
            run "gotestsum-$s" gotestsum --junitfile "$TMP/g.xml" --raw-command -- cat "$file"
        fi
    done
    for tool in ours gotestsum; do
        [ -f "$TMP/$tool-$s" ] || continue
        wall=$(cut -d' ' -f1 "$TMP/$tool-$s" | median)
        rss=$(cut -d' ' -f2 "$TMP/$tool-$s" | median)
        printf '| %s MB | %s | %.2f s | %.0f | %.0f MB |\n' "$mb" "$tool" "$wall" \
            "$(awk -v m="$mb" -v w="$wall" 'BEGIN{print m/w}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
    done
done
