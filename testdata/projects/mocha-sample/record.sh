#!/usr/bin/env bash
# Re-records the Mocha outputs in testdata/inputs/mocha/ from this project.
# See testdata/inputs/mocha/RECORD.md for what each file is.
#
# Needs: node and npm. The exact versions are pinned in package.json /
# package-lock.json and installed with `npm ci` (node_modules/ is git-ignored).
#
# Every run starts from this directory, so most paths are relative. The
# absolute project directory that some reporters still print is replaced by
# /home/user/mocha-sample afterwards; nothing else is edited.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../inputs/mocha"
flaky=/tmp/flaky-sample-mocha
mkdir -p "$out"
cd "$here"
[ -x node_modules/.bin/mocha ] || npm ci --no-audit --no-fund >/dev/null
mocha=./node_modules/.bin/mocha

# 1. spec reporter (the default), human-readable; console.log output is interleaved.
rm -f "$flaky"; "$mocha" --reporter spec >"$out/mocha-spec.txt" 2>&1
echo "mocha spec: exit $?"

# 2. json reporter, written to a file with the reporter's `output` option
#    (stdout, which carries the tests' console.log lines, is discarded).
rm -f "$out/mocha.json"
rm -f "$flaky"; "$mocha" --reporter json --reporter-option "output=$out/mocha.json" >/dev/null 2>&1
echo "mocha json: exit $?"

# 3. json reporter the common way, `> file`: the tests' console.log lines end
#    up in the same stream as the JSON (stderr is not included).
rm -f "$flaky"; "$mocha" --reporter json >"$out/mocha-json-stdout.txt" 2>/dev/null
echo "mocha json > file: exit $?"

# 4. mochawesome JSON (no HTML).
rm -f "$flaky"; "$mocha" --reporter mochawesome \
  --reporter-option "reportDir=$out,reportFilename=mochawesome,html=false,json=true,overwrite=true,quiet=true" \
  >/dev/null 2>&1
echo "mochawesome: exit $?"

# 5. mocha-junit-reporter XML with its default options (pending tests are left out) ...
rm -f "$flaky"; "$mocha" --reporter mocha-junit-reporter --reporter-option "mochaFile=$out/mocha-junit.xml" >/dev/null 2>&1
echo "mocha-junit-reporter: exit $?"
# ... and with includePending=true.
rm -f "$flaky"; "$mocha" --reporter mocha-junit-reporter \
  --reporter-option "mochaFile=$out/mocha-junit-include-pending.xml,includePending=true" >/dev/null 2>&1
echo "mocha-junit-reporter includePending: exit $?"
rm -f "$flaky"

sed -i "s#$here#/home/user/mocha-sample#g" "$out"/mocha*
echo "recorded into $out"
