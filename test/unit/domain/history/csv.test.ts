import { describe, expect, it } from "vitest";
import { csvField, csvHeader, csvLines } from "../../../../src/domain/history/csv.js";
import { backupJob, failedJob } from "../../../support/notificationFixtures.js";

describe("jobs as CSV", () => {
  it("writes one header and one CRLF line per job, with the columns in the header's order", () => {
    // Act
    const text = csvHeader() + csvLines([backupJob(), failedJob("no access")]);

    // Assert
    const lines = text.split("\r\n");
    expect(lines[0]).toBe(
      "jobName,vault,operation,status,startTime,endTime,duration,backupInstance,datasource,datasourceType,policy,ruleName,recoveryPointId,dataTransferredInBytes,errorCode,jobId",
    );
    expect(lines[1]).toContain(",vault-prod,OnDemandBackup,Completed,2026-11-20T22:00:00Z,");
    expect(lines[1]).toContain(",1610612736,");
    expect(lines[2]).toContain(",Failed,");
    expect(lines[2]).toContain(",MISSING_REQUIRED_PERMISSIONS,");
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe("");
  });

  it("quotes fields with commas, quotes or line breaks, and defuses what a spreadsheet would run", () => {
    expect(csvField('orders, "eu"')).toBe('"orders, ""eu"""');
    expect(csvField("a\nb")).toBe('"a\nb"');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField(undefined)).toBe("");
    expect(csvField(42)).toBe("42");
  });
});
