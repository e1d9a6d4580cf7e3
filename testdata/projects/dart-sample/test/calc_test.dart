import 'dart:async';
import 'dart:io';

import 'package:dart_sample/calc.dart';
import 'package:test/test.dart';

void main() {
  group('calc', () {
    test('adds', () {
      print('adding 2 and 2');
      expect(add(2, 2), 4);
    });

    test('adds wrongly', () {
      expect(add(2, 2), 5);
    });

    group('divide', () {
      test('by zero throws', () {
        divide(1, 0);
      });

      test('is skipped', () {
        expect(divide(4, 2), 2);
      }, skip: 'not on CI');
    });

    test('is flaky', () {
      // Fails the first time it runs on a machine, passes after.
      final marker = File('${Directory.systemTemp.path}/dart-sample-flaky');
      if (!marker.existsSync()) {
        marker.createSync();
        expect(add(1, 1), 3);
      }
    }, retry: 2);
  });

  test('fails twice', () async {
    Timer.run(() => throw StateError('first'));
    Timer.run(() => throw StateError('second'));
    await Future<void>.delayed(const Duration(milliseconds: 50));
  });

  test('times out', () async {
    await Future<void>.delayed(const Duration(seconds: 2));
  }, timeout: const Timeout(Duration(milliseconds: 100)));
}
