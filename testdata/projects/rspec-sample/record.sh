#!/usr/bin/env bash
# Re-records the RSpec outputs in testdata/inputs/rspec/ from this project.
# See testdata/inputs/rspec/RECORD.md for what each file is.
#
# Needs: ruby and rspec with rspec-retry and rspec_junit_formatter. On Debian 12:
#   apt-get install ruby-rspec ruby-rspec-retry ruby-rspec-junit-formatter
# (RSPEC=/path/to/rspec overrides the rspec command.)
#
# Every run starts from this directory, so most paths are relative. The
# absolute project directory that still shows up in the JSON backtraces is
# replaced by /home/user/rspec-sample afterwards; nothing else is edited.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../inputs/rspec"
RSPEC="${RSPEC:-rspec}"
flaky=/tmp/flaky-sample-rspec
mkdir -p "$out"
cd "$here"

# 1. documentation formatter on stdout; the specs' own stdout/stderr is interleaved.
rm -f "$flaky"; "$RSPEC" --format documentation >"$out/rspec-documentation.txt" 2>&1
echo "rspec documentation: exit $?"

# 2. JSON formatter (the console progress output is discarded).
rm -f "$flaky"; "$RSPEC" --format json --out "$out/rspec.json" >/dev/null 2>&1
echo "rspec json: exit $?"

# 3. JUnit XML from rspec_junit_formatter, for comparison.
rm -f "$flaky"; "$RSPEC" -r rspec_junit_formatter --format RspecJunitFormatter --out "$out/rspec-junit.xml" >/dev/null 2>&1
echo "rspec junit: exit $?"

# 4. Retry by re-running: rspec-retry switched off (RSPEC_RETRY_RETRY_COUNT=1),
#    a full run, then `--only-failures` from the status file of that run.
#    The counter file is deleted before the pair only, so the flaky example
#    fails in run 1 and passes in run 2.
status_dir="$(mktemp -d /tmp/rec-rdm-rspec-status.XXXXXX)"
rm -f "$flaky"
RSPEC_RETRY_RETRY_COUNT=1 RSPEC_STATUS_FILE="$status_dir/examples.txt" \
  "$RSPEC" --format json --out "$out/rspec-only-failures-run1.json" >/dev/null 2>&1
echo "rspec run 1 (no retries): exit $?"
RSPEC_RETRY_RETRY_COUNT=1 RSPEC_STATUS_FILE="$status_dir/examples.txt" \
  "$RSPEC" --only-failures --format json --out "$out/rspec-only-failures-run2.json" >/dev/null 2>&1
echo "rspec run 2 (--only-failures): exit $?"
rm -rf "$status_dir" "$flaky"

sed -i "s#$here#/home/user/rspec-sample#g" "$out"/rspec*
echo "recorded into $out"
