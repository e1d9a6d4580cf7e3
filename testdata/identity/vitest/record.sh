#!/usr/bin/env bash
# Records one Vitest run of ./project into ./out with every reporter at once
# (reporters and output files are set in project/vitest.config.js):
#   out/junit.xml             built-in junit reporter (default options)  == --reporter=junit --outputFile.junit=...
#   out/vitest.json           built-in json reporter                      == --reporter=json  --outputFile.json=...
#   out/official/report.json  @flakiness/vitest (written locally, upload disabled)
#
# Needs Node 20.19+ (vite 8) and npm. Dependencies are installed with `npm ci` from
# project/package-lock.json (set SKIP_NPM_CI=1 to reuse an existing node_modules).
# The run exits non-zero on purpose (the sample has a failing test); that is expected.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT="$HERE/project"
OUT="$HERE/out"
SCRATCH="${RECORD_SCRATCH:-/tmp/rec-js/vitest}"
SAMPLE_DIR=/home/user/vitest-sample   # replaces $PROJECT in the recorded files
COUNTER=/tmp/rec-js/vitest-flaky-counter

cd "$PROJECT"

if [ "${SKIP_NPM_CI:-0}" != 1 ]; then
  npm ci --no-audit --no-fund
fi

# @flakiness/vitest refuses to write a report outside a git repository and makes
# locations relative to the git root. To get the ordinary layout (git root == project
# dir) without touching any enclosing repository, point git at a throw-away repository
# in $SCRATCH whose work tree is the project dir, holding one empty commit with a fixed
# author/date (so commitId is the same on every recording).
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH" "$(dirname "$COUNTER")"
export GIT_DIR="$SCRATCH/git" GIT_WORK_TREE="$PROJECT"
git init -q -b main
GIT_AUTHOR_DATE='2025-01-01T00:00:00Z' GIT_COMMITTER_DATE='2025-01-01T00:00:00Z' \
  git -c user.name=sample -c user.email=sample@example.invalid -c commit.gpgsign=false \
  commit -q --allow-empty -m 'identity sample'

# No CI run URL, no upload, no FK_ENV_* metadata, no title in the report.
unset CI GITHUB_REPOSITORY GITHUB_RUN_ID GITHUB_RUN_ATTEMPT GITHUB_SERVER_URL \
  SYSTEM_TEAMFOUNDATIONCOLLECTIONURI SYSTEM_TEAMPROJECT BUILD_BUILDID CI_JOB_URL BUILD_URL \
  FLAKINESS_ACCESS_TOKEN FLAKINESS_ENDPOINT FLAKINESS_TITLE FLAKINESS_OUTPUT_DIR FLAKINESS_ID_TOKEN
for v in $(env | sed -n 's/^\(FK_ENV_[^=]*\)=.*/\1/p'); do unset "$v"; done
export FLAKINESS_DISABLE_UPLOAD=1

rm -f "$COUNTER"
rm -rf "$OUT"
mkdir -p "$OUT"

set +e
RECORD_OUT_DIR="$OUT" FLAKY_COUNTER_FILE="$COUNTER" \
  npx --no-install vitest run
rc=$?
set -e
echo "vitest exit code: $rc (1 expected: the sample contains a failing test)"

# Keep only report.json from the official reporter's folder.
find "$OUT/official" -mindepth 1 ! -name report.json -exec rm -rf {} +

# Post-processing: replace the absolute project dir with a neutral one, and
# scrub the host and user names if they ever appear. Nothing else is changed.
host=$(hostname 2>/dev/null || true)
user=$(id -un 2>/dev/null || true)
for f in "$OUT"/junit.xml "$OUT"/vitest.json "$OUT"/official/report.json; do
  sed -i "s#$PROJECT#$SAMPLE_DIR#g" "$f"
  if [ -n "$host" ]; then
    # JUnit hostname="..." attribute (any length), elsewhere only names long enough to be unambiguous.
    sed -i "s#hostname=\"$host\"#hostname=\"sample-host\"#g" "$f"
    if [ "${#host}" -ge 3 ]; then sed -i "s#\\b$host\\b#sample-host#g" "$f"; fi
  fi
  if [ -n "$user" ] && [ "$user" != root ] && [ "${#user}" -ge 3 ]; then sed -i "s#/home/$user/#/home/user/#g; s#\\b$user\\b#user#g" "$f"; fi
done

node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$OUT/official/report.json"
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$OUT/vitest.json"
ls -l "$OUT" "$OUT/official"
