#!/usr/bin/env bash
# Peer TRX reader for bench/trx.sh: dorny/test-reporter's .NET TRX parser on one file, through a
# small entry script built outside this repository (nothing of that project is committed here):
#
#   DORNY_TRX=bench/dorny-trx.sh bash bench/trx.sh 20 200     # as the (c) dorny row
#
# To build the entry (measured with commit 29672c5, package version 3.0.0, xml2js 0.6.2):
# fetch github:dorny/test-reporter, `git archive HEAD | tar -x -C /tmp/dorny-src`, `npm ci
# --omit=dev --ignore-scripts` there; write /tmp/dorny-src/bench-entry.ts that reads the file
# named by its first argument, calls that project's DotnetTrxParser (options: parseErrors true,
# no tracked files) on it as its own tests do, and prints the passed/failed/skipped totals;
# bundle it with esbuild 0.25 (`--bundle --platform=node --target=node20 --format=esm`, with a
# banner creating `require` through `module.createRequire` for xml2js) to bench-entry.js.
# Check: on dorny's fixtures/dotnet-trx.trx it prints 5 passed, 5 failed, 1 skipped.
set -euo pipefail
exec node --max-old-space-size=8192 "${DORNY_TRX_ENTRY:-/tmp/dorny-src/bench-entry.js}" "$1"
