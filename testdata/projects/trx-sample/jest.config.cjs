// jest-trx-results-processor as a reporter, writing into the recording's scratch folder.
module.exports = {
  testMatch: ["**/tests/*.test.js"],
  reporters: [
    [
      "jest-trx-results-processor",
      { outputFile: `${process.env.RECORD_SCRATCH || "/tmp/rec-trx"}/jest-trx.trx` },
    ],
  ],
};
