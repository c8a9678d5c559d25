import pc from "picocolors";
import { describe, expect, it } from "vitest";
import type { BackupInstanceView } from "../../../../src/application/backupInstances.js";
import { jobTable } from "../../../../src/cli/client/follow.js";
import {
  instanceDetails,
  instancesTable,
  type ListedInstance,
} from "../../../../src/cli/client/views.js";
import { backupJob } from "../../../support/notificationFixtures.js";

const plain = pc.createColors(false);

const orders: BackupInstanceView = {
  name: "local-orders-1234",
  id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.DataProtection/backupVaults/v/backupInstances/local-orders-1234",
  vaultName: "v",
  friendlyName: "local/orders",
  datasourceId:
    "/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/servers/local/databases/orders",
  datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
  kind: "database",
  protectionStatus: "ProtectionConfigured",
  protectionState: "ProtectionConfigured",
  protectionError: null,
  policy: { name: "weekly", id: "p" },
  createdAt: "2026-11-01T00:00:00.000Z",
  lastSuccessfulBackup: null,
  nextScheduledBackup: "2026-12-13T22:00:00.000Z",
  overdueSince: "2026-12-05T10:00:00.000Z",
  recoveryPointCount: 0,
};

const stuckMark = {
  kind: "stuck" as const,
  raisedAt: "2026-12-07T10:00:00.000Z",
  eventId: "e1",
  summary: "Running for 2 h when reported; expected within 40 min (3 times the usual)",
  jobId: "j1",
  jobName: "job-1",
};

describe("the client's views of items and jobs", () => {
  it("names what needs a look about each item in the ATTENTION column", () => {
    const items: ListedInstance[] = [
      orders,
      { ...orders, name: "b", overdueSince: null, alarms: { stuck: stuckMark, anomaly: null } },
      { ...orders, name: "c", overdueSince: null, alarms: { stuck: null, anomaly: null } },
    ];

    const lines = instancesTable(plain, items).split("\n");

    expect(lines[0]).toMatch(/\sATTENTION$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).at(-1))).toEqual([
      "overdue",
      "stuck",
      "-",
    ]);
  });

  it("says since when an item is overdue and why it is stuck in its details", () => {
    const item: ListedInstance = { ...orders, alarms: { stuck: stuckMark, anomaly: null } };

    const text = instanceDetails(plain, item);

    expect(text).toMatch(/^overdue +since 2026-12-05 10:00:00Z$/m);
    expect(text).toMatch(
      /^stuck +Running for 2 h when reported; expected within 40 min \(3 times the usual\) \(job job-1\)$/m,
    );
    expect(text).not.toMatch(/^anomaly/m);
  });

  it("lists each job's alarms in the ALARMS column, and a dash for a job without", () => {
    const lines = jobTable(plain, [
      { ...backupJob({ name: "job-1" }), alarms: [stuckMark] },
      backupJob({ name: "job-2" }),
    ]).split("\n");

    expect(lines[0]).toMatch(/\sALARMS$/);
    expect(lines[1]).toMatch(/^job-1\s.*\sstuck$/);
    expect(lines[2]).toMatch(/^job-2\s.*\s-$/);
  });
});
