#!/usr/bin/env bash
# Records `dart test --reporter json` of this project into testdata/inputs/dart/.
# The files there now were written by hand from the protocol (see RECORD.md there): run this
# where a Dart SDK is installed to replace them with real recordings.
#
# Needs: the Dart SDK (3.4 or later). `dart pub get` fetches package:test.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../inputs/dart"
flaky="${TMPDIR:-/tmp}/dart-sample-flaky"
mkdir -p "$out"
cd "$here"
dart pub get >/dev/null

# 1. One run, every file: the flaky test fails once and passes on its retry.
rm -f "$flaky"
dart test --reporter json >"$out/dart-test.json"
echo "dart test: exit $?"

# 2. The same run again (the flaky test now passes at once): with the first, one run of two
#    attempts each.
dart test --reporter json >"$out/dart-test-rerun.json"
echo "dart test (rerun): exit $?"

# 3. The JSON written to a file beside the human output.
rm -f "$flaky"
dart test --file-reporter "json:$out/dart-file-reporter.json" test/calc_test.dart >/dev/null
echo "dart test --file-reporter: exit $?"
rm -f "$flaky"
sed -i "s#$here#/home/user/dart-sample#g" "$out"/dart-*.json
