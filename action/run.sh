#!/usr/bin/env bash
# The work of the flakiness GitHub Action (action.yml): convert the result files into a report,
# analyze it with the history, write the job summary, annotations and outputs, upload when
# asked, and exit as `fail-on` says.
#
# Reads its inputs from INPUT_* variables (action.yml sets them from `with:`) and GitHub's
# GITHUB_STEP_SUMMARY, GITHUB_OUTPUT and RUNNER_TEMP, so that it runs anywhere with those set
# to files (crates/flakiness-cli/tests/cli/action.rs does). Needs bash 4.
#
# Exit status: 0; 1 when `fail-on` is met; 2 for a bad input; else the status of the
# `flakiness` command that failed (3 I/O, 4 bad input, 7 store, 8 upload...).
set -euo pipefail

# An error as a GitHub annotation (plain text elsewhere), on stderr.
error() { printf '::error title=flakiness::%s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  error "$*"
  exit "$code"
}

bool() { # NAME VALUE: true or false, else a usage error
  case "$2" in
    true | false) printf '%s' "$2" ;;
    *) die 2 "input $1 must be true or false, not '$2'" ;;
  esac
}

results=${INPUT_RESULTS:-}
format=${INPUT_FORMAT:-auto}
report_dir=${INPUT_REPORT_DIR:-flakiness-report}
env_name=${INPUT_ENV_NAME:-}
title=${INPUT_TITLE:-}
analyze=$(bool analyze "${INPUT_ANALYZE:-true}")
history=${INPUT_HISTORY:-.flakiness/history.db}
quarantine=${INPUT_QUARANTINE:-}
fail_on=${INPUT_FAIL_ON:-failed}
annotations=$(bool annotations "${INPUT_ANNOTATIONS:-true}")
endpoint=${INPUT_ENDPOINT:-}
token=${INPUT_TOKEN:-}
project=${INPUT_PROJECT:-}
flakiness=${INPUT_FLAKINESS_BIN:-flakiness}

case "$fail_on" in
  failed | flaky | broken | nothing) ;;
  *) die 2 "input fail-on must be failed, flaky, broken or nothing, not '$fail_on'" ;;
esac
[ -n "$results" ] || die 2 "input results is empty: give the test result files or globs, one a line"
[ -n "${GITHUB_OUTPUT:-}" ] || die 2 "GITHUB_OUTPUT is not set"
[ -n "${GITHUB_STEP_SUMMARY:-}" ] || die 2 "GITHUB_STEP_SUMMARY is not set"
if ! command -v "$flakiness" >/dev/null; then
  die 2 "the flakiness binary '$flakiness' was not found"
fi
[ ! -e "$report_dir" ] || die 2 "the report directory $report_dir exists already: give another report-dir"

# Every line of `results` is a path or a glob (`**` crosses directories); a pattern matching
# nothing is an error, as no result at all would be.
shopt -s nullglob globstar
inputs=()
while IFS= read -r line || [ -n "$line" ]; do
  # Trim the line (YAML block scalars keep indentation and trailing spaces).
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  [ -n "$line" ] || continue
  # Unquoted on purpose, with IFS empty: globbed, never split on spaces.
  saved_ifs=$IFS
  IFS=
  # shellcheck disable=SC2206
  matched=($line)
  IFS=$saved_ifs
  if [ "${#matched[@]}" -eq 0 ] || { [ "${#matched[@]}" -eq 1 ] && [ ! -e "${matched[0]}" ]; }; then
    die 4 "no test results match '$line'"
  fi
  inputs+=("${matched[@]}")
done <<<"$results"
shopt -u nullglob globstar
[ "${#inputs[@]}" -gt 0 ] || die 2 "input results names no file"

work="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/flakiness-action"
mkdir -p "$work"

status=0
args=(convert --from "$format" -o "$report_dir")
[ -z "$env_name" ] || args+=(--env-name "$env_name")
[ -z "$title" ] || args+=(--title "$title")
# The commit comes from git; a job that checked nothing out has GitHub's.
if [ -n "${GITHUB_SHA:-}" ] && ! git rev-parse --git-dir >/dev/null 2>&1; then
  args+=(--commit-id "$GITHUB_SHA")
fi
"$flakiness" "${args[@]}" -- "${inputs[@]}" || status=$?
[ "$status" -eq 0 ] || die "$status" "flakiness convert failed (exit $status) on ${#inputs[@]} input(s)"

analysis=""
if [ "$analyze" = true ]; then
  analysis="$work/analysis.json"
  args=(analyze --db "$history" --format json)
  [ -z "$quarantine" ] || args+=(--quarantine "$quarantine")
  # Written whole or not at all: a failed analysis leaves no stale file behind.
  "$flakiness" "${args[@]}" -- "$report_dir" >"$analysis.tmp" || status=$?
  if [ "$status" -ne 0 ]; then
    rm -f "$analysis.tmp"
    die "$status" "flakiness analyze failed (exit $status) with the history $history"
  fi
  mv "$analysis.tmp" "$analysis"
fi

# The job summary, annotations (stdout), outputs, flaky list and verdict; it writes the verdict
# to a file and exits 0 whatever it says, so that the upload comes first.
args=(
  github-summary
  --step-summary "$GITHUB_STEP_SUMMARY"
  --output "$GITHUB_OUTPUT"
  --fail-on "$fail_on"
  --flaky-list "$work/flaky-tests.txt"
  --verdict "$work/verdict"
)
[ "$annotations" = true ] || args+=(--no-annotations)
[ -z "$analysis" ] || args+=(--analysis "$analysis" --history "$history")
[ -z "$quarantine" ] || args+=(--quarantine "$quarantine")
"$flakiness" "${args[@]}" -- "$report_dir" || status=$?
[ "$status" -eq 0 ] || die "$status" "flakiness github-summary failed (exit $status): the summary could not be written"

if [ -n "$endpoint" ] || [ -n "$token" ]; then
  # The token goes by the environment, never on a command line.
  [ -z "$token" ] || export FLAKINESS_ACCESS_TOKEN="$token"
  [ -z "$endpoint" ] || export FLAKINESS_ENDPOINT="$endpoint"
  [ -z "$project" ] || export FLAKINESS_PROJECT="$project"
  "$flakiness" upload -- "$report_dir" || status=$?
  [ "$status" -eq 0 ] || die "$status" "flakiness upload failed (exit $status)"
fi

verdict=$(cat "$work/verdict")
if [ -n "$verdict" ]; then
  error "$verdict (fail-on: $fail_on)"
  exit 1
fi
