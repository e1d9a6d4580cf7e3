// Jest config for the identity sample. One run feeds every reporter, so the
// JUnit files, the Jest JSON and the official Flakiness report describe the
// very same executions. RECORD_OUT_DIR is set by ../record.sh.
const path = require('node:path');

const out = process.env.RECORD_OUT_DIR || path.join(__dirname, '..', 'out');

module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/tests/**/*.test.js'],
  // Recommended by @flakiness/jest: gives each assertion a line/column.
  testLocationInResults: true,
  // jest.retryTimes(2, ...) for every test file (same retries for every output).
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
  reporters: [
    'default',
    // jest-junit with its DEFAULT naming options (only the output path is set).
    ['jest-junit', { outputDirectory: out, outputName: 'junit.xml' }],
    // jest-junit with commonly used "file as class name" options.
    ['jest-junit', {
      outputDirectory: out,
      outputName: 'junit-classname-file.xml',
      classNameTemplate: '{filepath}',
      suiteNameTemplate: '{filepath}',
      ancestorSeparator: ' › ',
      addFileAttribute: 'true',
    }],
    // jest-junit with options that keep each part of a test's identity separate:
    // <testsuite name> = file path, <testcase file> = file path,
    // classname = describe titles joined with ' › ' (empty for a test at the file root),
    // name = the test's own title. (The <testsuite> name template is `suiteNameTemplate`;
    // `suiteName` is only the <testsuites> element's name and is left at its default.)
    ['jest-junit', {
      outputDirectory: out,
      outputName: 'junit-recommended.xml',
      suiteNameTemplate: '{filepath}',
      classNameTemplate: '{classname}',
      titleTemplate: '{title}',
      ancestorSeparator: ' › ',
      addFileAttribute: 'true',
    }],
    // The official Flakiness reporter: write locally, never upload.
    ['@flakiness/jest', { outputFolder: path.join(out, 'official'), disableUpload: true }],
  ],
};
