import pc from "picocolors";
import { describe, expect, it } from "vitest";
import { drillDetails, type DrillAnswer } from "../../../../src/cli/client/drillCommands.js";

const plain = pc.createColors(false);
const drill: DrillAnswer = {
  id: "drill-ondemand-pg-company-20261207t030000z-1a2b3c4d",
  backupInstanceName: "pg-company-1",
  friendlyName: "pg-company",
  vaultName: "vault-pg",
  schedule: null,
  requestedBy: null,
  verdict: "Failed",
  startTime: "2026-12-07T03:00:00.000Z",
  endTime: "2026-12-07T03:01:00.000Z",
  timeToRestoreSeconds: 41.5,
  recoveryPointId: "rp1",
  recoveryPointTime: "2026-12-06T22:00:00.000Z",
  verification: { verified: false, tables: 1, rows: 30, mismatches: [] },
  error: { code: "MISSING_DB_PERMISSIONS", message: "1 of 2 databases failed: hr: denied" },
  scratchRemoved: true,
  databases: [
    {
      databaseName: "hr",
      verdict: "Failed",
      verification: null,
      seconds: null,
      error: { code: "MISSING_DB_PERMISSIONS", message: "denied" },
    },
    {
      databaseName: "sales",
      verdict: "Succeeded",
      verification: { tables: 1, rows: 30 },
      seconds: 2.5,
      error: null,
    },
  ],
};

describe("a whole server's drill on the command line", () => {
  it("shows each database's verdict, figures and error on its own line", () => {
    const text = drillDetails(plain, drill);

    expect(text).toMatch(/^database hr\s+Failed: MISSING_DB_PERMISSIONS: denied$/m);
    expect(text).toMatch(/^database sales\s+Succeeded \(1 tables, 30 rows, 2\.5 s\)$/m);
  });

  it("shows no database line for a drill of one database", () => {
    const { databases: _none, ...single } = drill;

    expect(drillDetails(plain, single)).not.toContain("database ");
  });
});
