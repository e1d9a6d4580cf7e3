'use strict';
const assert = require('node:assert');

function add(a, b) {
  return a + b;
}

describe('Calculator', function () {
  describe('#add', function () {
    it('adds two numbers', function () {
      assert.strictEqual(add(2, 2), 4);
    });

    it('fails with a custom message', function () {
      assert.strictEqual(add(2, 2), 5, 'arithmetic is broken: expected 2 + 2 to be 5');
    });

    describe('with negative numbers', function () {
      it('handles a negative operand', function () {
        assert.strictEqual(add(-2, 1), -1);
      });

      it('compares objects with a diff', function () {
        assert.deepStrictEqual({ sum: add(1, 1), list: [1, 2, 3] }, { sum: 3, list: [1, 2, 4] });
      });
    });
  });

  it('throws an error that is not an assertion', function () {
    const calc = null;
    calc.add(1, 2);
  });

  it('prints to stdout and stderr', function () {
    console.log('hello from console.log');
    console.error('hello from console.error');
    assert.ok(true);
  });

  it('times out', function (done) {
    this.timeout(50);
    setTimeout(done, 200);
  });
});
