/**
 * A protection states its outcome whatever fails, over the local provider and a real PostgreSQL:
 * the app's activities, the orchestration run to its end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import {
  protectDatasource,
  type ProtectDatasourceOutput,
} from "../../../src/orchestrations/protectDatasource.js";
import type { Provider, PublishedEvent } from "../../../src/providers/ports.js";
import { activitiesOver, runOrchestration } from "../../support/fakeArm/orchestrationRunner.js";
import { createTestProvider, defaultPostgresPolicy } from "../../support/localProvider.js";
import { usePostgresCluster } from "../../support/postgres.js";

const pg = usePostgresCluster();
let local: Awaited<ReturnType<typeof createTestProvider>>;
let secretUri: string;

beforeAll(async () => {
  local = await createTestProvider(pg.cluster);
  await local.provider.backup.createPolicy(local.vaultId, "weekly", defaultPostgresPolicy());
  secretUri = await local.provider.secrets.setSecret("pgp", pg.cluster.connectionUrl());
  for (const name of ["no_created_at", "unannounced"]) {
    await pg.query("postgres", `CREATE DATABASE ${name}`);
  }
});

afterAll(async () => {
  await local?.dispose();
});

const datasourceIdOf = (databaseName: string) =>
  formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local", databaseName });

/** The provider, with backup instances answered without a creation time (no `systemData`). */
function withoutCreationTimes(provider: Provider): Provider {
  const backup = provider.backup;
  const strip = <T extends { createdAt: string }>(instance: T): T => ({
    ...instance,
    createdAt: "",
  });
  const replaced: Partial<typeof backup> = {
    createBackupInstance: async (...args) => strip(await backup.createBackupInstance(...args)),
    getBackupInstance: async (...args) => strip(await backup.getBackupInstance(...args)),
  };
  // The service's other calls go to the provider itself, bound to it (its state is private).
  const answering = new Proxy(backup, {
    get: (target, key) => {
      const own = replaced[key as keyof typeof backup];
      if (own) return own;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? (value as () => unknown).bind(target) : value;
    },
  });
  return { ...provider, backup: answering };
}

describe("protectDatasource over the local provider", () => {
  it("protects and announces a datasource whose backup instance comes without a creation time", async () => {
    // Arrange
    const published: PublishedEvent[] = [];
    const activities = activitiesOver(withoutCreationTimes(local.provider), { published });

    // Act
    const run = await runOrchestration<ProtectDatasourceOutput>(
      protectDatasource,
      {
        datasource: { datasourceId: datasourceIdOf("no_created_at") },
        vaultId: local.vaultId,
        policyName: "weekly",
        secretUri,
      },
      activities,
    );

    // Assert
    expect(run.output.error).toBeUndefined();
    expect(run.output.outcome).toBe("Protected");
    const configured = published.filter((e) => e.type === "PgProtect.Protection.Configured");
    expect(configured).toHaveLength(1);
    expect(Number.isNaN(Date.parse(String(configured[0]?.time)))).toBe(false);
  });

  it("explains a protection whose Configured event cannot be published, announces the failure once, and answers AlreadyProtected when asked again", async () => {
    // Arrange: the publisher refuses Configured events, whatever the retries.
    const published: PublishedEvent[] = [];
    const activities = activitiesOver(local.provider, { published });
    const refusing = {
      ...activities,
      publishEvents: async (requests: never) => {
        if ((requests as Array<{ kind: string }>)[0]?.kind === "protectionConfigured")
          throw new Error("EVENT_PUBLISH_FAILED: the topic answered 500");
        return activities["publishEvents"]?.(requests);
      },
    };
    const input = {
      datasource: { datasourceId: datasourceIdOf("unannounced") },
      vaultId: local.vaultId,
      policyName: "weekly",
      secretUri,
    };

    // Act
    const first = await runOrchestration<ProtectDatasourceOutput>(
      protectDatasource,
      input,
      refusing,
    );
    const again = await runOrchestration<ProtectDatasourceOutput>(
      protectDatasource,
      input,
      activities,
    );

    // Assert
    expect(first.output).toMatchObject({
      outcome: "Failed",
      datasourceId: input.datasource.datasourceId,
      error: {
        code: "PROTECTION_EVENT_NOT_PUBLISHED",
        message: expect.stringContaining("the topic answered 500"),
        recommendedAction: expect.any(String),
      },
    });
    const failed = published.filter((e) => e.type === "PgProtect.Protection.Failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({
      failedStep: "publish",
      backupInstanceName: first.output.backupInstanceName,
      error: { code: "PROTECTION_EVENT_NOT_PUBLISHED" },
    });
    expect(again.output).toMatchObject({
      outcome: "AlreadyProtected",
      backupInstanceName: first.output.backupInstanceName,
    });
  });
});
