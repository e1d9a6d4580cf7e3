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
source "$(dirname "$0")/alternate.sh"
cargo build --release -q -p flakiness-cli || exit 1

for s in "${SIZES[@]}"; do
    input gen_go.py "go-${s}MB.json" "$s"
    for i in $(seq "$RUNS"); do
        rm -rf "$TMP/ours"
        run "ours-$s" "$REL/flakiness" convert "$file" -o "$TMP/ours" --commit-id "$COMMIT"
        if command -v gotestsum >/dev/null; then
            run "gotestsum-$s" gotestsum --junitfile "$TMP/g.xml" --raw-command -- cat "$file"
        fi
    done
    rows "$s" ours gotestsum
done
