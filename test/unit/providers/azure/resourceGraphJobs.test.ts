import { describe, expect, it } from "vitest";
import { parseQuotaResetsAfter } from "../../../../src/providers/azure/resourceGraph.js";
import { backupJobsQuery } from "../../../../src/providers/azure/resourceGraphJobs.js";

describe("backupJobsQuery", () => {
  it("asks RecoveryServicesResources for Data Protection jobs with the CLI's columns", () => {
    const query = backupJobsQuery();

    expect(query).toMatch(
      /^RecoveryServicesResources \| where type =~ 'microsoft\.dataprotection\/backupvaults\/backupjobs'/,
    );
    expect(query).toContain("| extend vaultName = properties.vaultName");
    expect(query).toContain("strcat('OnDemand',properties.operationCategory)");
    expect(query).toContain("| extend datasourceId = properties.dataSourceId");
  });

  it("appends each filter as an in~ clause, widening domain statuses to the service's spellings", () => {
    const query = backupJobsQuery({
      status: ["InProgress"],
      operation: ["OnDemandBackup"],
      vaultNames: ["v'1"],
      since: "2026-11-24T06:00:00Z",
    });

    expect(query).toContain("| where status in~ ('InProgress','Started','Cancelling','Paused')");
    expect(query).toContain("| where operation in~ ('OnDemandBackup')");
    expect(query).toContain("| where vaultName in~ ('v\\'1')");
    expect(query).toContain(
      "| where properties.startTime >= datetime(2026-11-24T06:00:00.000Z) or properties.endTime >= datetime(2026-11-24T06:00:00.000Z)",
    );
  });

  it("asks for both spellings of a cancelled job, as the service uses both", () => {
    const query = backupJobsQuery({ status: ["Cancelled"] });

    expect(query).toContain("| where status in~ ('Cancelled','Canceled')");
  });
});

describe("parseQuotaResetsAfter", () => {
  it("reads hh:mm:ss and d.hh:mm:ss", () => {
    expect(parseQuotaResetsAfter("00:00:03")).toBe(3000);
    expect(parseQuotaResetsAfter("01:02:03.5")).toBe(3_723_500);
    expect(parseQuotaResetsAfter("1.00:00:00")).toBe(86_400_000);
    expect(parseQuotaResetsAfter("3s")).toBeUndefined();
  });
});
