#!/usr/bin/env bash
# Re-records the .NET test-runner outputs in testdata/inputs/nunit/ from this
# directory. See testdata/inputs/nunit/RECORD.md for what each file is.
#
# What is recorded, and why only this: the machines of this project (kind
# "rust", Debian 12) cannot install a .NET SDK (Debian 12 packages none, and
# Microsoft's package feed and nuget.org are not reachable), so MSTest, xUnit,
# NUnit 3, `dotnet test` and TRX cannot be recorded here. What Debian does
# package is Mono and NUnit 2.6.4, so this script records NUnit 2.6 XML
# (the <test-results> format, not NUnit 3's <test-run>).
#
# Needs (Debian 12):
#   apt-get install --no-install-recommends mono-mcs nunit-console libnunit-cil-dev
#
# Runs from this directory so paths are relative where the tools allow it; the
# absolute directory that the tools still print is replaced by
# /home/user/dotnet-sample afterwards. Nothing else is edited.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
out=../../inputs/nunit
mkdir -p "$out"
flaky=/tmp/flaky-sample-nunit2
# Mono prints file:line in stack traces only with --debug (and a .mdb from mcs -debug).
export MONO_ENV_OPTIONS=--debug

# ---------------------------------------------------------------- build
rm -rf NUnit2Sample/bin
mkdir -p NUnit2Sample/bin
mcs -target:library -debug \
  -r:/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll \
  -out:NUnit2Sample/bin/NUnit2Sample.dll NUnit2Sample/CalculatorTests.cs || exit 1

# ---------------------------------------------------------------- NUnit 2.6 XML
# Run 1: counter deleted first, so the flaky test fails.
rm -f "$flaky"
nunit-console NUnit2Sample/bin/NUnit2Sample.dll -nologo -noshadow -labels \
  -result="$out/nunit2-run1.xml" >"$out/nunit2-run1-console.txt" 2>&1
# Run 2: a second full run WITHOUT deleting the counter, as a CI job re-run would
# be. NUnit 2.6 has no retry, so this is how the flaky test's pass is recorded.
nunit-console NUnit2Sample/bin/NUnit2Sample.dll -nologo -noshadow -labels \
  -result="$out/nunit2-run2.xml" >"$out/nunit2-run2-console.txt" 2>&1
rm -f "$flaky"
rm -rf NUnit2Sample/bin
sed -i "s#$here#/home/user/dotnet-sample#g" "$out"/nunit2-*
echo "recorded into $(cd "$out" && pwd)"
