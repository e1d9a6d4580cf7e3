// Jest config of the edge-case sample (record.sh runs it with the Jest of
// testdata/identity/jest/project). No testLocationInResults: tests have no location.
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/tests/**/*.test.js'],
};
