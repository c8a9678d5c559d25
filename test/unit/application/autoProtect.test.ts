import { describe, expect, it } from "vitest";
import { autoProtectResource, autoProtectRequester } from "../../../src/application/autoProtect.js";
import {
  formatDatabaseId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import { protectionInstanceId } from "../../../src/domain/protection/operationIds.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";

const salesId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "local",
  databaseName: "sales",
});
const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const settings = { tagName: "pgprotect-policy" };
const tagged = { getTags: async () => ({ "pgprotect-policy": "weekly" }) };

describe("autoProtectResource", () => {
  it("starts the protection of a tagged database under the id POST /api/protections uses", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const outcome = await autoProtectResource(salesId, orchestrations, tagged, settings, vaultId);

    // Assert
    expect(outcome).toMatchObject({ action: "started", instanceId: protectionInstanceId(salesId) });
    expect(orchestrations.started[0]?.input).toMatchObject({
      datasource: { datasourceId: salesId },
      vaultId,
      policyName: "weekly",
      requestedBy: autoProtectRequester,
    });
  });

  it("answers a protection another event started at the same moment as existing, rather than failing the event", async () => {
    // Arrange: the second delivery's start meets the first one's run under the same id.
    const orchestrations = new InMemoryOrchestrations();
    const start = orchestrations.start.bind(orchestrations);
    orchestrations.start = async (name, instanceId, input) => {
      await start(name, instanceId, input);
      orchestrations.start = start;
      await start(name, instanceId, input);
    };

    // Act
    const outcome = await autoProtectResource(salesId, orchestrations, tagged, settings, vaultId);

    // Assert
    expect(outcome).toMatchObject({
      action: "existing",
      instanceId: protectionInstanceId(salesId),
      status: "Pending",
    });
    expect(orchestrations.started).toHaveLength(1);
  });

  it("leaves a database alone whose protection succeeded, and protects again after a failed one", async () => {
    // Arrange
    const id = protectionInstanceId(salesId);
    const input = { datasource: { datasourceId: salesId } };
    const succeeded = new InMemoryOrchestrations({
      [id]: { runtimeStatus: "Completed", input, output: { outcome: "Protected" } },
    });
    const failed = new InMemoryOrchestrations({
      [id]: { runtimeStatus: "Completed", input, output: { outcome: "Failed" } },
    });

    // Act
    const afterSuccess = await autoProtectResource(salesId, succeeded, tagged, settings, vaultId);
    const afterFailure = await autoProtectResource(salesId, failed, tagged, settings, vaultId);

    // Assert
    expect(afterSuccess).toMatchObject({ action: "existing", status: "Completed" });
    expect(afterFailure).toMatchObject({ action: "started" });
  });
});
