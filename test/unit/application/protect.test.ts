import { describe, expect, it } from "vitest";
import { protectDatasource, protectServer } from "../../../src/application/protect.js";
import { createVaultDirectory } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import {
  formatDatabaseId,
  formatServerId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import {
  legacyProtectionInstanceId,
  protectionInstanceId,
  serverProtectionInstanceId,
} from "../../../src/domain/protection/operationIds.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";
import { protectionProvider } from "../../support/protectionProvider.js";

const secretUri = "https://kv.vault.azure.net/secrets/pg1";
const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const pg1Id = formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName: "pg1" });
const salesId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "pg1",
  databaseName: "sales",
});
const weekly = compilePolicySpec({
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M" },
});

/** A Single Server `pg1` with a database `sales`, the policy `weekly` and one secret, in memory. */
function deps() {
  const config = loadConfig({});
  const server = { id: pg1Id, name: "pg1", kind: "servers", location: "local", tags: {} } as const;
  const provider = protectionProvider({ servers: [server], policies: { weekly }, secretUri });
  return { config, provider, vaults: createVaultDirectory(config) };
}

const protectSales = {
  datasourceId: salesId,
  policyName: "weekly",
  secretUri,
  requestedBy: "alice",
};

describe("protectDatasource", () => {
  it("starts protectDatasource under the datasource's id with the vault, policy, secret and requester", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const answer = await protectDatasource(deps(), orchestrations, protectSales);

    // Assert
    expect(answer).toEqual({
      started: true,
      instanceId: protectionInstanceId(salesId),
      subject: { datasourceId: salesId },
    });
    expect(orchestrations.started[0]?.input).toEqual({
      datasource: { datasourceId: salesId },
      vaultId,
      policyName: "weekly",
      secretUri,
      requestedBy: "alice",
    });
  });

  it("answers a repeat with the operation under way and starts nothing", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();
    await protectDatasource(deps(), orchestrations, protectSales);

    // Act
    const repeat = await protectDatasource(deps(), orchestrations, protectSales);

    // Assert
    expect(repeat).toMatchObject({ started: false, status: { runtimeStatus: "Pending" } });
    expect(orchestrations.started).toHaveLength(1);
  });

  it("answers an operation an earlier version started for this datasource under its old id", async () => {
    // Arrange
    const legacy = legacyProtectionInstanceId(salesId);
    const orchestrations = new InMemoryOrchestrations({
      [legacy]: {
        runtimeStatus: "Running",
        input: { datasource: { datasourceId: salesId }, vaultId, policyName: "weekly", secretUri },
      },
    });

    // Act
    const answer = await protectDatasource(deps(), orchestrations, protectSales);

    // Assert
    expect(answer).toMatchObject({ started: false, instanceId: legacy });
    expect(orchestrations.started).toEqual([]);
  });

  it("refuses a repeat that asks for another policy with a 409 naming the existing operation", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();
    await protectDatasource(deps(), orchestrations, protectSales);

    // Act
    const repeat = protectDatasource(deps(), orchestrations, {
      ...protectSales,
      policyName: "daily",
    });

    // Assert
    await expect(repeat).rejects.toMatchObject({
      code: "PROTECTION_EXISTS_WITH_OTHER_SETTINGS",
      httpStatus: 409,
    });
  });

  it("turns a start the task hub refuses into a retryable 503", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();
    orchestrations.start = async () => {
      throw new Error("task hub unreachable");
    };

    // Act
    const starting = protectDatasource(deps(), orchestrations, protectSales);

    // Assert
    await expect(starting).rejects.toMatchObject({
      code: "PROTECTION_START_FAILED",
      httpStatus: 503,
      retryable: true,
    });
  });
});

describe("protectServer", () => {
  it("starts protectServer under the server's id, and refuses it without the secret the databases share", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const answer = await protectServer(deps(), orchestrations, {
      serverName: "pg1",
      policyName: "weekly",
      secretUri,
    });
    const withoutSecret = protectServer(deps(), new InMemoryOrchestrations(), {
      serverName: "pg1",
      policyName: "weekly",
    });

    // Assert
    expect(answer).toMatchObject({
      started: true,
      instanceId: serverProtectionInstanceId(pg1Id),
      subject: { serverName: "pg1", allDatabases: true },
    });
    expect(orchestrations.started[0]?.input).toEqual({
      serverName: "pg1",
      vaultId,
      policyName: "weekly",
      secretUri,
    });
    await expect(withoutSecret).rejects.toMatchObject({ code: "SECRET_REQUIRED", httpStatus: 400 });
  });
});
