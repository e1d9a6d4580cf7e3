test('adds numbers', () => {
  expect(1 + 2).toBe(3);
});

test('shared title', () => {
  expect(true).toBe(true);
});

describe('outer', () => {
  test('in outer', () => {
    expect('a').toBe('a');
  });

  describe('inner', () => {
    test('in inner', () => {
      expect([1, 2]).toHaveLength(2);
    });
  });
});

test.each([
  [1, 1, 2],
  [2, 3, 5],
])('add(%i, %i) = %i', (a, b, expected) => {
  expect(a + b).toBe(expected);
});

describe('each suite', () => {
  it.each([{ name: 'alpha' }, { name: 'beta' }])('object param $name', ({ name }) => {
    expect(typeof name).toBe('string');
  });
});
