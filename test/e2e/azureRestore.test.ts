import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningHost } from "@pgprotect/functions-runtime";
import { startAzureApp, type AzureApp } from "../support/azureApp.js";
import {
  addBackedUpServer,
  addRestoreStorage,
  APP_TOKEN,
  blobNames,
  containerIdIn,
  expectSettledWithinContract,
  restoreEnded,
  restoreSourceIn,
  startFakeAzure,
  stopAll,
} from "../support/azureRestoreScenario.js";
import { startAzuriteBlob, type AzuriteBlob } from "../support/azuriteBlob.js";
import { FAKE_VAULT_PRINCIPAL_ID, type FakeArm, FakeKeyVault } from "../support/fakeArm/index.js";
import type { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import { STORAGE_BLOB_DATA_CONTRIBUTOR } from "../support/fakeArm/restores.js";
import { functionsApi } from "../support/functionsApi.js";
import {
  mailMatching,
  smtpEmailSettings,
  startSmtpServer,
  type TestSmtpServer,
} from "../support/notificationServers.js";
import { runPgprotect } from "../support/hostProcess.js";
import { usePostgresCluster } from "../support/postgres.js";

type Body = Record<string, unknown>;

describe("restore in Azure, from a recovery point to files in a container and to a running database, against the fake Resource Manager", () => {
  const postgres = usePostgresCluster();
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let keyVault: FakeKeyVault;
  let azurite: AzuriteBlob;
  let smtp: TestSmtpServer;
  let app: AzureApp;
  let host: RunningHost;
  let instanceName: string;
  let storageAccountId: string;
  let containerUrl: string;
  /** The ARM id of the container the vault's identity may write into. */
  let restoresContainerId: string;
  let targetSecretUri: string;
  const api = functionsApi(() => host);

  const restoreJobsOf = () => fake.jobsOf(instanceName).filter((j) => j.category === "Restore");

  beforeAll(async () => {
    const fakes = await startFakeAzure();
    ({ fake, identity } = fakes);
    keyVault = await FakeKeyVault.start(APP_TOKEN);
    azurite = await startAzuriteBlob();
    smtp = await startSmtpServer();

    // The source: a Flexible Server whose database "orders" the fake dumps when it restores,
    // protected and backed up once, as the app would have done.
    await postgres.query("postgres", "CREATE DATABASE orders");
    await postgres.query(
      "orders",
      `CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL);
       CREATE TABLE purchase (id bigserial PRIMARY KEY, customer_id int REFERENCES customer(id), total numeric(10,2), at timestamptz);
       INSERT INTO customer SELECT g, 'customer ' || g FROM generate_series(1, 50) g;
       INSERT INTO purchase (customer_id, total, at)
         SELECT 1 + g % 50, g * 1.25, timestamptz '2026-01-01' + g * interval '1 hour' FROM generate_series(1, 500) g;`,
    );
    const server = await addBackedUpServer(fake, fakes.azure.backup, {
      serverName: "pg-orders",
      instanceName: "pg-orders-pg-orders-6a1f0c1e-3b9d-4a57-9e42-0d6c7b8a9f10",
      source: restoreSourceIn(postgres, ["orders"]),
    });
    instanceName = server.instanceName;

    // The target storage: Azurite's account, as Resource Manager knows it.
    storageAccountId = await addRestoreStorage(fake, azurite, "rg-restore", ["restores", "locked"]);
    containerUrl = `${azurite.endpoint}/restores`;
    restoresContainerId = containerIdIn(storageAccountId, "restores");
    // The vault's identity may write into "restores" only.
    fake.assignRole(restoresContainerId, STORAGE_BLOB_DATA_CONTRIBUTOR, FAKE_VAULT_PRINCIPAL_ID);

    // The target server's connection string, in Key Vault.
    targetSecretUri = keyVault.setSecret(
      "restore-target",
      postgres.cluster.connectionUrl("postgres"),
    );

    app = await startAzureApp({
      name: "e2e-azure-restore",
      fake,
      identity,
      vaultIds: server.vaultId,
      trust: [keyVault.ca],
      settings: {
        AZURE_KEY_VAULT_DNS_SUFFIXES: "127.0.0.1",
        RESTORE_STORAGE_CONNECTION_STRING: azurite.connectionString,
        POSTGRES_BIN_DIR: postgres.cluster.binDir,
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: [{ id: "dba-email", type: "email", to: ["dba@contoso.example"] }],
          rules: [
            {
              name: "finished-jobs",
              match: {
                eventTypes: ["PgProtect.Backup.JobStateChanged"],
                jobStatuses: ["Completed"],
              },
              channels: ["dba-email"],
            },
          ],
        }),
        ...smtpEmailSettings(smtp),
      },
    });
    host = app.host;
  }, 120_000);

  afterEach(() => expectSettledWithinContract(fake));

  afterAll(async () => {
    await stopAll(app, azurite);
    await smtp?.close();
    await stopAll(keyVault, identity, fake);
  });

  it("restores the latest recovery point as files into the named container, validated first, the job followed to Completed", async () => {
    // Act
    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: containerUrl,
      targetStorageAccountId: restoresContainerId,
      filePrefix: "as-files",
    });
    const done = await restoreEnded(api, started.body.restoreId);

    // Assert
    expect(started.status).toBe(202);
    expect(started.body.target).toMatchObject({ kind: "files", url: containerUrl });
    expect(started.body.checks).toEqual([
      "the vault vault-pg's identity holds its role on the restore's storage",
      "the service validated the restore",
    ]);
    expect(done.body).toMatchObject({ status: "Completed", state: "Completed", error: null });
    expect(await blobNames(azurite, "restores", "as-files")).toEqual(["as-files_orders.dump"]);
    const dump = await azurite
      .client()
      .getContainerClient("restores")
      .getBlobClient("as-files_orders.dump")
      .downloadToBuffer();
    expect(dump.subarray(0, 5).toString("latin1")).toBe("PGDMP");
    // Validated before it was sent, and sent with the container's ARM id.
    const validated = fake.requestsOf("BackupInstances_ValidateForRestore");
    const triggered = fake.requestsOf("BackupInstances_TriggerRestore");
    expect(validated).toHaveLength(1);
    expect(triggered).toHaveLength(1);
    expect(validated[0]!.at).toBeLessThanOrEqual(triggered[0]!.at);
    expect(triggered[0]!.body).toMatchObject({
      restoreTargetInfo: {
        objectType: "RestoreFilesTargetInfo",
        targetDetails: {
          url: containerUrl,
          filePrefix: "as-files",
          targetResourceArmId: restoresContainerId,
        },
      },
    });
    const jobs = await api("GET", `jobs/${String(started.body.jobName)}`);
    expect(jobs.body).toMatchObject({ status: "Completed", operation: "Restore" });
    // Published like a backup job: its end reached the DBAs through the notification rules.
    const mail = await mailMatching(smtp, (m) =>
      (m.text ?? "").includes(String(started.body.jobName)),
    );
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
  });

  it("finds the container's storage account by the name in its URL when targetStorageAccountId is left out, and restores into it", async () => {
    // Act
    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: containerUrl,
      filePrefix: "found-account",
    });
    const done = await restoreEnded(api, started.body.restoreId);

    // Assert
    expect(started.status).toBe(202);
    expect(started.body.checks).toEqual([
      `found the container's storage account by its name: ${storageAccountId}`,
      "the vault vault-pg's identity holds its role on the restore's storage",
      "the service validated the restore",
    ]);
    expect(done.body).toMatchObject({ status: "Completed" });
    expect(await blobNames(azurite, "restores", "found-account")).toEqual([
      "found-account_orders.dump",
    ]);
    expect(fake.requestsOf("BackupInstances_TriggerRestore").at(-1)?.body).toMatchObject({
      restoreTargetInfo: { targetDetails: { targetResourceArmId: restoresContainerId } },
    });
  });

  it("asks for targetStorageAccountId with a 400 naming the account when no storage account of that name is found, and sends no restore", async () => {
    const before = fake.requestsOf("BackupInstances_TriggerRestore").length;

    const refused = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: "https://nosuchaccount.blob.core.windows.net/restores",
    });

    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe("RESTORE_STORAGE_ACCOUNT_REQUIRED");
    expect(String(refused.body.detail)).toContain(
      "no storage account named 'nosuchaccount' is visible",
    );
    expect(String(refused.body.recommendedAction)).toContain("targetStorageAccountId");
    expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(before);
  });

  it("refuses a container the vault's identity may not write into with a 403 naming the command that grants the role, and sends no restore", async () => {
    const before = fake.requestsOf("BackupInstances_TriggerRestore").length;

    const refused = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: `${azurite.endpoint}/locked`,
      targetStorageAccountId: `${storageAccountId}/blobServices/default/containers/locked`,
    });

    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body.code).toBe("MISSING_REQUIRED_PERMISSIONS");
    expect(String(refused.body.detail)).toContain("Storage Blob Data Contributor");
    expect(String(refused.body.recommendedAction)).toContain(
      `az role assignment create --assignee-object-id ${FAKE_VAULT_PRINCIPAL_ID} --assignee-principal-type ServicePrincipal --role "Storage Blob Data Contributor" --scope ${storageAccountId}/blobServices/default/containers/locked`,
    );
    expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(before);
    expect(await blobNames(azurite, "locked", "")).toEqual([]);
  });

  it("answers a restore the service refuses in validateRestore with a 400 problem carrying the service's code, and sends no restore", async () => {
    fake.restores.refuse(
      instanceName,
      "UserErrorRestoreTargetNotReachable",
      "The storage account cannot be reached from the vault's region.",
    );
    const before = fake.requestsOf("BackupInstances_TriggerRestore").length;
    try {
      const refused = await api("POST", `backup-instances/${instanceName}/restores`, {
        targetContainerUrl: containerUrl,
        targetStorageAccountId: restoresContainerId,
      });

      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({
        serviceCode: "UserErrorRestoreTargetNotReachable",
      });
      expect(String(refused.body.detail)).toContain("cannot be reached");
      expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(before);
    } finally {
      fake.restores.allow(instanceName);
    }
  });

  it("restores to a server: the files loaded from the container into a new database of a real PostgreSQL, verified, and the time each step took", async () => {
    // Act
    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: containerUrl,
      targetStorageAccountId: restoresContainerId,
      targetDatabaseName: "orders_restored",
      secretUri: targetSecretUri,
    });
    const done = await restoreEnded(api, started.body.restoreId);

    // Assert
    expect(started.status).toBe(202);
    expect(started.body.target).toMatchObject({ kind: "server", databaseName: "orders_restored" });
    expect(JSON.stringify(started.body)).not.toContain(postgres.cluster.password ?? "no-password");
    expect(done.body).toMatchObject({ status: "Completed", error: null });
    const database = done.body.database as Body;
    expect(database).toMatchObject({
      databaseName: "orders_restored",
      blobName: expect.stringMatching(/_orders\.dump$/),
      verification: { verified: true, tables: 2, rows: 550, mismatches: [] },
    });
    expect(done.body.seconds).toEqual({ job: expect.any(Number), total: expect.any(Number) });
    const rows = await postgres.query<{ customers: string; total: string }>(
      "orders_restored",
      "SELECT (SELECT count(*) FROM customer) AS customers, (SELECT sum(total) FROM purchase) AS total",
    );
    expect(rows).toEqual([{ customers: "50", total: "156562.50" }]);
    // Nothing half-written is left: no temporary database beside the restored one.
    const leftovers = await postgres.query(
      "postgres",
      "SELECT datname FROM pg_database WHERE datname LIKE 'orders_restored_restoring_%'",
    );
    expect(leftovers).toEqual([]);
  });

  it("refuses to restore to a server over a database that exists, and leaves that database as it was", async () => {
    await postgres.query("postgres", "CREATE DATABASE orders_taken");
    await postgres.query("orders_taken", "CREATE TABLE mine (x int); INSERT INTO mine VALUES (7)");

    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: containerUrl,
      targetStorageAccountId: restoresContainerId,
      targetDatabaseName: "orders_taken",
      secretUri: targetSecretUri,
    });
    const done = await restoreEnded(api, started.body.restoreId);

    expect(done.body).toMatchObject({
      status: "Failed",
      error: { code: "RESTORE_TARGET_EXISTS" },
    });
    expect(await postgres.query("orders_taken", "SELECT x FROM mine")).toEqual([{ x: 7 }]);
  });

  it("restores to a server from the command line, showing progress to the end with --wait", async () => {
    const run = await runPgprotect(
      [
        "restore",
        instanceName,
        "--target-container-url",
        containerUrl,
        "--target-storage-account",
        restoresContainerId,
        "--target-database",
        "orders_cli",
        "--secret-uri",
        targetSecretUri,
        "--wait",
        "--interval",
        "0.2",
      ],
      {
        PATH: process.env.PATH,
        PGPROTECT_API_URL: `${host.url}/api`,
        PGPROTECT_KEY: host.functionKey,
      },
    );

    expect(run.code, run.output).toBe(0);
    expect(run.stderr).toMatch(/restore-\S+: restore of \S+ Running, /);
    expect(run.stderr).toMatch(/restore-\S+: restore of \S+ Completed, Completed/);
    expect(run.stdout).toMatch(/database\s+orders_cli on 127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/verified\s+yes: 2 tables, 550 rows/);
    expect(await postgres.query("orders_cli", "SELECT count(*)::int AS n FROM purchase")).toEqual([
      { n: 500 },
    ]);
  });

  it("starts one restore when the service's answer to the restore request is lost", async () => {
    const before = restoreJobsOf().length;
    const sentBefore = fake.requestsOf("BackupInstances_TriggerRestore").length;
    fake.loseAnswers("BackupInstances_TriggerRestore", "500");

    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetContainerUrl: containerUrl,
      targetStorageAccountId: restoresContainerId,
      filePrefix: "lost-answer",
    });
    const done = await restoreEnded(api, started.body.restoreId);

    expect(started.status).toBe(202);
    expect(done.body.status).toBe("Completed");
    expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(sentBefore + 1);
    expect(restoreJobsOf()).toHaveLength(before + 1);
    expect(await blobNames(azurite, "restores", "lost-answer")).toEqual([
      "lost-answer_orders.dump",
    ]);
  });
});
