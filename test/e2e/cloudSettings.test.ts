import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPgprotect } from "../support/hostProcess.js";

describe("the cloud settings at the host's start", () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-cloud-"));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("refuses to start with a token audience of another cloud than the endpoint's, in one line", async () => {
    // Arrange: US Government's Resource Manager, with the public cloud's audience left over.
    const env = {
      PATH: process.env["PATH"] ?? "",
      HOME: stateDir,
      PGPROTECT_STATE_DIR: stateDir,
      PGPROTECT_PROVIDER: "azure",
      AZURE_SUBSCRIPTION_ID: "5f1c3a2b-8d4e-4f60-9a7b-1c2d3e4f5a6b",
      EVENTGRID_TOPIC_ENDPOINT: "https://pgprotect.usgovvirginia-1.eventgrid.azure.us/api/events",
      AZURE_RESOURCE_MANAGER_ENDPOINT: "https://management.usgovcloudapi.net",
      AZURE_TOKEN_AUDIENCE: "https://management.azure.com",
    };

    // Act
    const run = await runPgprotect(["host", "--port", "0"], env);

    // Assert
    expect(run.code).not.toBe(0);
    const refusal = run.stderr.split("\n").filter((line) => line.includes("AZURE_TOKEN_AUDIENCE"));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toContain(
      "AZURE_TOKEN_AUDIENCE https://management.azure.com is AzurePublicCloud's, but Resource Manager (https://management.usgovcloudapi.net) is AzureUSGovernment's",
    );
    expect(run.output).not.toContain("Host started on");
  });
});
