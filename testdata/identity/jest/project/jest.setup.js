// Retry every failing test up to 2 more times (3 invocations at most) and keep
// the error of each failed invocation, as @flakiness/jest recommends.
jest.retryTimes(2, { logErrorsBeforeRetry: true });
