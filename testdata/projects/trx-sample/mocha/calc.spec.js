// The same sample under Mocha: mocha-trx-reporter writes one UnitTestResult per try.
const assert = require("assert");
const fs = require("fs");

describe("Calculator", function () {
  this.retries(1);

  it("adds", () => assert.strictEqual(1 + 2, 3));

  it("fails on purpose", () => assert.strictEqual(2 * 2, 5));

  it.skip("is skipped", () => {});

  it("prints output", () => console.log("hello from the test"));

  it("is flaky", () => {
    const f = process.env.FLAKY_COUNTER_FILE;
    const n = fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 0;
    fs.writeFileSync(f, String(n + 1));
    assert.ok(n > 0, "fails on the first try");
  });
});
