import { describe, expect, it } from "vitest";
import { linkFor } from "../../../../src/domain/notifications/links.js";
import {
  describeEvent,
  formatBytes,
  formatIsoDuration,
} from "../../../../src/domain/notifications/view.js";
import { backupJob, jobEvent, oneOfEach } from "../../../support/notificationFixtures.js";

const links = {
  jobUrlTemplate: "https://portal.azure.com/#resource{jobId}",
  resourceUrlTemplate: "https://portal.azure.com/#resource{resourceId}",
};

describe("describeEvent", () => {
  it("titles every event type the way a reader expects", () => {
    expect(oneOfEach().map((event) => describeEvent(event).title)).toEqual([
      "Backup completed",
      "Protection configured",
      "Protection failed",
      "Backup overdue by 2 hours",
      "Backup stuck",
      "Backup anomaly",
    ]);
  });

  it("says in the title how late an overdue backup is, in days once it is a day late", () => {
    const overdue = oneOfEach()[3]!;

    const view = describeEvent({ ...overdue, time: "2026-11-30T23:00:00Z" });

    expect(view.title).toBe("Backup overdue by 3 days");
  });

  it("calls a restore a restore and shows where the data went", () => {
    const view = describeEvent(
      jobEvent(
        backupJob({
          operation: "Restore",
          operationCategory: "Restore",
          recoveryDestination: "orders_restored",
        }),
      ),
    );

    expect(view.title).toBe("Restore completed");
    expect(view.facts).toContainEqual({ title: "Restored to", value: "orders_restored" });
  });

  it("works out the duration from start and end when the service gave none", () => {
    const view = describeEvent(
      jobEvent(
        backupJob({
          duration: undefined,
          startTime: "2026-11-20T22:00:00Z",
          endTime: "2026-11-20T23:01:05Z",
        }),
      ),
    );

    expect(view.facts).toContainEqual({ title: "Duration", value: "1 h 1 min 5 s" });
  });

  it("says when an overdue datasource never had a successful backup", () => {
    const overdue = oneOfEach()[3]!;
    const view = describeEvent({
      ...overdue,
      data: { ...overdue.data, lastSuccessfulBackupTime: undefined },
    } as typeof overdue);

    expect(view.facts).toContainEqual({ title: "Last successful backup", value: "never" });
  });
});

describe("formatting", () => {
  it("reads ISO durations and sizes as people write them", () => {
    expect(formatIsoDuration("PT3M25S")).toBe("3 min 25 s");
    expect(formatIsoDuration("P1W")).toBe("1 w");
    expect(formatIsoDuration("PT0S")).toBe("0 s");
    expect(formatIsoDuration("00:03:25")).toBe("00:03:25");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1_610_612_736)).toBe("1.5 GiB");
  });
});

describe("linkFor", () => {
  it("keeps an ARM id readable in a portal link and encodes what URLs cannot carry", () => {
    const job = backupJob();
    const view = describeEvent(jobEvent(job));

    expect(linkFor(view, links)).toBe(`https://portal.azure.com/#resource${job.id}`);
    expect(
      linkFor(
        { ...view, vaultName: "vault prod&x" },
        { ...links, jobUrlTemplate: "https://ops.example/v/{vaultName}" },
      ),
    ).toBe("https://ops.example/v/vault%20prod%26x");
  });

  it("links events that are not about jobs to the backup instance", () => {
    const view = describeEvent(oneOfEach()[1]!);

    expect(linkFor(view, links)).toMatch(
      /^https:\/\/portal\.azure\.com\/#resource\/subscriptions\/.*\/backupInstances\/pg-orders-orders-1234$/,
    );
  });
});
