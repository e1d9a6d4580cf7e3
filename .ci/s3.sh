#!/usr/bin/env bash
# Starts an S3-compatible server on loopback for the blob-store tests and prints the line to eval:
#   eval "$(bash .ci/s3.sh)"   # sets FLAKINESS_TEST_S3_BUCKET, FLAKINESS_TEST_S3_ROOT (the
#                              # folder of its objects), AWS_ENDPOINT_URL and the keys
# Everything else goes to stderr. The server runs in the background until the machine's session
# ends; its data lives in a fresh temporary directory.
#
# The server is s3s-fs (the `s3s` crate's file-system backend), installed into .ci/.s3s/ by
# `cargo install` when it is not there yet:
# * it comes from crates.io, a registry this machine reaches (no prebuilt download);
# * it is a Rust binary, fast enough for uploads of many MiB (moto's Python server is not);
# * given an access key and a secret key, it checks SigV4 signatures, so a wrong key fails as
#   on real S3;
# * it speaks multipart uploads, ranged GETs, HEAD, DELETE and ListObjectsV2.
# 0.14.1 is the last release that builds with our rustc (0.17 needs 1.96).
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.14.1
bin=.ci/.s3s/bin/s3s-fs
bucket=flakiness-test
access_key=flakiness
secret_key=flakiness-secret

if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -qF "$version"; then
  echo "installing s3s-fs $version into .ci/.s3s (cargo install)" >&2
  cargo install "s3s-fs@$version" --features binary --locked --root .ci/.s3s >&2
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/flakiness-s3.XXXXXX")
mkdir "$root/data" "$root/data/$bucket"
log="$root/s3s-fs.log"

# Port 0: the kernel picks a free port, and the server logs the address it listens on.
RUST_LOG=s3s_fs=info NO_COLOR=1 setsid "$bin" --host 127.0.0.1 --port 0 \
  --access-key "$access_key" --secret-key "$secret_key" "$root/data" \
  </dev/null >"$log" 2>&1 &
pid=$!

endpoint=
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "s3s-fs exited at start:" >&2
    cat "$log" >&2
    exit 1
  fi
  endpoint=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1 || true)
  # Bash's /dev/tcp: no curl needed on a bare machine.
  if [ -n "$endpoint" ] && (exec 3<>"/dev/tcp/127.0.0.1/${endpoint##*:}") 2>/dev/null; then
    break
  fi
  endpoint=
  sleep 0.1
done
if [ -z "$endpoint" ]; then
  echo "s3s-fs did not answer within 10 s:" >&2
  cat "$log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
fi
echo "s3s-fs $version (pid $pid) at $endpoint, data in $root/data, log in $log" >&2

echo "export FLAKINESS_TEST_S3_BUCKET=$bucket FLAKINESS_TEST_S3_ROOT=$root/data AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=$access_key AWS_SECRET_ACCESS_KEY=$secret_key AWS_REGION=us-east-1"
