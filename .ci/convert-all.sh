#!/usr/bin/env bash
# Converts every input in testdata/ (JUnit, pytest reportlog and json-report, libtest and nextest JSON,
# cargo test text, Go's test2json, Dart's and Flutter's JSON, Jest's and Vitest's JSON, RSpec's and Mocha's JSON, mochawesome,
# GoogleTest JSON, Catch2 XML, NUnit XML, .NET TRX) and, when present, ../shared/corpus/ and every
# result file of dorny/test-reporter's fixtures, then checks each output with our validator and with the official Zod
# schema. Inputs that are broken on purpose must be refused with exit code 4 and leave no output.
#   bash .ci/convert-all.sh FLAKINESS_BIN
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$1
sha=0123456789abcdef0123456789abcdef01234567
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inputs=()
# The recordings of formats `convert` reads. testdata/inputs/ also holds recordings of
# formats it does not read yet (issue 16): only their JUnit files are taken from there.
while IFS= read -r f; do inputs+=("$f"); done < <(
  { find testdata/junit testdata/inputs/pytest testdata/inputs/cargo -name '*.xml'
    find testdata/inputs -name '*junit*.xml' -not -path 'testdata/inputs/pytest/*' -not -path 'testdata/inputs/cargo/*'
  } | sort -u)
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/go \( -name 'go-test*.json' -o -name 'gotestsum*.json' \) | sort)
# Dart's and Flutter's JSON (written by hand from the protocol: testdata/inputs/dart/RECORD.md).
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/dart -name '*.json' | sort)
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/rspec -name 'rspec*.json' | sort)
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/mocha \( -name 'mocha*.json' -o -name 'mocha-json-stdout.txt' \) | sort)
# GoogleTest's JSON (and its XML, read as JUnit); Catch2's XML reporter, v2 and v3 (its
# JUnit files are taken above; its JSON reporter is not read).
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/gtest \( -name 'gtest*.json' -o -name 'gtest*.xml' \) | sort)
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/catch2 -name 'catch2-v*.xml' -not -name '*junit*' | sort)
# NUnit XML: NUnit 2.6 (Mono), pytest-nunit's NUnit 3, the hand-written NUnit 3 file.
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/nunit -name '*.xml' | sort)
# .NET's TRX: the recordings of the npm TRX writers and the hand-written .NET shapes.
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/trx -name '*.trx' | sort)
# Jest's and Vitest's JSON: the identity samples' and the edge cases'.
while IFS= read -r f; do inputs+=("$f"); done < <(
  { find testdata/identity -path '*/out/*' \( -name 'jest*.json' -o -name 'vitest*.json' \) -not -path '*/official/*'
    find testdata/inputs/jsjson -name '*.json'
  } | sort)
while IFS= read -r f; do inputs+=("$f"); done < <(find testdata/inputs/pytest testdata/inputs/cargo testdata/cargotext testdata/pytest \( -name '*.json' -o -name '*.jsonl' -o -name '*.txt' \) 2>/dev/null | grep -v -- '-stderr.txt' | sort)
if [ -d ../shared/corpus ]; then
  while IFS= read -r f; do inputs+=("$f"); done < <(find -L ../shared/corpus -name '*.xml' | sort)
  while IFS= read -r f; do inputs+=("$f"); done < <(find -L ../shared/corpus/cargo2junit/src/test_inputs -name '*.json' | sort)
else
  echo "../shared/corpus is absent: checking testdata/ only"
fi
# Every result file of dorny/test-reporter's fixtures (all formats), when there.
while IFS= read -r f; do inputs+=("$f"); done < <(find -L ../shared/dorny/fixtures -type f -not -name 'files.txt' 2>/dev/null | sort)
bad=0 converted=0 refused=0 i=0
for f in "${inputs[@]}"; do
  i=$((i + 1))
  dest="$out/$i"
  "$bin" convert --commit-id "$sha" "$f" -o "$dest" 2>"$out/err"
  code=$?
  case "$f" in
    *truncated*|*html.xml|*/empty.xml|*corrupt*|*non-junit*|*compile_fail.json|*/outside-*) broken=1 ;;
    *) broken=0 ;;
  esac
  if [ "$broken" = 1 ]; then
    if [ "$code" != 4 ] || [ -e "$dest" ]; then
      echo "FAIL $f: broken on purpose, but exit $code (want 4, no output)"; bad=$((bad + 1))
    else
      refused=$((refused + 1))
    fi
  elif [ "$code" != 0 ]; then
    echo "FAIL $f: exit $code: $(tail -1 "$out/err")"; bad=$((bad + 1))
  else
    converted=$((converted + 1))
  fi
done
rm -f "$out/err"
echo "converted $converted, refused $refused broken input(s), $bad unexpected"
"$bin" validate "$out" > "$out.validate" || { cat "$out.validate"; bad=$((bad + 1)); }
tail -1 "$out.validate"; rm -f "$out.validate"
node .ci/conformance/zod-reports.mjs "$out" || bad=$((bad + 1))
[ "$bad" = 0 ]
