/**
 * Restore drills in Azure, against the fake Resource Manager: the drill restores the latest
 * recovery point as files into the drill container (Azurite), loads the dump the fake wrote into a
 * scratch database of a real PostgreSQL (the scratch server), verifies it, then drops the scratch
 * database and deletes the drill's blobs.
 */
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
  restoreSourceIn,
  startFakeAzure,
  stopAll,
} from "../support/azureRestoreScenario.js";
import { allEntities, startAzuriteTable, type AzuriteTable } from "../support/azurite.js";
import { startAzuriteBlob, type AzuriteBlob } from "../support/azuriteBlob.js";
import { FAKE_VAULT_PRINCIPAL_ID, type FakeArm, FakeKeyVault } from "../support/fakeArm/index.js";
import type { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import { STORAGE_BLOB_DATA_CONTRIBUTOR } from "../support/fakeArm/restores.js";
import { functionsApi, type ApiResponse } from "../support/functionsApi.js";
import {
  mailMatching,
  smtpEmailSettings,
  startSmtpServer,
  type TestSmtpServer,
} from "../support/notificationServers.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster, type PostgresFixture } from "../support/postgres.js";

type Body = Record<string, unknown>;

/** Reads a drill through its status URL until it has a verdict. */
const drillEnded = (
  api: (method: string, route: string) => Promise<ApiResponse>,
  statusUrl: unknown,
) =>
  poll(
    () => api("GET", String(statusUrl)),
    (r) => r.status === 200 && r.body.verdict !== "InProgress",
    120_000,
  );

/** The drills' scratch databases the PostgreSQL holds. */
const scratchDatabases = async (postgres: PostgresFixture) =>
  (
    await postgres.query<{ datname: string }>(
      "postgres",
      "SELECT datname FROM pg_database WHERE datname LIKE 'pgprotect\\_drill\\_%'",
    )
  ).map((row) => row.datname);

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
  let instanceName: string;
  const api = functionsApi(() => host);

  beforeAll(async () => {
    const fakes = await startFakeAzure();
    ({ fake, identity } = fakes);
    keyVault = await FakeKeyVault.start(APP_TOKEN);
    azurite = await startAzuriteBlob();
    hostStorage = await startAzuriteTable();
    smtp = await startSmtpServer();

    // The source: a Flexible Server whose database "inventory" the fake dumps when it restores,
    // protected and backed up once.
    await postgres.query("postgres", "CREATE DATABASE inventory");
    await postgres.query(
      "inventory",
      `CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);
       CREATE TABLE stock (id bigserial PRIMARY KEY, item_id int REFERENCES item(id), quantity int);
       INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, 40) g;
       INSERT INTO stock (item_id, quantity) SELECT 1 + g % 40, g FROM generate_series(1, 400) g;`,
    );
    const server = await addBackedUpServer(fake, fakes.azure.backup, {
      serverName: "pg-inventory",
      instanceName: "pg-inventory-pg-inventory-0b7c4f2a-51d3-4e8a-9a61-2f4e8c1d7b30",
      source: restoreSourceIn(postgres, ["inventory"]),
    });
    instanceName = server.instanceName;

    // The drill container, in Azurite's account as Resource Manager knows it.
    const storageAccountId = await addRestoreStorage(fake, azurite, "rg-drills", ["drills"]);
    const drillsContainerId = containerIdIn(storageAccountId, "drills");
    fake.assignRole(drillsContainerId, STORAGE_BLOB_DATA_CONTRIBUTOR, FAKE_VAULT_PRINCIPAL_ID);

    // The scratch server: the same real PostgreSQL, reached through its secret in Key Vault.
    const scratchSecretUri = keyVault.setSecret(
      "drill-scratch-server",
      postgres.cluster.connectionUrl("postgres"),
    );

    app = await startAzureApp({
      name: "e2e-azure-drills",
      fake,
      identity,
      vaultIds: server.vaultId,
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

  afterEach(() => expectSettledWithinContract(fake));

  afterAll(async () => {
    await stopAll(app, azurite, hostStorage);
    await smtp?.close();
    await stopAll(keyVault, identity, fake);
  });

  it("drills on demand: restores as files into the drill container, loads and verifies every row in a scratch database, then leaves no database and no blob behind", async () => {
    // Act
    const started = await api("POST", `backup-instances/${instanceName}/drills`);
    const second = await api("POST", `backup-instances/${instanceName}/drills`);
    const ended = await drillEnded(api, started.body.statusUrl);
    const instance = await api("GET", `backup-instances/${instanceName}`);
    const listed = await api("GET", `drills?instance=${instanceName}`);
    const mail = await mailMatching(
      smtp,
      (m) => m.subject.includes("Restore drill succeeded"),
      30_000,
    );

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
    expect(await scratchDatabases(postgres)).toEqual([]);
    expect(await blobNames(azurite, "drills")).toEqual([]);
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
    const ended = await drillEnded(api, started.body.statusUrl);

    // Assert
    expect(ended.body).toMatchObject({ verdict: "Succeeded", scratchRemoved: true });
    expect(await scratchDatabases(postgres)).toEqual([]);
    // Only the drills' own names go: a blob of another name stays.
    expect(await blobNames(azurite, "drills")).toEqual(["kept-by-someone-else.dump"]);
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
    const ended = await drillEnded(api, started.body.statusUrl);
    const mail = await mailMatching(
      smtp,
      (m) => m.subject.includes("Restore drill failed"),
      30_000,
    );
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
    expect(await scratchDatabases(postgres)).toEqual([]);
    expect(await blobNames(azurite, "drills")).toEqual([]);
    const instance = await api("GET", `backup-instances/${instanceName}`);
    expect(instance.body.lastDrill).toMatchObject({ id: started.body.id, verdict: "Failed" });
  }, 180_000);
});

describe.each([
  { answers: "full", autoGrant: false },
  { answers: "required-only", autoGrant: true },
] as const)(
  "a restore drill of a whole Flexible Server of three databases in Azure (answers $answers, AUTO_GRANT_ROLE_ASSIGNMENTS $autoGrant)",
  ({ answers, autoGrant }) => {
    const postgres = usePostgresCluster();
    const databases = ["hr", "ledger", "sales"];
    let fake: FakeArm;
    let identity: FakeManagedIdentity;
    let keyVault: FakeKeyVault;
    let azurite: AzuriteBlob;
    let app: AzureApp;
    let host: RunningHost;
    let instanceName: string;
    let containerId: string;
    const api = functionsApi(() => host);

    const containerRoles = () =>
      fake
        .roleAssignments()
        .filter(
          (a) =>
            a.scope.toLowerCase() === containerId.toLowerCase() &&
            a.principalId === FAKE_VAULT_PRINCIPAL_ID &&
            a.roleDefinitionId.endsWith(`/${STORAGE_BLOB_DATA_CONTRIBUTOR}`),
        );

    beforeAll(async () => {
      const fakes = await startFakeAzure({ answers });
      ({ fake, identity } = fakes);
      keyVault = await FakeKeyVault.start(APP_TOKEN);
      azurite = await startAzuriteBlob();

      // The source: a Flexible Server of three databases, each of its own size.
      for (const [index, name] of databases.entries()) {
        await postgres.query("postgres", `CREATE DATABASE ${name}`);
        await postgres.query(
          name,
          `CREATE TABLE entry (id int PRIMARY KEY, note text NOT NULL);
           INSERT INTO entry SELECT g, '${name} ' || g FROM generate_series(1, ${10 * (index + 1)}) g;`,
        );
      }
      const server = await addBackedUpServer(fake, fakes.azure.backup, {
        serverName: "pg-company",
        instanceName: "pg-company-pg-company-5d1e0c3a-8f7b-4c2d-9e6a-1b2c3d4e5f60",
        source: restoreSourceIn(postgres, databases),
      });
      instanceName = server.instanceName;
      const storageAccountId = await addRestoreStorage(fake, azurite, "rg-drills", ["drills"]);
      // No role of the vault's identity on the drill container yet: the first drill finds out.
      containerId = containerIdIn(storageAccountId, "drills");
      const scratchSecretUri = keyVault.setSecret(
        "drill-scratch-server",
        postgres.cluster.connectionUrl("postgres"),
      );

      app = await startAzureApp({
        name: `e2e-azure-server-drills-${answers}`,
        fake,
        identity,
        vaultIds: server.vaultId,
        trust: [keyVault.ca],
        settings: {
          AZURE_KEY_VAULT_DNS_SUFFIXES: "127.0.0.1",
          AUTO_GRANT_ROLE_ASSIGNMENTS: String(autoGrant),
          RESTORE_STORAGE_CONNECTION_STRING: azurite.connectionString,
          POSTGRES_BIN_DIR: postgres.cluster.binDir,
          DRILL_CONTAINER_URL: `${azurite.endpoint}/drills`,
          DRILL_STORAGE_ACCOUNT_ID: containerId,
          DRILL_SERVER_SECRET_URI: scratchSecretUri,
        },
      });
      host = app.host;
    }, 180_000);

    afterEach(() => expectSettledWithinContract(fake));

    afterAll(() => stopAll(app, azurite, keyVault, identity, fake));

    it(
      autoGrant
        ? "grants the vault's identity Storage Blob Data Contributor on the drill container before the restore starts"
        : "fails the drill before any restore starts when the vault's identity lacks Storage Blob Data Contributor on the drill container, naming the command that grants it",
      async () => {
        // Act
        const started = await api("POST", `backup-instances/${instanceName}/drills`);
        const ended = await drillEnded(api, started.body.statusUrl);

        // Assert
        expect(started.status).toBe(202);
        if (autoGrant) {
          expect(ended.body).toMatchObject({ verdict: "Succeeded", scratchRemoved: true });
          expect(containerRoles()).toHaveLength(1);
          expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(1);
        } else {
          expect(ended.body).toMatchObject({
            verdict: "Failed",
            error: { code: "MISSING_REQUIRED_PERMISSIONS" },
            restoreJobId: null,
            scratchRemoved: true,
          });
          const action = String((ended.body.error as Body).recommendedAction);
          expect(action).toContain(
            `az role assignment create --assignee-object-id ${FAKE_VAULT_PRINCIPAL_ID}`,
          );
          expect(action).toContain(`--role "Storage Blob Data Contributor" --scope ${containerId}`);
          expect(fake.requestsOf("BackupInstances_TriggerRestore")).toEqual([]);
          expect(containerRoles()).toEqual([]);
          // Granted by hand, as the message says, for the drills that follow.
          fake.assignRole(containerId, STORAGE_BLOB_DATA_CONTRIBUTOR, FAKE_VAULT_PRINCIPAL_ID);
        }
      },
      180_000,
    );

    it("loads every database the restore wrote into its own scratch database, verifies each, reports each, and removes them all", async () => {
      // Act
      const started = await api("POST", `backup-instances/${instanceName}/drills`);
      const ended = await drillEnded(api, started.body.statusUrl);

      // Assert
      const scratchTarget = String(started.body.scratchTarget);
      expect(ended.body).toMatchObject({
        verdict: "Succeeded",
        error: null,
        scratchRemoved: true,
        verification: { verified: true, tables: 3, rows: 60, mismatches: [] },
      });
      expect(ended.body.timeToRestoreSeconds).toEqual(expect.any(Number));
      const results = ended.body.databases as Body[];
      expect(results.map((d) => d.databaseName)).toEqual(databases);
      databases.forEach((name, index) => {
        expect(results[index]).toMatchObject({
          databaseName: name,
          verdict: "Succeeded",
          error: null,
          verification: { verified: true, tables: 1, rows: 10 * (index + 1) },
          seconds: expect.any(Number),
        });
        expect(String(results[index]?.scratchTarget)).toMatch(
          new RegExp(`^${scratchTarget}_[0-9a-f]{10}$`),
        );
      });
      expect(new Set(results.map((d) => d.scratchTarget)).size).toBe(3);
      expect(await scratchDatabases(postgres)).toEqual([]);
      expect(await blobNames(azurite, "drills")).toEqual([]);
    }, 180_000);

    it("starts one restore and drills every database when the service's answer to the restore request is lost", async () => {
      // Arrange
      const sentBefore = fake.requestsOf("BackupInstances_TriggerRestore").length;
      fake.loseAnswers("BackupInstances_TriggerRestore", "500");

      // Act
      const started = await api("POST", `backup-instances/${instanceName}/drills`);
      const ended = await drillEnded(api, started.body.statusUrl);

      // Assert
      expect(ended.body).toMatchObject({ verdict: "Succeeded", scratchRemoved: true });
      expect((ended.body.databases as Body[]).map((d) => d.verdict)).toEqual([
        "Succeeded",
        "Succeeded",
        "Succeeded",
      ]);
      expect(fake.requestsOf("BackupInstances_TriggerRestore")).toHaveLength(sentBefore + 1);
      expect(await scratchDatabases(postgres)).toEqual([]);
      expect(await blobNames(azurite, "drills")).toEqual([]);
    }, 180_000);

    it("fails the drill naming a database an earlier drill restored when the recovery point has no dump of it, and reports it once", async () => {
      // Arrange: the earlier drills restored all three; this restore writes no dump of "ledger".
      fake.restores.leaveOutDump("ledger");

      try {
        // Act
        const started = await api("POST", `backup-instances/${instanceName}/drills`);
        const ended = await drillEnded(api, started.body.statusUrl);
        const again = await drillEnded(
          api,
          (await api("POST", `backup-instances/${instanceName}/drills`)).body.statusUrl,
        );

        // Assert
        expect(ended.body).toMatchObject({
          verdict: "Failed",
          error: { code: "DRILL_DATABASE_MISSING" },
          scratchRemoved: true,
        });
        expect(String((ended.body.error as Body).message)).toMatch(
          /^1 of 3 databases failed: 'ledger' was in the drill of \d{4}-\d{2}-\d{2}T[\d:]+Z and is not in this recovery point/,
        );
        const results = ended.body.databases as Body[];
        expect(results.map((d) => [d.databaseName, d.verdict])).toEqual([
          ["hr", "Succeeded"],
          ["sales", "Succeeded"],
          ["ledger", "Failed"],
        ]);
        expect(await scratchDatabases(postgres)).toEqual([]);
        // Reported once: the next drill holds its databases against this one's.
        expect(again.body).toMatchObject({ verdict: "Succeeded", error: null });
        expect((again.body.databases as Body[]).map((d) => d.databaseName)).toEqual([
          "hr",
          "sales",
        ]);
      } finally {
        fake.restores.writeEveryDump();
      }
    }, 240_000);

    it("fails the drill when one database cannot be loaded, keeps the others' verified results, and removes every scratch database", async () => {
      // Arrange: the scratch server's user may create databases but is no superuser, and "hr"
      // now holds an event trigger, which only a superuser may create.
      await postgres.query(
        "hr",
        `CREATE FUNCTION audit_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
         CREATE EVENT TRIGGER audit_ddl ON ddl_command_end EXECUTE FUNCTION audit_ddl();`,
      );
      await postgres.query("postgres", "CREATE ROLE drill_loader LOGIN PASSWORD 'loader' CREATEDB");
      const loader = new URL(postgres.cluster.connectionUrl("postgres"));
      loader.username = "drill_loader";
      loader.password = "loader";
      keyVault.setSecret("drill-scratch-server", loader.toString());

      // Act
      const started = await api("POST", `backup-instances/${instanceName}/drills`);
      const ended = await drillEnded(api, started.body.statusUrl);

      // Assert
      expect(ended.body).toMatchObject({
        verdict: "Failed",
        error: { code: "MISSING_DB_PERMISSIONS" },
        scratchRemoved: true,
      });
      expect(String((ended.body.error as Body).message)).toContain("1 of 3 databases failed: hr");
      const results = ended.body.databases as Body[];
      expect(results.map((d) => [d.databaseName, d.verdict])).toEqual([
        ["hr", "Failed"],
        ["ledger", "Succeeded"],
        ["sales", "Succeeded"],
      ]);
      expect(results[0]).toMatchObject({ error: { code: "MISSING_DB_PERMISSIONS" } });
      expect(results[2]).toMatchObject({ verification: { verified: true, rows: 30 } });
      expect(await scratchDatabases(postgres)).toEqual([]);
      expect(await blobNames(azurite, "drills")).toEqual([]);
    }, 180_000);
  },
);
