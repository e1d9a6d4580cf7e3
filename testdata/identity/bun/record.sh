#!/usr/bin/env bash
# Re-records testdata/identity/bun/out/junit.xml from the sample project in ./project,
# with the bun binary that the npm package `bun` ships (see RECORD.md).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
project="$here/project"
out="$here/out"

cd "$project"
if [ ! -x node_modules/.bin/bun ]; then
  npm ci --no-audit --no-fund
fi

# The flaky test keeps its attempt counter here; start from zero.
rm -f /tmp/bun-sample-flaky
rm -rf "$out"
mkdir -p "$out"

status=0
NO_COLOR=1 ./node_modules/.bin/bun test --reporter=junit --reporter-outfile=../out/junit.xml \
  >"$out/console.txt" 2>&1 || status=$?
echo "bun test exited with $status (failures are expected)"

# Post-processing: bun prints the absolute project directory in the console output
# (not in the JUnit file); it becomes /home/user/bun-sample. Nothing else is changed.
for f in "$out/junit.xml" "$out/console.txt"; do
  sed -i "s#$project#/home/user/bun-sample#g" "$f"
done
# Bun on Windows writes the same document with the test files' paths in Windows form
# (`name="tests\basics.test.ts" file="tests\basics.test.ts"`). No Windows machine is at
# hand: out/junit-windows.xml is junit.xml with the `/` of those two attributes turned
# into `\`, nothing else, to check that both runs give one identity.
python3 - "$out/junit.xml" "$out/junit-windows.xml" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
win = re.sub(r'\b(file|name)="(tests/[^"]*)"',
             lambda m: m.group(1) + '="' + m.group(2).replace("/", "\\") + '"', text)
open(sys.argv[2], "w", encoding="utf-8").write(win)
EOF
echo "recorded into $out"
