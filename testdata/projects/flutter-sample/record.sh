#!/usr/bin/env bash
# Records `flutter test --machine` of this project into testdata/inputs/dart/.
# The file there now was written by hand from the protocol (see RECORD.md there): run this
# where Flutter is installed to replace it with a real recording.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../inputs/dart"
mkdir -p "$out"
cd "$here"
flutter pub get >/dev/null
flutter test --machine >"$out/flutter-machine.json"
echo "flutter test --machine: exit $?"
sed -i "s#$here#/home/user/flutter-sample#g" "$out/flutter-machine.json"
