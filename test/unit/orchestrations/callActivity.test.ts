import type { OrchestrationContext } from "durable-functions";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  activityNames,
  type ActivityInput,
  type ActivityOutput,
  type ActivityResult,
  type JobKey,
  type ResolvedDatasource,
} from "../../../src/activities/names.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import { callActivity } from "../../../src/orchestrations/callActivity.js";
import { driveOrchestration } from "../../support/orchestrationDriver.js";

describe("callActivity", () => {
  it("schedules the activity with retries and answers what the activity returned", () => {
    const job = { id: "job-1", name: "job-1", status: "Completed" };
    const run = driveOrchestration(
      function* (context: OrchestrationContext) {
        return yield* callActivity(context, activityNames.getJob, {
          vaultId: "/v",
          jobId: "job-1",
        });
      },
      undefined,
      { getJob: () => job },
    );

    expect(run.output).toEqual(job);
    expect(run.scheduled).toMatchObject([
      { kind: "activity", name: "getJob", input: { vaultId: "/v", jobId: "job-1" }, retried: true },
    ]);
  });

  it("throws the activity's failure into the orchestration once its retries are spent", () => {
    const run = driveOrchestration(
      function* (context: OrchestrationContext) {
        try {
          yield* callActivity(context, activityNames.findProtection, "/ds");
          return "answered";
        } catch (error) {
          return (error as Error).message;
        }
      },
      undefined,
      {
        findProtection: () => {
          throw new Error("throttled");
        },
      },
    );

    expect(run.output).toBe("throttled");
  });

  it("takes its input and answer types from the activities' own signatures", () => {
    expectTypeOf<ActivityInput<"getJob">>().toEqualTypeOf<JobKey>();
    expectTypeOf<ActivityOutput<"getJob">>().toEqualTypeOf<BackupJob>();
    expectTypeOf<ActivityOutput<"listServerDatabases">>().toEqualTypeOf<
      ActivityResult<ResolvedDatasource[]>
    >();
    // Checked by `npm run typecheck`: a wrong input does not compile.
    function* _wrongInput(context: OrchestrationContext) {
      // @ts-expect-error getJob takes a JobKey, not a datasource id
      yield* callActivity(context, activityNames.getJob, "/ds");
    }
    expect(_wrongInput).toBeTypeOf("function");
  });
});
