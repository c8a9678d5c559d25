/**
 * Restore drills in Azure, against the fake Resource Manager: the drill restores the latest
 * recovery point as files into the drill container (Azurite), loads the dump the fake wrote into a
 * scratch database of a real PostgreSQL (the scratch server), verifies it, then drops the scratch
 * database and deletes the drill's blobs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningHost } from "@pgprotect/functions-runtime";
import type { AzureServices } from "../../src/providers/azure/azureServices.js";
import { backupInstanceSpecFor } from "../../src/providers/azure/backupInstanceBuilder.js";
import { ARM_AUDIENCE, startAzureApp, type AzureApp } from "../support/azureApp.js";
import { allEntities, startAzuriteTable, type AzuriteTable } from "../support/azurite.js";
import { startAzuriteBlob, type AzuriteBlob } from "../support/azuriteBlob.js";
import {
  assignVaultRoles,
  azureServicesAgainst,
  createDefaultPolicy,
  FAKE_SUBSCRIPTION_ID,
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  FakeKeyVault,
  fakeArmCredential,
} from "../support/fakeArm/index.js";
import { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import { STORAGE_BLOB_DATA_CONTRIBUTOR } from "../support/fakeArm/restores.js";
import { functionsApi } from "../support/functionsApi.js";
import {
  smtpEmailSettings,
  startSmtpServer,
  type ReceivedMail,
  type TestSmtpServer,
} from "../support/notificationServers.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const TOKEN = "token-from-managed-identity";
type Body = Record<string, unknown>;

describe("restore drills in Azure, restored as files into the drill container and loaded into a scratch database of a real PostgreSQL", () => {
  const postgres = usePostgresCluster();
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let keyVault: FakeKeyVault;
  let azurite: AzuriteBlob;
  let hostStorage: AzuriteTable;
  let smtp: TestSmtpServer;
  let app: AzureApp;
  let host: RunningHost;
  let azure: AzureServices;
  let vaultId: string;
  let instanceName: string;
  const api = functionsApi(() => host);

  const drillEnded = (statusUrl: unknown) =>
    poll(
      () => api("GET", String(statusUrl)),
      (r) => r.status === 200 && r.body.verdict !== "InProgress",
      120_000,
    );
  const scratchDatabases = async () =>
    (
      await postgres.query<{ datname: string }>(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'pgprotect\\_drill\\_%'",
      )
    ).map((row) => row.datname);
  const drillBlobs = async () => {
    const names: string[] = [];
    for await (const blob of azurite.client().getContainerClient("drills").listBlobsFlat())
      names.push(blob.name);
    return names;
  };
  /** The first mail (already received or still to come) that `matches`. */
  const mailMatching = async (matches: (mail: ReceivedMail) => boolean, timeoutMs = 30_000) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no matching mail arrived")), timeoutMs);
    });
    try {
      for (;;) {
        const found = smtp.received.find(matches);
        if (found) return found;
        await Promise.race([smtp.next(), deadline]);
      }
    } finally {
      clearTimeout(timer);
    }
  };

  beforeAll(async () => {
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      token: TOKEN,
      retryAfterSeconds: 0,
    });
    identity = await FakeManagedIdentity.start(TOKEN);
    keyVault = await FakeKeyVault.start(TOKEN);
    azurite = await startAzuriteBlob();
    hostStorage = await startAzuriteTable();
    smtp = await startSmtpServer();
    azure = azureServicesAgainst(fake, {
      credential: fakeArmCredential(TOKEN),
      settings: { AZURE_TOKEN_AUDIENCE: ARM_AUDIENCE },
    });

    // The source: a Flexible Server whose database "inventory" the fake dumps when it restores.
    await postgres.query("postgres", "CREATE DATABASE inventory");
    await postgres.query(
      "inventory",
      `CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);
       CREATE TABLE stock (id bigserial PRIMARY KEY, item_id int REFERENCES item(id), quantity int);
       INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, 40) g;
       INSERT INTO stock (item_id, quantity) SELECT 1 + g % 40, g FROM generate_series(1, 400) g;`,
    );
    vaultId = fake.addVault("rg-backup", "vault-pg");
    const serverId = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-inventory",
      kind: "flexibleServers",
    });
    assignVaultRoles(fake, serverId);
    fake.restores.setSource(serverId, {
      databases: { inventory: postgres.cluster.connectionUrl("inventory") },
      binDir: postgres.cluster.binDir,
    });

    // The drill container, in Azurite's account as Resource Manager knows it.
    const storageAccountId = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-drills/providers/Microsoft.Storage/storageAccounts/devstoreaccount1`;
    fake.restores.addStorageAccount({
      id: storageAccountId,
      blobEndpoint: azurite.endpoint,
      connectionString: azurite.connectionString,
    });
    await azurite.client().getContainerClient("drills").create();
    const drillsContainerId = `${storageAccountId}/blobServices/default/containers/drills`;
    fake.assignRole(drillsContainerId, STORAGE_BLOB_DATA_CONTRIBUTOR, FAKE_VAULT_PRINCIPAL_ID);

    // The scratch server: the same real PostgreSQL, reached through its secret in Key Vault.
    const scratchSecretUri = keyVault.setSecret(
      "drill-scratch-server",
      postgres.cluster.connectionUrl("postgres"),
    );

    const policyId = await createDefaultPolicy(azure.backup, vaultId);
    instanceName = "pg-inventory-pg-inventory-0b7c4f2a-51d3-4e8a-9a61-2f4e8c1d7b30";
    await azure.backup.createBackupInstance(
      vaultId,
      instanceName,
      backupInstanceSpecFor({ datasourceId: serverId, location: "westus", policyId }),
    );
    const { jobId } = await azure.backup.triggerBackup(vaultId, instanceName, {
      ruleName: "BackupWeekly",
    });
    await poll(
      () => azure.backup.getJob(vaultId, jobId),
      (job) => job.status === "Completed",
    );

    app = await startAzureApp({
      name: "e2e-azure-drills",
      fake,
      identity,
      vaultIds: vaultId,
      trust: [keyVault.ca],
      settings: {
        // Host storage as in Azure: the drill history is the task hub's table, shared by instances.
        AzureWebJobsStorage: hostStorage.connectionString,
        AZURE_KEY_VAULT_DNS_SUFFIXES: "127.0.0.1",
        RESTORE_STORAGE_CONNECTION_STRING: azurite.connectionString,
        POSTGRES_BIN_DIR: postgres.cluster.binDir,
        DRILL_CONTAINER_URL: `${azurite.endpoint}/drills`,
        DRILL_STORAGE_ACCOUNT_ID: drillsContainerId,
        DRILL_SERVER_SECRET_URI: scratchSecretUri,
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: [{ id: "dba-email", type: "email", to: ["dba@contoso.example"] }],
          rules: [
            {
              name: "drills",
              match: { eventTypes: ["PgProtect.Restore.*"] },
              channels: ["dba-email"],
            },
          ],
        }),
        ...smtpEmailSettings(smtp),
      },
    });
    host = app.host;
  }, 180_000);

  afterEach(async () => {
    await fake.restores.settled();
    // Every request the app sent and every answer the fake gave kept the OpenAPI contract.
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await app?.stop();
    await azurite?.stop();
    await hostStorage?.stop();
    await smtp?.close();
    await keyVault?.stop();
    await identity?.stop();
    await fake?.stop();
  });

  it("drills on demand: restores as files into the drill container, loads and verifies every row in a scratch database, then leaves no database and no blob behind", async () => {
    // Act
    const started = await api("POST", `backup-instances/${instanceName}/drills`);
    const second = await api("POST", `backup-instances/${instanceName}/drills`);
    const ended = await drillEnded(started.body.statusUrl);
    const instance = await api("GET", `backup-instances/${instanceName}`);
    const listed = await api("GET", `drills?instance=${instanceName}`);
    const mail = await mailMatching((m) => m.subject.includes("Restore drill succeeded"));

    // Assert
    expect(started.status).toBe(202);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: "DRILL_RUNNING" });
    const scratchTarget = String(started.body.scratchTarget);
    expect(scratchTarget).toMatch(/^pgprotect_drill_[0-9a-f]{24}$/);
    expect(ended.body).toMatchObject({
      id: started.body.id,
      verdict: "Succeeded",
      error: null,
      scratchRemoved: true,
      verification: { verified: true, tables: 2, rows: 440, mismatches: [] },
    });
    expect(ended.body.timeToRestoreSeconds).toEqual(expect.any(Number));
    // The restore went to the drill container under the drill's own prefix.
    expect(fake.requestsOf("BackupInstances_TriggerRestore").at(-1)?.body).toMatchObject({
      restoreTargetInfo: {
        objectType: "RestoreFilesTargetInfo",
        targetDetails: { url: `${azurite.endpoint}/drills`, filePrefix: scratchTarget },
      },
    });
    expect(await scratchDatabases()).toEqual([]);
    expect(await drillBlobs()).toEqual([]);
    expect(instance.body.lastDrill).toMatchObject({ id: started.body.id, verdict: "Succeeded" });
    // Recorded in the host storage's table, where every instance of the app reads it.
    expect((listed.body.value as Body[]).map((d) => d.id)).toEqual([started.body.id]);
    const recorded = await allEntities(hostStorage.client("pgprotectDrills"));
    expect(recorded).toContainEqual(
      expect.objectContaining({
        partitionKey: "drill",
        rowKey: started.body.id,
        verdict: "Succeeded",
      }),
    );
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
    expect(mail.text).toContain("2 tables, 440 rows");
  }, 180_000);

  it("drops the scratch database and blobs a crashed drill left behind when the next drill runs", async () => {
    // Arrange: what a drill cut off mid-load leaves: its scratch database and its dump.
    const leftover = "pgprotect_drill_0123456789abcdef01234567";
    await postgres.query("postgres", `CREATE DATABASE ${leftover}`);
    await azurite
      .client()
      .getContainerClient("drills")
      .getBlockBlobClient(`${leftover}_inventory.dump`)
      .upload("PGDMP", 5);
    await azurite
      .client()
      .getContainerClient("drills")
      .getBlockBlobClient("kept-by-someone-else.dump")
      .upload("PGDMP", 5);

    // Act
    const started = await api("POST", `backup-instances/${instanceName}/drills`);
    const ended = await drillEnded(started.body.statusUrl);

    // Assert
    expect(ended.body).toMatchObject({ verdict: "Succeeded", scratchRemoved: true });
    expect(await scratchDatabases()).toEqual([]);
    // Only the drills' own names go: a blob of another name stays.
    expect(await drillBlobs()).toEqual(["kept-by-someone-else.dump"]);
    await azurite.client().getContainerClient("drills").deleteBlob("kept-by-someone-else.dump");
  }, 180_000);

  it("fails the drill when the scratch server refuses the load, removes what it wrote and notifies once", async () => {
    // Arrange: the scratch server's secret now names a user that may not create databases.
    await postgres.query(
      "postgres",
      "CREATE ROLE drill_reader LOGIN PASSWORD 'reader-pass' NOCREATEDB",
    );
    const reader = new URL(postgres.cluster.connectionUrl("postgres"));
    reader.username = "drill_reader";
    reader.password = "reader-pass";
    keyVault.setSecret("drill-scratch-server", reader.toString());

    // Act
    const started = await api("POST", `backup-instances/${instanceName}/drills`);
    const ended = await drillEnded(started.body.statusUrl);
    const mail = await mailMatching((m) => m.subject.includes("Restore drill failed"));
    await host.topics.whenIdle();

    // Assert
    expect(ended.body).toMatchObject({
      verdict: "Failed",
      error: { code: "MISSING_DB_PERMISSIONS" },
      scratchRemoved: true,
    });
    expect(String((ended.body.error as Body).message)).toContain("drill_reader");
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
    expect(smtp.received.filter((m) => m.subject.includes("Restore drill failed"))).toHaveLength(1);
    expect(await scratchDatabases()).toEqual([]);
    expect(await drillBlobs()).toEqual([]);
    const instance = await api("GET", `backup-instances/${instanceName}`);
    expect(instance.body.lastDrill).toMatchObject({ id: started.body.id, verdict: "Failed" });
  }, 180_000);
});
