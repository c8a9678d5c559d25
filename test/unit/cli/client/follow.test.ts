import pc from "picocolors";
import { describe, expect, it } from "vitest";
import type { LifecycleOperationView } from "../../../../src/application/lifecycle.js";
import {
  followJob,
  lifecycleLines,
  lifecyclePicture,
  protectionLines,
  protectionPicture,
  type ProtectionStatus,
} from "../../../../src/cli/client/follow.js";
import type { BackupJob } from "../../../../src/domain/protection/types.js";
import { loopbackClient, recordingView, useLoopbackApi } from "../../../support/clientCommands.js";

const plain = pc.createColors(false);

const serverProtection: ProtectionStatus = {
  id: "protect-server-local-1",
  status: "Running",
  outcome: null,
  datasourceId: null,
  backupInstanceName: null,
  steps: [],
  currentStep: null,
  error: null,
  serverName: "local",
  progress: { done: 1, total: 4 },
  summary: null,
};

describe("how a protection's progress is shown", () => {
  it("draws a bar for a server's databases, from the operation's {done, total}", () => {
    const picture = protectionPicture(plain, serverProtection, 65_000, "⠋");

    expect(picture).toBe(
      [
        "⠋ Protecting every database of local · Running · 1m 05s",
        `  ${"█".repeat(6)}${"░".repeat(18)} 1/4 databases`,
      ].join("\n"),
    );
  });

  it("marks each step by its state and counts the steps while the protection runs", () => {
    const picture = protectionPicture(
      plain,
      {
        ...serverProtection,
        id: "protect-local-shop-1",
        serverName: undefined,
        progress: undefined,
        datasourceId:
          "/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/servers/local/databases/shop",
        steps: [
          {
            name: "resolve",
            status: "done",
            at: "t",
            detail:
              "/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/servers/local/databases/shop",
          },
          { name: "checkExisting", status: "running", at: "t" },
        ],
      },
      2_000,
      "⠙",
    );

    expect(picture.split("\n")).toEqual([
      "⠙ Protecting local/shop · Running · step 2/8 · 2s",
      "  ✔ Find the datasource — local/shop",
      "  ⠙ Look for an existing protection",
    ]);
  });

  it("ends on the outcome and the error's code when it failed", () => {
    const failed: ProtectionStatus = {
      ...serverProtection,
      status: "Completed",
      outcome: "Failed",
      progress: { done: 4, total: 4 },
      error: {
        code: "DATABASES_NOT_PROTECTED",
        message: "1 of 4 databases of local were not protected",
      },
    };

    expect(protectionPicture(plain, failed, 1_000, "⠋").split("\n")[0]).toBe(
      "✖ Protecting every database of local · Failed · 1s",
    );
    expect(protectionLines(failed).at(-1)).toBe(
      "protect-server-local-1: Completed, outcome Failed (DATABASES_NOT_PROTECTED)",
    );
  });
});

describe("how a lifecycle operation's progress is shown", () => {
  const suspend: LifecycleOperationView = {
    id: "lifecycle-ledger-1",
    action: "suspend",
    backupInstanceName: "local-ledger",
    vaultName: "pgprotect-vault",
    status: "Running",
    state: null,
    error: null,
    createdTime: "2026-12-07T15:00:00.000Z",
    lastUpdatedTime: "2026-12-07T15:00:00.000Z",
  };

  it("turns the spinner while it runs and ticks it off with the state reached", () => {
    const done = { ...suspend, status: "Completed" as const, state: "BackupSchedulesSuspended" };

    expect(lifecyclePicture(plain, suspend, 2_000, "⠋")).toBe(
      "⠋ suspend of local-ledger · Running · 2s",
    );
    expect(lifecyclePicture(plain, done, 3_000, "⠋")).toBe(
      "✔ suspend of local-ledger · Completed · BackupSchedulesSuspended · 3s",
    );
    expect(lifecycleLines(done)).toEqual([
      "lifecycle-ledger-1: suspend of local-ledger Completed, state BackupSchedulesSuspended",
    ]);
  });

  it("ends on a cross and the error's code when it failed", () => {
    const failed: LifecycleOperationView = {
      ...suspend,
      status: "Failed",
      error: { code: "PROTECTION_ACTION_FAILED", message: "The service refused" },
    };

    expect(lifecyclePicture(plain, failed, 1_000, "⠋").split("\n")).toEqual([
      "✖ suspend of local-ledger · Failed · 1s",
      "  PROTECTION_ACTION_FAILED: The service refused",
    ]);
    expect(lifecycleLines(failed).at(-1)).toBe(
      "lifecycle-ledger-1: PROTECTION_ACTION_FAILED: The service refused",
    );
  });
});

describe("how a job is followed", () => {
  /** The states `GET /api/jobs/job-7` answers, one per read, the last one repeated. */
  let states: BackupJob[] = [];
  const api = useLoopbackApi((_request, response) => {
    const state = states.length > 1 ? states.shift() : states[0];
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(state));
  });

  it("shows the job's own duration, from its start to its end, however long the wait", async () => {
    // Arrange
    const job = {
      id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupJobs/job-7",
      name: "job-7",
      operationCategory: "Backup",
      backupInstanceFriendlyName: "local/ledger",
      status: "InProgress",
      startTime: "2026-12-07T15:00:00.000Z",
    } as BackupJob;
    states = [job, { ...job, status: "Completed", endTime: "2026-12-07T15:00:42.000Z" }];
    const view = recordingView();

    // Act
    const last = await followJob(loopbackClient(api), "job-7", {
      view,
      colors: plain,
      intervalSeconds: 0.01,
      signal: new AbortController().signal,
      now: () => Date.parse("2026-12-07T15:00:10.000Z"),
    });

    // Assert
    expect(last.status).toBe("Completed");
    expect(view.pictures).toEqual([
      "⠋ Backup of local/ledger · job job-7 · InProgress · 10s",
      "✔ Backup of local/ledger · job job-7 · Completed · 42s",
    ]);
    expect(view.closed).toBe(true);
  });
});
