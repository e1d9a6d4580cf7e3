int add(int a, int b) => a + b;

int divide(int a, int b) {
  if (b == 0) {
    throw ArgumentError.value(b, 'b', 'must not be zero');
  }
  return a ~/ b;
}
