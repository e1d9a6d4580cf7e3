#!/usr/bin/env bash
# Records TestNG's JUnit reports of this sample into testdata/inputs/testng/ (RECORD.md there).
# Needs a JDK and Debian's libtestng7-java (TestNG 7.5) and libjcommander-java. The default
# listeners are off (Debian's TestNG lacks the HTML report's jquery.min.js); the two reporters
# recorded are named instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../inputs/testng"
mkdir -p "$out"
work=$(mktemp -d)
tmp=${TMPDIR:-/tmp}
trap 'rm -rf "$work"; rm -f "$tmp/flaky-sample-testng"' EXIT
cp=/usr/share/java/testng.jar:/usr/share/java/jcommander.jar:/usr/share/java/slf4j-api.jar
javac -d "$work/classes" -cp "$cp" "$here"/src/sample/*.java
rm -f "$tmp/flaky-sample-testng"
# Exit 1: tests failed.
java -Djava.io.tmpdir="$tmp" -cp "$work/classes:$cp" org.testng.TestNG -d "$work/out" \
  -usedefaultlisteners false \
  -listener org.testng.reporters.JUnitReportReporter,org.testng.reporters.XMLReporter \
  -testclass sample.CalculatorTest >"$out/testng-console.txt" 2>&1 || true
cp "$work/out/junitreports/TEST-sample.CalculatorTest.xml" "$out/testng-junitreports.xml"
cp "$work/out/testng-results.xml" "$out/testng-results.xml"
