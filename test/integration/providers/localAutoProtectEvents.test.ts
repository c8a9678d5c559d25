import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localTopicName } from "../../../src/composition.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance } from "../../../src/domain/protection/types.js";
import { startLocalApp, weeklyPolicy, type LocalApp } from "../../support/localApp.js";
import { poll } from "../../support/poll.js";
import { usePostgresCluster } from "../../support/postgres.js";

const postgres = usePostgresCluster();

describe("local resource events with the runtime's timers running", () => {
  let app: LocalApp;
  const ledgerId = formatDatabaseId({
    ...LOCAL_SCOPE,
    kind: "servers",
    serverName: "local",
    databaseName: "ledger",
  });

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    app = await startLocalApp({
      postgres,
      name: "resource-events",
      secrets: { "local-ledger": postgres.cluster.connectionUrl("ledger") },
      policies: { weekly: weeklyPolicy },
      // The system clock: the resource-event timer runs on its own schedule.
      timers: true,
      eventGrid: {
        topics: {
          [localTopicName]: { subscriptions: [] },
          resources: {
            subscriptions: [
              {
                function: "eventGridAutoProtect",
                includedEventTypes: ["Microsoft.Resources.ResourceWriteSuccess"],
              },
            ],
          },
        },
      },
    });
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("protects a database tagged with SQL without anyone running a timer by hand", async () => {
    // Act
    await postgres.query(
      "postgres",
      `COMMENT ON DATABASE ledger IS '{"pgprotect-policy":"weekly"}'`,
    );
    const instances = await poll(
      () => app.provider.backup.listBackupInstancesForDatasource(ledgerId),
      (found: BackupInstance[]) => found.some((i) => i.protectionStatus === "ProtectionConfigured"),
    );

    // Assert
    expect(instances.map((i) => [i.friendlyName, i.protectionStatus])).toEqual([
      ["local/ledger", "ProtectionConfigured"],
    ]);
  });
});
