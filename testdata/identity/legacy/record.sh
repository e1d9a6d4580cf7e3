#!/usr/bin/env bash
# Records what an older `flakiness convert` (before test identities followed the official
# reporters) wrote for some of the runs of testdata/identity/, so that the history store's
# joining of old and new keys is tested on real outputs of that version (see RECORD.md).
#
#   FLAKINESS_OLD=/path/to/old/flakiness bash record.sh
#
# The old binary is built from commit 61d3a0c: `git worktree add /tmp/old 61d3a0c &&
# cd /tmp/old && cargo build -p flakiness-cli` (target/debug/flakiness).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
ids="$(cd "$here/.." && pwd)"
old="${FLAKINESS_OLD:?set FLAKINESS_OLD to the old flakiness binary}"

record() { # NAME BASE INPUT: convert INPUT as the identity tests do (a fresh git checkout)
  local name="$1" base="$2" input="$3" tmp
  tmp="$(mktemp -d)"
  git init -q "$tmp"
  mkdir -p "$tmp/$base"
  rm -rf "$here/$name"
  "$old" convert --allow-outside-attachments --base-dir "$tmp/$base" \
    --commit-id 1111111111111111111111111111111111111111 -o "$tmp/out" "$ids/$input" 2>/dev/null
  mkdir -p "$here/$name"
  cp "$tmp/out/report.json" "$here/$name/report.json"
  rm -rf "$tmp"
}

record pytest-reportlog . pytest/out/reportlog.jsonl
record pytest-junit-xunit2 . pytest/out/junit-xunit2.xml
record vitest-junit . vitest/out/junit.xml
record bun-junit-windows . bun/out/junit-windows.xml
echo "recorded into $here"
