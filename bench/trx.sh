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
source "$(dirname "$0")/alternate.sh"
cargo build --release -q -p flakiness-cli -p flakiness-bench || exit 1

for s in "${SIZES[@]}"; do
    input gen_trx.py "trx-${s}MB.trx" "$s"
    for i in $(seq "$RUNS"); do
        rm -rf "$TMP/ours"
        run "ours-$s" "$REL/flakiness" convert "$file" -o "$TMP/ours" --commit-id "$COMMIT"
        run "xml-loop-$s" "$REL/flakiness-bench" xml-loop "$file"
        if [ -n "${DORNY_TRX:-}" ]; then
            run "dorny-$s" "$DORNY_TRX" "$file"
        fi
    done
    rows "$s" ours xml-loop dorny
done
