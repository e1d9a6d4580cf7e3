import 'package:flutter/material.dart';
import 'package:flutter_test/flutter_test.dart';

void main() {
  group('counter', () {
    testWidgets('shows zero', (tester) async {
      await tester.pumpWidget(const MaterialApp(home: Text('0')));
      expect(find.text('0'), findsOneWidget);
    });

    testWidgets('shows one', (tester) async {
      await tester.pumpWidget(const MaterialApp(home: Text('0')));
      expect(find.text('1'), findsOneWidget);
    });
  });
}
