import { describe, expect, it } from "vitest";
import { readBackupAlert } from "../../../../src/domain/alerts/backupAlerts.js";
import { parseCommonAlert } from "../../../../src/domain/alerts/commonAlertSchema.js";
import { monitorAlertEvent } from "../../../../src/domain/events/alertEvents.js";
import { jobStateChangedEvent } from "../../../../src/domain/events/builders.js";
import { parsePgProtectEvent } from "../../../../src/domain/events/schema.js";
import {
  alertFixture,
  FIXTURE_BACKUP_JOB_NAME,
  FIXTURE_DATASOURCE_ID,
  FIXTURE_VAULT_ID,
  type AlertFixture,
} from "../../../support/monitorAlerts.js";
import { failedJob, SOURCE } from "../../../support/notificationFixtures.js";

const covered = (id: string) =>
  id.toLowerCase() === FIXTURE_VAULT_ID.toLowerCase() ? FIXTURE_VAULT_ID : undefined;
const read = (name: AlertFixture | object) =>
  readBackupAlert(parseCommonAlert(typeof name === "string" ? alertFixture(name) : name), covered);
const now = new Date("2026-11-24T10:00:00Z");

describe("reading Azure Backup's alerts", () => {
  it("reads a Backup Failure as the failure of the job it names, on the vault as the app writes it", () => {
    const fact = read("backup-failure");

    expect(fact).toMatchObject({
      kind: "jobFailure",
      operationCategory: "Backup",
      job: {
        id: `${FIXTURE_VAULT_ID}/backupJobs/${FIXTURE_BACKUP_JOB_NAME}`,
        name: FIXTURE_BACKUP_JOB_NAME,
      },
      alert: {
        alertRule: "Backup Failure",
        severity: "Sev1",
        vaultId: FIXTURE_VAULT_ID,
        vaultName: "pgprotect-vault",
        datasourceId: FIXTURE_DATASOURCE_ID,
        datasourceName: "pg-sales/ledger",
      },
    });
  });

  it("reads security alerts on a datasource and on the vault itself", () => {
    expect(read("delete-backup-data")).toMatchObject({
      kind: "security",
      alert: { datasourceId: FIXTURE_DATASOURCE_ID, monitorCondition: "Fired" },
    });
    expect(read("soft-delete-disabled")).toMatchObject({
      kind: "security",
      alert: { datasourceId: FIXTURE_VAULT_ID, datasourceName: "pgprotect-vault" },
    });
  });

  it("finds the job in a custom property or a dimension named jobId when the context has none", () => {
    const base = alertFixture("minimal") as { data: Record<string, unknown> };
    const withProperty = {
      ...base,
      data: { ...base.data, customProperties: { JobId: `${FIXTURE_VAULT_ID}/backupJobs/abc-1` } },
    };
    const withDimension = {
      ...base,
      data: {
        ...base.data,
        alertContext: {
          condition: { allOf: [{ dimensions: [{ name: "jobId", value: "abc-2" }] }] },
        },
      },
    };

    expect(read(withProperty)).toMatchObject({ job: { name: "abc-1" } });
    expect(read(withDimension)).toMatchObject({ job: { name: "abc-2" } });
    expect(read("minimal")).not.toHaveProperty("job");
  });

  it("ignores alerts of other services and of vaults the app does not cover", () => {
    expect(read("common-schema-sample")).toMatchObject({ kind: "ignored" });
    expect(
      readBackupAlert(parseCommonAlert(alertFixture("backup-failure")), () => undefined),
    ).toMatchObject({ kind: "ignored" });
  });

  it("gives a job failure's alert the id of the job's own Failed event, and every other alert one per instance and condition", () => {
    const job = failedJob("refused", {
      id: `${FIXTURE_VAULT_ID}/backupJobs/${FIXTURE_BACKUP_JOB_NAME}`,
      name: FIXTURE_BACKUP_JOB_NAME,
    });

    const jobAlert = monitorAlertEvent(read("backup-failure"), { source: SOURCE, now });
    const fired = monitorAlertEvent(read("delete-backup-data"), { source: SOURCE, now });
    const firedAgain = monitorAlertEvent(read("delete-backup-data"), { source: SOURCE, now });
    const resolved = monitorAlertEvent(read("delete-backup-data.resolved"), {
      source: SOURCE,
      now,
    });

    expect(jobAlert.id).toBe(jobStateChangedEvent(job, { source: SOURCE }).id);
    expect(firedAgain.id).toBe(fired.id);
    expect(resolved.id).not.toBe(fired.id);
    expect(resolved.time).toBe("2026-11-24T09:02:11.000Z");
  });

  it("builds events that pass the event schema, as an Event Grid handler would parse them", () => {
    for (const name of ["backup-failure", "delete-backup-data", "minimal"] as const) {
      const event = monitorAlertEvent(read(name), { source: SOURCE, now });
      expect(parsePgProtectEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
    }
  });
});
