#!/usr/bin/env bash
# Converts JUnit XML files with the official converter @flakiness/junit-xml (pinned in
# ./tool) and keeps only the resulting report.json of each, in out/<name>/report.json.
# The inputs are found at run time (see RECORD.md); a file the converter refuses is
# logged in out/failures.log and the script goes on.
set -eu
shopt -s nullglob

here="$(cd "$(dirname "$0")" && pwd)"
data="$(cd "$here/../.." && pwd)"          # .../testdata
tool="$here/tool"
out="$here/out"
scratch="${JUNIT_XML_SCRATCH:-/tmp/rec-pw/junit-xml-run}"

cd "$tool"
if [ ! -x node_modules/.bin/flakiness-junit-xml ]; then
  npm ci --no-audit --no-fund
fi
cli="$tool/node_modules/.bin/flakiness-junit-xml"

inputs=()
for f in "$data"/identity/*/out/*junit*.xml; do inputs+=("$f"); done
for f in "$data"/junit/*.xml "$data"/junit/*/*.xml; do inputs+=("$f"); done
for f in "$data"/inputs/*/*.xml; do inputs+=("$f"); done
for f in "$here"/probes/*.xml; do inputs+=("$f"); done

rm -rf "$out" "$scratch"
mkdir -p "$out" "$scratch"
log="$out/converter.log"
failures="$out/failures.log"
: >"$log"
: >"$failures"

# Name of an input: its path below testdata/ without ".xml", "/" -> "-", and the
# "out/" folder of identity recordings left out; probes are "probe-<file>".
name_of() {
  local rel="${1#"$data"/}"
  case "$1" in
    "$here"/probes/*) rel="probe-${1#"$here"/probes/}" ;;
  esac
  rel="${rel%.xml}"
  rel="${rel/\/out\//\/}"
  printf '%s' "${rel//\//-}"
}

converted=0
failed=0
for input in "${inputs[@]}"; do
  [ -f "$input" ] || continue
  name="$(name_of "$input")"
  dest="$scratch/$name"
  echo "=== $name (${input#"$data"/})" >>"$log"
  status=0
  # Run next to the input, so that relative attachment paths in it resolve the way
  # they would for a user; the commit id is auto-detected from that folder's git
  # repository. No upload: --disable-upload, and no token in the environment.
  (
    cd "$(dirname "$input")"
    env -u FLAKINESS_ACCESS_TOKEN -u FLAKINESS_PROJECT -u FLAKINESS_TITLE \
        -u GITHUB_REPOSITORY -u GITHUB_RUN_ID -u CI_JOB_URL -u BUILD_URL \
        $(env | sed -n 's/^\(FK_ENV_[A-Za-z0-9_]*\)=.*/-u \1/p') \
        "$cli" --disable-upload --output-dir "$dest" "$input"
  ) >>"$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ] && [ -f "$dest/report.json" ]; then
    mkdir -p "$out/$name"
    cp "$dest/report.json" "$out/$name/report.json"
    converted=$((converted + 1))
  else
    echo "$name: ${input#"$data"/}: converter exited with $status" >>"$failures"
    failed=$((failed + 1))
  fi
done

# Post-processing: the converter writes no absolute path of its own, but the scratch
# and repository folders can appear in the log; they are replaced. The report files
# are left as the converter wrote them.
sed -i -e "s#$scratch#/tmp/junit-xml-run#g" -e "s#$(dirname "$data")#/home/user/repo#g" "$log"
echo "converted $converted input(s), $failed refused (see $failures)"
