// Uploads a report directory with the official Node SDK (@flakiness/sdk `uploadReport`), as
// its users do: `node sdk-upload.mjs DIR` with FLAKINESS_ENDPOINT and FLAKINESS_ACCESS_TOKEN set.
// Prints the report's URL; exits 1 when the upload fails.
import { readReport, uploadReport } from '@flakiness/sdk';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node sdk-upload.mjs REPORT_DIR');
  process.exit(2);
}
const { report, attachments, missingAttachments } = await readReport(dir);
if (missingAttachments.length)
  console.error(`sdk-upload: ${missingAttachments.length} attachment(s) missing`);
const started = performance.now();
const result = await uploadReport(report, attachments, {
  flakinessEndpoint: process.env.FLAKINESS_ENDPOINT,
  flakinessAccessToken: process.env.FLAKINESS_ACCESS_TOKEN,
  logger: { log: (m) => console.error(m), warn: (m) => console.error(m), error: (m) => console.error(m) },
});
const seconds = (performance.now() - started) / 1000;
if (result.status !== 'success') {
  console.error(`sdk-upload: ${result.status}: ${result.error ?? result.reason ?? ''}`);
  process.exit(1);
}
console.error(`sdk-upload: uploaded in ${seconds.toFixed(3)} s`);
console.log(result.reportUrl);
