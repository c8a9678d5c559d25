import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints one closing line, `Summary: N passed, N failed, N skipped`, that any CI can read, and
 * turns a run that executed no test into a failure.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const testModule of testModules) {
      for (const testCase of testModule.children.allTests()) {
        const state = testCase.result().state;
        if (state === "passed") passed += 1;
        else if (state === "failed") failed += 1;
        else skipped += 1;
      }
      if (testModule.state() === "failed" && [...testModule.children.allTests()].length === 0) {
        failed += 1;
      }
    }
    process.stdout.write(`\nSummary: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (passed + failed === 0) {
      process.stdout.write("No test ran: treating the run as failed.\n");
      process.exitCode = 1;
    }
  }
}
