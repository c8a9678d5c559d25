import { describe, expect, it } from "vitest";
import { dumpPlanFor, parallelJobs } from "../../../../src/providers/local/dumpPlan.js";

describe("dumpPlanFor", () => {
  it("dumps a database of several large tables in the directory format, one job per large table up to the setting and the cores", () => {
    expect(dumpPlanFor(5, 8, 2)).toEqual({ format: "directory", jobs: 2 });
    expect(dumpPlanFor(3, 8, 16)).toEqual({ format: "directory", jobs: 3 });
    expect(dumpPlanFor(10, 4, 16)).toEqual({ format: "directory", jobs: 4 });
  });

  it("keeps one custom-format file for a database with at most one large table", () => {
    expect(dumpPlanFor(0, 8, 8)).toEqual({ format: "custom", jobs: 1 });
    expect(dumpPlanFor(1, 8, 8)).toEqual({ format: "custom", jobs: 1 });
  });

  it("keeps one custom-format file when the setting or the machine allows a single job", () => {
    expect(dumpPlanFor(6, 1, 8)).toEqual({ format: "custom", jobs: 1 });
    expect(dumpPlanFor(6, 8, 1)).toEqual({ format: "custom", jobs: 1 });
  });
});

describe("parallelJobs", () => {
  it("bounds a tool's jobs by the setting and the cores, never below one", () => {
    expect(parallelJobs(4, 2)).toBe(2);
    expect(parallelJobs(2, 8)).toBe(2);
    expect(parallelJobs(4, 0)).toBe(1);
  });
});
