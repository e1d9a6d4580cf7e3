import 'package:test/test.dart';

void main() {
  test('never compiles', () {
    int x = 'not a number';
    expect(x, 1);
  });
}
