#!/usr/bin/env bash
# Re-records testdata/inputs/trx/jest-trx.trx and mocha-trx.trx: TRX written by the npm TRX
# writers (no .NET SDK installs here; see testdata/inputs/trx/RECORD.md). Needs node and npm;
# `npm ci` when node_modules/ is missing. Both runs exit non-zero on purpose (a test fails).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../inputs/trx"
scratch="${RECORD_SCRATCH:-/tmp/rec-trx}"
mkdir -p "$out" "$scratch"
cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null

# Jest with jest-trx-results-processor as its reporter (jest.config.cjs) (jest.retryTimes(1) in the test).
rm -f "$scratch/jest-counter"
FLAKY_COUNTER_FILE="$scratch/jest-counter" node_modules/.bin/jest --ci --runInBand \
  --cacheDirectory="$scratch/jest-cache" --config "$here/jest.config.cjs" >/dev/null 2>&1
echo "jest: exit $? (1 expected)"
mv "$scratch/jest-trx.trx" "$out/jest-trx.trx"

# Mocha with mocha-trx-reporter (this.retries(1) in the spec).
rm -f "$scratch/mocha-counter"
FLAKY_COUNTER_FILE="$scratch/mocha-counter" node_modules/.bin/mocha mocha/calc.spec.js \
  --reporter mocha-trx-reporter --reporter-options "output=$out/mocha-trx.trx" >/dev/null 2>&1
echo "mocha: exit $? (1 expected)"

# The only edits: the sample's absolute directory, the user and the host.
sed -i -e "s#$here#/home/user/trx-sample#g" -e "s#$(id -un)#user#g" -e "s#$(hostname)#ci-host#g" \
  "$out/jest-trx.trx" "$out/mocha-trx.trx"
