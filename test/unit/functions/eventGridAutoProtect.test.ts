import { InvocationContext } from "@azure/functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { createVaultDirectory } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { NotFoundError } from "../../../src/domain/errors.js";
import { autoProtect } from "../../../src/functions/eventGridAutoProtect.js";
import {
  formatDatabaseId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import { protectionInstanceId } from "../../../src/domain/protection/operationIds.js";
import type { Provider } from "../../../src/providers/ports.js";

const salesId = formatDatabaseId({
  ...LOCAL_SCOPE,
  kind: "servers",
  serverName: "local",
  databaseName: "sales",
});
const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });

function durableClient(existing?: Partial<DurableOrchestrationStatus>) {
  const started: { name: string; instanceId: string; input: unknown }[] = [];
  return {
    started,
    getStatus: async () => {
      if (!existing) throw new Error("Webhook returned HTTP 404");
      return existing as DurableOrchestrationStatus;
    },
    startNew: async (name: string, options?: { instanceId?: string; input?: unknown }) => {
      started.push({ name, instanceId: options?.instanceId ?? "", input: options?.input });
      return options?.instanceId ?? "";
    },
  };
}

function deps(tags: Record<string, Record<string, string>>) {
  const config = loadConfig({});
  const provider = {
    directory: {
      getTags: async (id: string) => {
        const found = tags[id];
        if (!found) throw new NotFoundError("RESOURCE_NOT_FOUND", `${id} not found`);
        return found;
      },
    },
  } as unknown as Provider;
  return { config, provider, vaults: createVaultDirectory(config) };
}

const writeEvent = (resourceId: string, type = "Microsoft.Resources.ResourceWriteSuccess") => ({
  specversion: "1.0",
  id: "event-1",
  type,
  source: "/subscriptions/x",
  subject: resourceId,
  data: {
    resourceUri: resourceId,
    operationName: "Microsoft.DBforPostgreSQL/servers/databases/write",
    status: "Succeeded",
  },
});

function context() {
  const lines: string[] = [];
  const ctx = new InvocationContext({
    functionName: "eventGridAutoProtect",
    logHandler: (_level, ...args) => lines.push(args.join(" ")),
  });
  return { ctx, lines };
}

describe("eventGridAutoProtect", () => {
  it("protects a tagged database with the tagged policy, under the id POST /api/protections uses", async () => {
    // Arrange
    const durable = durableClient();
    const { ctx } = context();

    // Act
    const outcome = await autoProtect(
      writeEvent(salesId),
      ctx,
      durable,
      deps({ [salesId]: { "pgprotect-policy": "weekly" } }),
    );

    // Assert
    expect(outcome.action).toBe("started");
    expect(durable.started).toEqual([
      {
        name: "protectDatasource",
        instanceId: protectionInstanceId(salesId),
        input: {
          datasource: { datasourceId: salesId },
          vaultId,
          policyName: "weekly",
          secretUri: "https://pgprotect-local.vault.azure.net/secrets/local-sales",
          requestedBy: "auto-protection",
        },
      },
    ]);
  });

  it("leaves a protection that is running or done alone", async () => {
    const durable = durableClient({
      runtimeStatus: "Completed" as never,
      input: { datasource: { datasourceId: salesId }, vaultId, policyName: "weekly" },
      output: { outcome: "Protected" },
    });

    const outcome = await autoProtect(
      writeEvent(salesId),
      context().ctx,
      durable,
      deps({ [salesId]: { "pgprotect-policy": "weekly" } }),
    );

    expect(outcome).toMatchObject({ action: "existing", status: "Completed" });
    expect(durable.started).toEqual([]);
  });

  it("tries again after a protection that ended in failure", async () => {
    const durable = durableClient({
      runtimeStatus: "Completed" as never,
      output: { outcome: "Failed" },
    });

    await autoProtect(
      writeEvent(salesId),
      context().ctx,
      durable,
      deps({ [salesId]: { "pgprotect-policy": "weekly" } }),
    );

    expect(durable.started).toHaveLength(1);
  });

  it("ignores an untagged database, other events and deleted resources, and logs why", async () => {
    // Arrange
    const durable = durableClient();
    const { ctx, lines } = context();
    const tags = { [salesId]: { owner: "team-a" } };

    // Act
    await autoProtect(writeEvent(salesId), ctx, durable, deps(tags));
    await autoProtect(
      writeEvent(salesId, "Microsoft.Resources.ResourceDeleteSuccess"),
      ctx,
      durable,
      deps(tags),
    );
    await autoProtect(writeEvent(salesId.replace("sales", "gone")), ctx, durable, deps(tags));

    // Assert
    expect(durable.started).toEqual([]);
    // Each line is the named event, its message, and its properties as JSON.
    expect(lines.map((line) => line.replace(/ \{.*\}$/, ""))).toEqual([
      `PgProtect.AutoProtect.Ignored: Event event-1 ignored: ${salesId} has no 'pgprotect-policy' tag`,
      "PgProtect.AutoProtect.Ignored: Event event-1 ignored: Microsoft.Resources.ResourceDeleteSuccess is not Microsoft.Resources.ResourceWriteSuccess",
      `PgProtect.AutoProtect.Ignored: Event event-1 ignored: ${salesId.replace("sales", "gone")} no longer exists`,
    ]);
  });
});
