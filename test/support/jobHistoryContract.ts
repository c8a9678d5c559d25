/**
 * What every job history store must do, run against each store by its own test file: a job is one
 * record whatever the number of writes, a later state wins over an earlier one in either order,
 * pages cover a window newest first without gaps or repeats, and pruning removes only what is
 * older than the cutoff.
 */
import { expect, it } from "vitest";
import type { BackupJob } from "../../src/domain/protection/types.js";
import type { AlarmRecord, JobHistoryPort } from "../../src/providers/ports.js";
import { backupJob, VAULT_ID } from "./notificationFixtures.js";

const day = 86_400_000;

/** A job of an instance starting at `start`, `minutes` long (running when `minutes` is undefined). */
export function jobAt(
  name: string,
  start: string,
  minutes?: number,
  overrides: Partial<BackupJob> = {},
): BackupJob {
  const end =
    minutes === undefined
      ? undefined
      : new Date(Date.parse(start) + minutes * 60_000).toISOString();
  return backupJob({
    name,
    id: `${VAULT_ID}/backupJobs/${name}`,
    startTime: start,
    status: end === undefined ? "InProgress" : "Completed",
    endTime: end,
    duration: undefined,
    ...overrides,
  });
}

/**
 * Declares the contract's tests over a fresh store from `open`.
 *
 * @param open - a new, empty store for each test.
 */
export function jobHistoryContract(open: () => Promise<JobHistoryPort>): void {
  it("keeps one record per job, however often and in whichever order its states are recorded", async () => {
    // Arrange
    const history = await open();
    const running = jobAt("j1", "2026-11-01T10:00:00.000Z");
    const done = jobAt("j1", "2026-11-01T10:00:00.000Z", 5);

    // Act: the same state twice, the end, then the running state again (a late writer).
    await history.recordJobs([running, running]);
    await history.recordJobs([done]);
    await history.recordJobs([running]);

    // Assert
    const page = await history.queryJobs({ top: 10 });
    expect(page.value).toEqual([done]);
    expect(await history.runningJobs()).toEqual([]);
  });

  it("answers a window page by page, newest first, with filters, and no job twice or missing", async () => {
    // Arrange: 25 jobs a day apart, every fifth a failed restore of another instance.
    const history = await open();
    const jobs = Array.from({ length: 25 }, (_, index) => {
      const start = new Date(Date.parse("2026-01-01T00:00:00Z") + index * day).toISOString();
      return index % 5 === 0
        ? jobAt(`r${String(index).padStart(2, "0")}`, start, 1, {
            operation: "Restore",
            operationCategory: "Restore",
            status: "Failed",
            backupInstanceId: `${VAULT_ID}/backupInstances/other`,
            backupInstanceFriendlyName: "other/db",
          })
        : jobAt(`b${String(index).padStart(2, "0")}`, start, 1);
    });
    await history.recordJobs(jobs);

    // Act: a window of 20 days, 6 at a time.
    const seen: string[] = [];
    let after: { s: string; n: string } | undefined;
    let pages = 0;
    do {
      const page = await history.queryJobs({
        from: "2026-01-03T00:00:00Z",
        to: "2026-01-23T00:00:00Z",
        top: 6,
        ...(after ? { after } : {}),
      });
      seen.push(...page.value.map((job) => job.name));
      after = page.next;
      pages += 1;
    } while (after && pages < 10);
    const failedRestores = await history.queryJobs({
      status: ["Failed"],
      operation: ["Restore"],
      instance: "other/db",
      top: 50,
    });

    // Assert
    const expected = jobs
      .filter((job) => job.startTime >= "2026-01-03" && job.startTime < "2026-01-23")
      .map((job) => job.name)
      .reverse();
    expect(seen).toEqual(expected);
    expect(pages).toBe(4);
    expect(failedRestores.value.map((job) => job.name)).toEqual([
      "r20",
      "r15",
      "r10",
      "r05",
      "r00",
    ]);
  });

  it("narrows to a vault by its id, an instance by its ARM id in any case, and an operation, as the live listing does", async () => {
    // Arrange: jobs of vault-prod, of a vault-prod in another resource group, and of vault-prod2.
    const history = await open();
    const elsewhere = VAULT_ID.replace(/resourceGroups\/[^/]+/, "resourceGroups/rg-elsewhere");
    const instanceOf = (vaultId: string, name: string) => `${vaultId}/backupInstances/${name}`;
    const at = (day: number) =>
      new Date(Date.parse("2026-04-01T00:00:00Z") + day * 3_600_000).toISOString();
    await history.recordJobs([
      jobAt("here-1", at(1), 1, { operation: "ScheduledBackup" }),
      jobAt("here-2", at(2), 1, { backupInstanceId: instanceOf(VAULT_ID, "pg-sales-sales-9") }),
      jobAt("here-3", at(3), 1, { operation: "Restore", operationCategory: "Restore" }),
      jobAt("elsewhere", at(4), 1, {
        id: `${elsewhere}/backupJobs/elsewhere`,
        backupInstanceId: instanceOf(elsewhere, "pg-orders-orders-1234"),
      }),
      jobAt("prod2", at(5), 1, {
        id: `${VAULT_ID}2/backupJobs/prod2`,
        vaultName: "vault-prod2",
        backupInstanceId: instanceOf(`${VAULT_ID}2`, "pg-orders-orders-1234"),
      }),
    ]);
    const names = async (filter: Omit<Parameters<JobHistoryPort["queryJobs"]>[0], "top">) =>
      (await history.queryJobs({ ...filter, top: 50 })).value.map((job) => job.name);

    // Act
    const ofVault = await names({ vault: "VAULT-PROD", vaultId: VAULT_ID.toUpperCase() });
    const ofInstance = await names({
      instance: instanceOf(VAULT_ID, "PG-ORDERS-ORDERS-1234").toUpperCase(),
    });
    const scheduled = await names({ operation: ["ScheduledBackup"] });
    const restores = await names({ operation: ["Restore"] });

    // Assert
    expect(ofVault).toEqual(["here-3", "here-2", "here-1"]);
    expect(ofInstance).toEqual(["here-3", "here-1"]);
    expect(scheduled).toEqual(["here-1"]);
    expect(restores).toEqual(["here-3"]);
  });

  it("answers an instance's earlier completed runs newest first, and its running jobs", async () => {
    const history = await open();
    await history.recordJobs([
      jobAt("a", "2026-02-01T00:00:00.000Z", 10),
      jobAt("b", "2026-02-02T00:00:00.000Z", 20),
      jobAt("c", "2026-02-03T00:00:00.000Z", 30, { status: "Failed" }),
      jobAt("d", "2026-02-04T00:00:00.000Z"),
    ]);

    const earlier = await history.completedJobs({
      backupInstanceId: `${VAULT_ID}/backupInstances/PG-ORDERS-ORDERS-1234`,
      operationCategory: "Backup",
      startedBefore: "2026-02-04T00:00:00.000Z",
      limit: 5,
    });

    expect(earlier.map((job) => job.name)).toEqual(["b", "a"]);
    expect((await history.runningJobs()).map((job) => job.name)).toEqual(["d"]);
  });

  it("records an alarm once, and remembers that it was published", async () => {
    const history = await open();
    const job = jobAt("s", "2026-03-01T00:00:00.000Z");
    const alarm: AlarmRecord = {
      id: "alarm-1",
      kind: "stuck",
      jobId: job.id,
      at: "2026-03-01T02:00:00.000Z",
      event: { id: "alarm-1" } as AlarmRecord["event"],
      published: false,
    };

    const first = await history.recordAlarm(alarm);
    await history.markAlarmPublished(alarm.id);
    const again = await history.recordAlarm({ ...alarm, at: "2026-03-01T03:00:00.000Z" });

    expect(first.published).toBe(false);
    expect(again).toMatchObject({ id: "alarm-1", at: "2026-03-01T02:00:00.000Z", published: true });
    expect(await history.alarmsOfJob(job.id.toUpperCase())).toHaveLength(1);
  });

  it("prunes jobs and alarms older than the cutoff and keeps the rest", async () => {
    // Arrange: a job from 401 days ago, one from 399 days ago.
    const history = await open();
    const now = Date.parse("2027-06-01T00:00:00Z");
    const old = jobAt("old", new Date(now - 401 * day).toISOString(), 1);
    const kept = jobAt("kept", new Date(now - 399 * day).toISOString(), 1);
    await history.recordJobs([old, kept]);

    // Act
    const removed = await history.prune(new Date(now - 400 * day).toISOString());

    // Assert
    expect(removed).toBe(1);
    expect((await history.queryJobs({ top: 10 })).value.map((job) => job.name)).toEqual(["kept"]);
  });
}
