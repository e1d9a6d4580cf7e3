#!/usr/bin/env bash
# Re-records testdata/inputs/jsjson/ (Jest's and Vitest's JSON on edge cases the
# identity samples lack). See testdata/inputs/jsjson/RECORD.md.
#
# Needs node and npm. It runs the Jest and the Vitest installed in the identity
# samples (testdata/identity/{jest,vitest}/project, pinned there, `npm ci` when
# node_modules/ is missing): this sample has no package.json of its own.
# Both runs exit 1 on purpose (the sample fails).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="$repo/testdata/inputs/jsjson"
scratch="${RECORD_SCRATCH:-/tmp/rec-jsjson}"
mkdir -p "$out" "$scratch"
for p in jest vitest; do
  dir="$repo/testdata/identity/$p/project"
  [ -x "$dir/node_modules/.bin/$p" ] || (cd "$dir" && npm ci --no-audit --no-fund >/dev/null)
done

# Jest, colours forced (as many CI set-ups do) so that the ANSI codes in messages show.
cd "$here/jest"
rm -rf "$scratch/jest-cache"; rm -f "$scratch/jest-edge-counter"
FORCE_COLOR=1 FLAKY_COUNTER_FILE="$scratch/jest-edge-counter" \
  "$repo/testdata/identity/jest/project/node_modules/.bin/jest" --ci --runInBand \
  --cacheDirectory="$scratch/jest-cache" --json --outputFile="$out/jest-edge.json" >/dev/null 2>&1
echo "jest: exit $? (1 expected)"

# Vitest's json reporter.
cd "$here/vitest"
RECORD_CACHE_DIR="$scratch/vite-cache" \
  "$repo/testdata/identity/vitest/project/node_modules/.bin/vitest" run --config vitest.config.mjs \
  --reporter=json --outputFile="$out/vitest-edge.json" >/dev/null 2>&1
echo "vitest: exit $? (1 expected)"

sed -i "s#$repo#/home/user/repo#g" "$out"/*.json
echo "recorded into $out"
