#!/usr/bin/env bash
# Re-records the real GoogleTest and Catch2 outputs in testdata/inputs/gtest/ and
# testdata/inputs/catch2/ from this project. See the RECORD.md in each of those folders.
#
# Needs:
#   - g++ and Debian's libgtest-dev (GoogleTest 1.12.1) and catch2 (Catch2 2.13.10):
#       apt-get install g++ libgtest-dev catch2
#   - optionally the Catch2 v3.7.1 amalgamated files catch_amalgamated.hpp and
#     catch_amalgamated.cpp (extras/ of the catchorg/Catch2 repository at tag v3.7.1;
#     no registry reached here packages Catch2 v3) in CATCH2_V3_DIR
#     (default /tmp/rec-go-catch2v3); without them the v3 recordings are skipped.
#
# The binaries are built in build/ (git-ignored, deleted at the end) from this directory
# with relative source paths, so __FILE__ and every file name in the outputs is
# relative. The absolute project directory would be replaced by /home/user/cpp-sample
# afterwards (the outputs have none). Nothing else is edited.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
inputs="$(cd "$here/../../inputs" && pwd)"
CATCH2_V3_DIR="${CATCH2_V3_DIR:-/tmp/rec-go-catch2v3}"
CXX="${CXX:-g++}"
CXXFLAGS=(-std=c++17 -O0)

# Environment normalisation: no GoogleTest flags from the environment (GTEST_COLOR,
# GTEST_SHUFFLE, GTEST_OUTPUT, ...; XML_OUTPUT_FILE is read by GoogleTest too).
for v in $(env | sed -n 's/^\(GTEST_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset XML_OUTPUT_FILE TESTBRIDGE_TEST_ONLY TEST_SHARD_INDEX TEST_TOTAL_SHARDS TEST_PREMATURE_EXIT_FILE

report() { echo "$1: exit $2"; }

cd "$here"
rm -rf build
mkdir -p build/v2 build/v3

# ---------------------------------------------------------------- GoogleTest
out="$inputs/gtest"
mkdir -p "$out"
flaky=/tmp/flaky-sample-gtest
"$CXX" "${CXXFLAGS[@]}" gtest_sample.cpp -o build/gtest_sample -lgtest -lgtest_main -pthread || exit 1
rm -f "$flaky"; ./build/gtest_sample --gtest_output=json:"$out/gtest.json" >"$out/gtest-console.txt" 2>&1
report gtest/gtest.json $?
rm -f "$flaky"; ./build/gtest_sample --gtest_output=xml:"$out/gtest.xml" >/dev/null 2>&1
report gtest/gtest.xml $?
# Two iterations: the flaky test fails in the first and passes in the second.
rm -f "$flaky"; ./build/gtest_sample --gtest_repeat=2 --gtest_output=json:"$out/gtest-repeat.json" \
  >"$out/gtest-repeat-console.txt" 2>&1
report gtest/gtest-repeat.json $?
rm -f "$flaky"; ./build/gtest_sample --gtest_repeat=2 --gtest_output=xml:"$out/gtest-repeat.xml" >/dev/null 2>&1
report gtest/gtest-repeat.xml $?
rm -f "$flaky"
sed -i "s#$here#/home/user/cpp-sample#g" "$out"/*

# ---------------------------------------------------------------- Catch2
out="$inputs/catch2"
mkdir -p "$out"
flaky=/tmp/flaky-sample-catch2
catch2() { # $1 = v2|v3, $2 = output file, then the reporter arguments
  local v="$1" file="$2"
  shift 2
  rm -f "$flaky"
  if [ "$file" = "${file%console.txt}" ]; then
    ./build/"$v"/catch2_sample "$@" --out "$out/$file" >/dev/null 2>&1
  else
    ./build/"$v"/catch2_sample "$@" >"$out/$file" 2>&1
  fi
  report "catch2/$file" $?
}

# Catch2 v2 (Debian), header-only: CATCH_CONFIG_MAIN makes it define main().
"$CXX" "${CXXFLAGS[@]}" -DCATCH_CONFIG_MAIN catch2_sample.cpp -o build/v2/catch2_sample || exit 1
catch2 v2 catch2-v2.xml --reporter xml
catch2 v2 catch2-v2-junit.xml --reporter junit
catch2 v2 catch2-v2-console.txt

# Catch2 v3 from the amalgamated files: catch_amalgamated.cpp defines main().
if [ -f "$CATCH2_V3_DIR/catch_amalgamated.cpp" ] && [ -f "$CATCH2_V3_DIR/catch_amalgamated.hpp" ]; then
  "$CXX" "${CXXFLAGS[@]}" -c "$CATCH2_V3_DIR/catch_amalgamated.cpp" -o build/v3/catch_amalgamated.o || exit 1
  "$CXX" "${CXXFLAGS[@]}" -DSAMPLE_CATCH2_V3 -I"$CATCH2_V3_DIR" catch2_sample.cpp build/v3/catch_amalgamated.o \
    -o build/v3/catch2_sample || exit 1
  catch2 v3 catch2-v3.xml --reporter xml
  catch2 v3 catch2-v3-junit.xml --reporter junit
  catch2 v3 catch2-v3.json --reporter json
  catch2 v3 catch2-v3-console.txt
else
  echo "no Catch2 v3 amalgamated files in $CATCH2_V3_DIR: Catch2 v3 recordings skipped" >&2
fi
rm -f "$flaky"
sed -i "s#$here#/home/user/cpp-sample#g" "$out"/*

rm -rf build
echo "recorded into $inputs/gtest and $inputs/catch2"
