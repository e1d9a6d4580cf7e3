import 'dart:async';

import 'package:test/test.dart';

void main() {
  group('with a broken setUpAll', () {
    setUpAll(() {
      throw StateError('database not reachable');
    });

    test('never runs', () {});
  });

  test('fails after it completed', () {
    Timer(const Duration(milliseconds: 10), () => throw Exception('late'));
  });

  tearDownAll(() {});
}
