import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // An empty run means the suite was not found, never a pass.
    passWithNoTests: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/support/summaryReporter.ts"],
  },
});
