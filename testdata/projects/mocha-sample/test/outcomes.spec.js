'use strict';
const assert = require('node:assert');
const fs = require('node:fs');

const FLAKY_COUNTER = '/tmp/flaky-sample-mocha';

describe('Outcomes', function () {
  describe('pending and skipped', function () {
    it('has no function');

    it.skip('is skipped with it.skip', function () {
      assert.fail('never runs');
    });

    it('skips itself at run time', function () {
      this.skip();
    });

    describe.skip('a skipped suite', function () {
      it('is inside describe.skip', function () {
        assert.fail('never runs');
      });
    });
  });

  describe('retries', function () {
    it('is flaky', function () {
      this.retries(2);
      // Fails on the first attempt, passes on every later one.
      // The counter file must be deleted before each recording run.
      const count = fs.existsSync(FLAKY_COUNTER) ? Number(fs.readFileSync(FLAKY_COUNTER, 'utf8')) : 0;
      fs.writeFileSync(FLAKY_COUNTER, String(count + 1));
      console.log(`flaky attempt ${count + 1}`);
      assert.ok(count >= 1, `first attempt fails (attempt ${count + 1})`);
    });

    it('always fails, even when retried', function () {
      this.retries(2);
      assert.strictEqual('retried', 'passed');
    });
  });

  describe('with a failing beforeEach', function () {
    beforeEach(function () {
      throw new Error('beforeEach exploded');
    });

    it('never runs its body (1)', function () {
      assert.ok(true);
    });

    it('never runs its body (2)', function () {
      assert.ok(true);
    });
  });

  describe('with a failing before (all)', function () {
    before(function namedSetup() {
      throw new Error('before all exploded');
    });

    it('never runs either', function () {
      assert.ok(true);
    });
  });
});
