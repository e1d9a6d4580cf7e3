#!/usr/bin/env bash
# Re-records the real test-runner outputs in testdata/inputs/ from the sample
# projects in this directory. See testdata/inputs/RECORD.md for what each file is.
#
# Needs: a Python venv with pytest, pytest-reportlog, pytest-rerunfailures and
# pytest-json-report (PYTEST=/path/to/venv/bin/pytest, default /tmp/pyvenv/bin/pytest),
# cargo, and optionally cargo-nextest.
#
# The recordings are run from each project's directory so that paths are relative;
# the few absolute project paths that the tools still print are replaced by
# /home/user/<project> afterwards. Nothing else is edited.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
inputs="$here/../inputs"
PYTEST="${PYTEST:-/tmp/pyvenv/bin/pytest}"
unset RUST_BACKTRACE
export PYTHONDONTWRITEBYTECODE=1

# ---------------------------------------------------------------- pytest
out="$inputs/pytest"
mkdir -p "$out"
cd "$here/pytest-sample"
flaky=/tmp/flaky-sample-pytest
common=(-p no:cacheprovider --reruns 2)
rm -f "$flaky"; "$PYTEST" "${common[@]}" --report-log="$out/reportlog.jsonl" >/dev/null
rm -f "$flaky"; "$PYTEST" "${common[@]}" -o junit_family=xunit2 --junitxml="$out/junit-xunit2.xml" >/dev/null
rm -f "$flaky"; "$PYTEST" "${common[@]}" -o junit_family=xunit1 --junitxml="$out/junit-xunit1.xml" >/dev/null
rm -f "$flaky"; "$PYTEST" "${common[@]}" --json-report --json-report-file="$out/json-report.json" >/dev/null
rm -f "$flaky"
sed -i "s#$here/pytest-sample#/home/user/pytest-sample#g" "$out"/*

# ---------------------------------------------------------------- cargo
out="$inputs/cargo"
mkdir -p "$out"
cd "$here/cargo-sample"
flaky=/tmp/flaky-sample-cargo
cargo clean -q; rm -f "$flaky"
cargo test --no-fail-fast >"$out/cargo-test.txt" 2>&1
cargo clean -q; rm -f "$flaky"
RUSTC_BOOTSTRAP=1 cargo test --no-fail-fast -- -Z unstable-options --format json --report-time \
  >"$out/libtest.json" 2>"$out/libtest-stderr.txt"
if cargo nextest --version >/dev/null 2>&1; then
  cargo clean -q; rm -f "$flaky"
  cargo nextest run --no-fail-fast >/dev/null 2>&1
  cp target/nextest/default/junit.xml "$out/nextest-junit.xml"
  # A stress run: every test three times, each iteration a suite `BINARY@stress-N`.
  cargo clean -q; rm -f "$flaky"
  cargo nextest run --no-fail-fast --stress-count 3 >/dev/null 2>&1
  cp target/nextest/default/junit.xml "$out/nextest-stress-junit.xml"
  cargo clean -q; rm -f "$flaky"
  NEXTEST_EXPERIMENTAL_LIBTEST_JSON=1 cargo nextest run --no-fail-fast --message-format libtest-json-plus \
    >"$out/nextest-libtest-json.jsonl" 2>"$out/nextest-libtest-json-stderr.txt"
else
  echo "cargo-nextest not installed: nextest recordings skipped" >&2
fi
rm -f "$flaky"
rm -rf target
sed -i "s#$here/cargo-sample#/home/user/cargo-sample#g" "$out"/*

# ---------------------------------------------------------------- pytest extras
# Outcomes the main pytest run lacks (RECORD.md, "pytest extras"); no --reruns.
out="$inputs/pytest"
cd "$here/pytest-sample"
"$PYTEST" -p no:cacheprovider extra --report-log="$out/extra-reportlog.jsonl" >/dev/null
"$PYTEST" -p no:cacheprovider extra -o junit_family=xunit2 --junitxml="$out/extra-junit-xunit2.xml" >/dev/null
"$PYTEST" -p no:cacheprovider extra -o junit_family=xunit1 --junitxml="$out/extra-junit-xunit1.xml" >/dev/null
"$PYTEST" -p no:cacheprovider extra --json-report --json-report-file="$out/extra-json-report.json" >/dev/null
sed -i "s#$here/pytest-sample#/home/user/pytest-sample#g" "$out"/extra-*
# ---------------------------------------------------------------- pytest reruns that print
# Tests that print, rerun by pytest-rerunfailures (RECORD.md, "pytest reruns that print").
out="$inputs/pytest"
cd "$here/pytest-sample"
flaky=/tmp/flaky-sample-pytest-output
rm -f "$flaky"; "$PYTEST" -p no:cacheprovider --reruns 2 rerun_output -o junit_family=xunit1 -o junit_logging=all --junitxml="$out/rerun-output-junit-xunit1.xml" >/dev/null
rm -f "$flaky"; "$PYTEST" -p no:cacheprovider --reruns 2 rerun_output -o junit_family=xunit2 -o junit_logging=all --junitxml="$out/rerun-output-junit-xunit2.xml" >/dev/null
rm -f "$flaky"; "$PYTEST" -p no:cacheprovider --reruns 2 rerun_output --report-log="$out/rerun-output-reportlog.jsonl" >/dev/null
rm -f "$flaky"
sed -i "s#$here/pytest-sample#/home/user/pytest-sample#g" "$out"/rerun-output-*
echo "recorded into $inputs"
