// Prints the closing line CI reads: "N passed, N failed" (skipped ones are named too), followed by
// the run's label on the second run of `npm test` (scripts/test-node24.js: "on Node 24.x.y").
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failedSuites = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
    const failed = results.numFailedTests + (failedSuites > 0 && results.numFailedTests === 0 ? failedSuites : 0);
    const label = process.env.BILLING_TEST_RUN_LABEL ? ` on ${process.env.BILLING_TEST_RUN_LABEL}` : '';
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${label}\n`);
  }
}
module.exports = SummaryReporter;
