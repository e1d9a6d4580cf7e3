#!/usr/bin/env bash
# Re-records testdata/identity/pytest/out/ from the sample project in ./project:
# pytest's own reporters (JUnit xunit2/xunit1, report-log, json-report) and the
# official Flakiness reporter pytest-flakiness (out/official/report.json), all for
# the same run options. See RECORD.md beside this file.
#
# Needs a venv with: pytest pytest-flakiness==1.2.0 pytest-reportlog
# pytest-json-report pytest-rerunfailures
#   python3 -m venv /tmp/rec-pytest/venv
#   /tmp/rec-pytest/venv/bin/pip install pytest pytest-flakiness==1.2.0 \
#       pytest-reportlog pytest-json-report pytest-rerunfailures
# PYTHON and PYTEST default to that venv's python and pytest.
#
# No network is used: pytest-flakiness runs with --flakiness-disable-upload and no
# access token, and every FLAKINESS_*/FK_ENV_*/CI variable it reads is unset.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
project="$here/project"
out="$here/out"
VENV="${VENV:-/tmp/rec-pytest/venv}"
PYTHON="${PYTHON:-$VENV/bin/python}"
PYTEST="${PYTEST:-$VENV/bin/pytest}"
flaky=/tmp/flaky-identity-pytest
# A fixed commit id, so that the report does not depend on the checkout.
commit=0123456789abcdef0123456789abcdef01234567

export PYTHONDONTWRITEBYTECODE=1
# Everything pytest-flakiness reads from the environment: options, FK_ENV_*
# metadata, CI run URLs and OIDC credentials.
for v in $(compgen -e); do
  case "$v" in
    FLAKINESS_* | FK_ENV_* | ACTIONS_ID_TOKEN_* | GITHUB_* | CI_JOB_URL | BUILD_URL | \
      SYSTEM_TEAMFOUNDATIONCOLLECTIONURI | SYSTEM_TEAMPROJECT | BUILD_BUILDID)
      unset "$v" ;;
  esac
done

# The sample has failing tests, so pytest must exit with 1 (and nothing else).
run_pytest() {
  rm -f "$flaky"
  local rc=0
  "$PYTEST" "$@" >/dev/null || rc=$?
  rm -f "$flaky"
  if [ "$rc" -ne 1 ]; then
    echo "record.sh: pytest exited with $rc (expected 1): $*" >&2
    exit 1
  fi
}

rm -rf "$out"
mkdir -p "$out/official"
cd "$project"
common=(-p no:cacheprovider --reruns 2)

# pytest's own reporters. pytest-flakiness is switched off here: it would write a
# ./flakiness-report directory and add its fields to report-log entries.
run_pytest "${common[@]}" -p no:flakiness -o junit_family=xunit2 --junitxml="$out/junit-xunit2.xml"
run_pytest "${common[@]}" -p no:flakiness -o junit_family=xunit1 --junitxml="$out/junit-xunit1.xml"
run_pytest "${common[@]}" -p no:flakiness --report-log="$out/reportlog.jsonl"
run_pytest "${common[@]}" -p no:flakiness --json-report --json-report-file="$out/json-report.json"

# The official reporter. It deletes and re-creates its output directory, so it
# writes into a fresh scratch directory; only report.json is kept (it also creates
# an attachments/ directory, empty for this project).
mkdir -p /tmp/rec-pytest
scratch="$(mktemp -d /tmp/rec-pytest/flakiness.XXXXXX)"
run_pytest "${common[@]}" \
  --flakiness-output-dir="$scratch/flakiness-report" \
  --flakiness-git-root=. \
  --flakiness-commit-id="$commit" \
  --flakiness-disable-upload
cp "$scratch/flakiness-report/report.json" "$out/official/report.json"
if [ -n "$(ls -A "$scratch/flakiness-report/attachments" 2>/dev/null)" ]; then
  echo "record.sh: note: pytest-flakiness wrote attachments (not kept):" >&2
  ls "$scratch/flakiness-report/attachments" >&2
fi
rm -rf "$scratch"

# The only edit: the absolute project directory.
sed -i "s#$project#/home/user/pytest-sample#g" "$out"/*.xml "$out"/*.json "$out"/*.jsonl "$out/official/report.json"

# Checks: valid JSON, and nothing of this host or user in the official report.
"$PYTHON" -m json.tool "$out/official/report.json" >/dev/null
"$PYTHON" -m json.tool "$out/json-report.json" >/dev/null
while IFS= read -r line; do
  printf '%s' "$line" | "$PYTHON" -m json.tool >/dev/null
done <"$out/reportlog.jsonl"
for s in "\"$(hostname)\"" "$HOME/" "/tmp/" "$here"; do
  if grep -qF "$s" "$out/official/report.json"; then
    echo "record.sh: warning: official/report.json contains $s" >&2
  fi
done
echo "recorded into $out"
