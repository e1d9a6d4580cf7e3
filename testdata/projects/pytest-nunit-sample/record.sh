#!/usr/bin/env bash
# Re-records the NUnit 3 XML written by pytest-nunit into testdata/inputs/nunit/. See
# testdata/inputs/nunit/RECORD.md for the versions and what each file is.
#
# Needs Python 3 with pytest and pytest-nunit in a virtual environment:
#   python3 -m venv /tmp/nunitvenv && /tmp/nunitvenv/bin/pip install pytest pytest-nunit
# (PYTHON=/path/to/venv/bin/python overrides the interpreter.)
set -u
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
py="${PYTHON:-/tmp/nunitvenv/bin/python}"
out="$(cd ../../inputs/nunit && pwd)"
flaky=/tmp/flaky-sample-pytest-nunit
export NUNIT_ATTACH_DIR="$out/attachments"

# Run 1 with the counter deleted: test_flaky fails. Run 2, the counter kept (a CI re-run):
# test_flaky passes. pytest exits 1 in both (other tests fail on purpose).
rm -f "$flaky"
"$py" -m pytest -p no:cacheprovider -q tests --nunit-xml="$out/pytest-nunit-run1.xml" >"$out/pytest-nunit-run1-console.txt" 2>&1
"$py" -m pytest -p no:cacheprovider -q tests --nunit-xml="$out/pytest-nunit-run2.xml" >"$out/pytest-nunit-run2-console.txt" 2>&1

# The absolute directories become relative or neutral (RECORD.md, "Post-processing"): the
# attachment's path is relative to the XML's folder, the project's is /home/user/….
for f in "$out"/pytest-nunit-run*.xml "$out"/pytest-nunit-run*-console.txt; do
  sed -i -e "s#$out/##g" -e "s#$here#/home/user/pytest-nunit-sample#g" "$f"
done
