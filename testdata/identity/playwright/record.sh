#!/usr/bin/env bash
# Re-records testdata/identity/playwright/out/ from the sample project in ./project.
# One `playwright test` run with four reporters: junit (twice: default and includeRetries),
# json and @flakiness/playwright. Git is pointed at a throw-away repository (see below),
# so the git root is ./project. Set RECORD_SCRATCH to move that repository elsewhere.
# See RECORD.md for what is recorded and what differs between recordings.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
project="$here/project"
out="$here/out"
raw="$project/reports"

scratch="${RECORD_SCRATCH:-/tmp/rec-js/playwright}"

cd "$project"
if [ ! -d node_modules/@flakiness/playwright ] || [ ! -d node_modules/@playwright/test ]; then
  npm ci --no-audit --no-fund
fi

# @flakiness/playwright writes no report outside a git repository and makes every
# path relative to the git root (and takes its HEAD as commitId). To get the ordinary
# layout (git root == project dir) without touching any enclosing repository, point
# git at a throw-away repository in $scratch whose work tree is the project dir,
# holding one empty commit with a fixed author/date (so commitId is the same on every
# recording). Same recipe as ../jest/record.sh.
rm -rf "$scratch"
mkdir -p "$scratch"
export GIT_DIR="$scratch/git" GIT_WORK_TREE="$project"
git init -q -b main
GIT_AUTHOR_DATE='2025-01-01T00:00:00Z' GIT_COMMITTER_DATE='2025-01-01T00:00:00Z' \
  git -c user.name=sample -c user.email=sample@example.invalid -c commit.gpgsign=false \
  commit -q --allow-empty -m 'identity sample'
echo "throw-away git root: $(git rev-parse --show-toplevel), HEAD $(git rev-parse HEAD)"

# The flaky test keeps one counter file per project; start from zero.
rm -f /tmp/playwright-sample-flaky-alpha /tmp/playwright-sample-flaky-beta
rm -rf "$raw" test-results
mkdir -p "$raw"

# No upload: the reporter is configured with disableUpload, and no token is set.
# FK_ENV_* variables would end up in the environments' metadata, CI variables in
# the report url: keep them out.
status=0
env -u FLAKINESS_ACCESS_TOKEN -u FLAKINESS_ENDPOINT -u FLAKINESS_OUTPUT_DIR -u FLAKINESS_TITLE \
    -u GITHUB_REPOSITORY -u GITHUB_RUN_ID -u CI_JOB_URL -u BUILD_URL \
    $(env | sed -n 's/^\(FK_ENV_[A-Za-z0-9_]*\)=.*/-u \1/p') \
    FORCE_COLOR=0 \
    npx playwright test >"$raw/console.txt" 2>&1 || status=$?
echo "playwright test exited with $status (failures are expected)"

rm -rf "$out"
mkdir -p "$out/official"
cp "$raw/junit.xml" "$out/junit.xml"
cp "$raw/junit-retries.xml" "$out/junit-retries.xml"
cp "$raw/playwright.json" "$out/playwright.json"
cp "$raw/flakiness-report/report.json" "$out/official/report.json"

# Post-processing: the absolute project directory becomes /home/user/playwright-sample,
# the home directory becomes /home/user, and the host name is scrubbed (a short generic
# one such as "vm" or "localhost" is kept, since replacing it could hit other words).
# Nothing else is changed.
host="$(hostname)"
for f in "$out/junit.xml" "$out/junit-retries.xml" "$out/playwright.json" "$out/official/report.json"; do
  sed -i "s#$project#/home/user/playwright-sample#g" "$f"
  if [ -n "${HOME:-}" ] && [ "$HOME" != "/" ]; then
    sed -i "s#$HOME/#/home/user/#g" "$f"
  fi
  case "$host" in
    ""|vm|localhost) ;;
    *) sed -i "s#$host#host#g" "$f" ;;
  esac
done
echo "recorded into $out"
