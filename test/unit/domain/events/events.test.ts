import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  jobStateChangedEvent,
  protectionConfiguredEvent,
  protectionFailedEvent,
} from "../../../../src/domain/events/builders.js";
import { parsePgProtectEvent } from "../../../../src/domain/events/schema.js";
import { sha256Hex, stableUuid, utf8Length } from "../../../../src/domain/events/stableId.js";
import {
  backupInstance,
  backupJob,
  databaseId,
  failedJob,
  jobEvent,
  missingPermissions,
  oneOfEach,
  SOURCE,
} from "../../../support/notificationFixtures.js";

function problemsOf(act: () => unknown): InvalidInputError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error("expected an InvalidInputError");
}

describe("stable ids", () => {
  it("hash like node:crypto's SHA-256 for any text, including astral characters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, "utf8"));
      }),
      { numRuns: 300 },
    );
  });

  it("hash a message that spans several 64-byte blocks", () => {
    const text = "pgprotect".repeat(1000);

    expect(sha256Hex(text)).toBe(createHash("sha256").update(text).digest("hex"));
  });

  it("are RFC 9562 version 8 UUIDs that tell apart parts that concatenate alike", () => {
    const id = stableUuid(["ab", "c"]);

    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id).not.toBe(stableUuid(["a", "bc"]));
  });
});

describe("jobStateChangedEvent", () => {
  it("is a CloudEvent 1.0 about the job, with a versioned payload", () => {
    const job = backupJob();

    const event = jobStateChangedEvent(job, { source: SOURCE });

    expect(event).toMatchObject({
      specversion: "1.0",
      type: "PgProtect.Backup.JobStateChanged",
      source: SOURCE,
      subject: job.id,
      time: "2026-11-20T22:03:25.000Z",
      datacontenttype: "application/json",
      dataschema: "urn:pgprotect:schema:PgProtect.Backup.JobStateChanged:v1",
    });
    expect(event.data).toMatchObject({
      schemaVersion: 1,
      status: "Completed",
      ruleName: "BackupWeekly",
      vaultName: "vault-prod",
      errors: [],
    });
  });

  it("gives the same id when the same state is published again, whatever else changed", () => {
    const first = jobStateChangedEvent(failedJob("first wording"), { source: SOURCE });
    const again = jobStateChangedEvent(
      failedJob("reworded", { id: backupJob().id.toUpperCase() }),
      {
        source: "/elsewhere",
        time: "2026-12-01T00:00:00Z",
      },
    );

    expect(again.id).toBe(first.id);
  });

  it("gives another id for another state or another job", () => {
    const completed = jobEvent(backupJob({ status: "Completed" }));
    const inProgress = jobEvent(backupJob({ status: "InProgress", endTime: undefined }));
    const otherJob = jobEvent(
      backupJob({
        name: "6f1c2d3e-0000-4000-8000-000000000002",
        id: `${backupJob().id.slice(0, -1)}2`,
      }),
    );

    expect(new Set([completed.id, inProgress.id, otherJob.id]).size).toBe(3);
  });

  it("uses the start time while the job runs", () => {
    const event = jobEvent(
      backupJob({ status: "InProgress", endTime: undefined, duration: undefined }),
    );

    expect(event.time).toBe("2026-11-20T22:00:00.000Z");
  });

  it("refuses an empty source", () => {
    expect(problemsOf(() => jobStateChangedEvent(backupJob(), { source: " " })).code).toBe(
      "EVENT_SOURCE_MISSING",
    );
  });
});

describe("protection events", () => {
  it("are about the datasource and name the policy", () => {
    const event = protectionConfiguredEvent(backupInstance(), {
      source: SOURCE,
      datasourceTags: { env: "prod" },
    });

    expect(event.subject).toBe(databaseId());
    expect(event.data).toMatchObject({
      policyName: "weekly-10y",
      protectionStatus: "ProtectionConfigured",
      datasourceTags: { env: "prod" },
    });
  });

  it("carry the service's error and recommended action when protection fails", () => {
    const event = protectionFailedEvent(
      {
        datasourceId: databaseId(),
        vaultName: "vault-prod",
        operationId: "op-1",
        error: missingPermissions,
      },
      { source: SOURCE, time: "2026-11-20T21:05:00Z" },
    );

    expect(event.data.error.recommendedAction?.[0]).toContain("Long Term Retention Backup Role");
    expect(event.data.datasourceName).toBe("orders");
  });

  it("count a new protection attempt that fails again as a new fact, a replayed one as the same", () => {
    const failure = {
      datasourceId: databaseId(),
      vaultName: "vault-prod",
      operationId: "op-1",
      error: missingPermissions,
    };
    const options = { source: SOURCE, time: "2026-11-20T21:05:00Z" };

    const replayed = protectionFailedEvent(failure, { ...options, time: "2026-11-20T21:09:00Z" });
    const retried = protectionFailedEvent({ ...failure, operationId: "op-2" }, options);

    expect(replayed.id).toBe(protectionFailedEvent(failure, options).id);
    expect(retried.id).not.toBe(replayed.id);
  });
});

describe("parsePgProtectEvent", () => {
  it("accepts every event pgprotect builds, after a trip through JSON", () => {
    for (const event of oneOfEach()) {
      expect(parsePgProtectEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
    }
  });

  it("refuses a type pgprotect does not publish", () => {
    const error = problemsOf(() =>
      parsePgProtectEvent({ ...jobEvent(), type: "Microsoft.Resources.ResourceWriteSuccess" }),
    );

    expect(error.code).toBe("EVENT_TYPE_UNKNOWN");
  });

  it("refuses a payload version it does not know instead of guessing", () => {
    const event = jobEvent();

    const error = problemsOf(() =>
      parsePgProtectEvent({ ...event, data: { ...event.data, schemaVersion: 2 } }),
    );

    expect(error.code).toBe("EVENT_SCHEMA_UNSUPPORTED");
  });

  it("names the path of a missing field", () => {
    const event = jobEvent();
    const { status: _status, ...data } = event.data;

    const error = problemsOf(() => parsePgProtectEvent({ ...event, data }));

    expect(error.code).toBe("EVENT_INVALID");
    expect(error.problems.map((problem) => problem.path)).toContain("$.data.status");
  });
});
