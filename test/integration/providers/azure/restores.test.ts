import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AzureServices } from "../../../../src/providers/azure/azureServices.js";
import { temporaryDatabaseName } from "../../../../src/providers/azure/restoreToServer.js";
import type { RestoreRequest } from "../../../../src/providers/ports.js";
import { rejection } from "../../../support/appError.js";
import {
  addBackedUpServer,
  addRestoreStorage,
  azuriteAccountId,
  containerIdIn,
  restoreSourceIn,
} from "../../../support/azureRestoreScenario.js";
import { startAzuriteBlob, type AzuriteBlob } from "../../../support/azuriteBlob.js";
import {
  azureServicesAgainst,
  FAKE_SUBSCRIPTION_ID,
  FAKE_VAULT_PRINCIPAL_ID,
  FakeArm,
  FakeKeyVault,
  type FakeArmOptions,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import { STORAGE_BLOB_DATA_CONTRIBUTOR } from "../../../support/fakeArm/restores.js";
import { poll } from "../../../support/poll.js";
import { usePostgresCluster } from "../../../support/postgres.js";

const accountId = azuriteAccountId("rg-restore");
const containerId = containerIdIn(accountId, "restores");

const postgres = usePostgresCluster();
let azurite: AzuriteBlob;

beforeAll(async () => {
  azurite = await startAzuriteBlob();
  await azurite.client().getContainerClient("restores").create();
  await postgres.query("postgres", "CREATE DATABASE shop");
  await postgres.query(
    "shop",
    "CREATE TABLE item (id int PRIMARY KEY, label text); INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, 40) g;",
  );
});

afterAll(async () => {
  await azurite?.stop();
});

/** A fake with one protected Flexible Server that has a recovery point, and the app's adapters. */
async function arrange(options: Partial<FakeArmOptions> = {}) {
  const fake = await FakeArm.start({
    subscriptionId: FAKE_SUBSCRIPTION_ID,
    retryAfterSeconds: 0,
    ...options,
  });
  const azure: AzureServices = azureServicesAgainst(fake);
  const { vaultId, instanceName } = await addBackedUpServer(fake, azure.backup, {
    serverName: "pg-shop",
    instanceName: "pg-shop-pg-shop-1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    source: restoreSourceIn(postgres, ["shop"]),
  });
  await addRestoreStorage(fake, azurite, "rg-restore");
  const [point] = await azure.backup.listRecoveryPoints(vaultId, instanceName);
  const asFiles = (filePrefix: string): RestoreRequest => ({
    recoveryPointId: point?.recoveryPointId ?? "",
    target: {
      kind: "files",
      url: `${azurite.endpoint}/restores`,
      filePrefix,
      storageScope: containerId,
    },
  });
  return { fake, azure, vaultId, instanceName, asFiles };
}

for (const mode of [
  { answers: "full", what: "answering in full" },
  { answers: "required-only", what: "answering only what the contract requires" },
] as const) {
  describe(`validateRestore and restores as files against the fake Resource Manager ${mode.what}`, () => {
    let context: Awaited<ReturnType<typeof arrange>>;
    useFakeArmContractCheck(() => context.fake);

    beforeAll(async () => {
      context = await arrange({ answers: mode.answers });
    });

    it("reports the vault identity's missing Storage Blob Data Contributor, grants it, and then finds nothing missing", async () => {
      const { azure, vaultId, fake } = context;

      const missing = await azure.restoreAccess.missingRestoreRoles(vaultId, containerId);
      const granted = await azure.restoreAccess.grantRestoreRoles(vaultId, containerId);
      const after = await azure.restoreAccess.missingRestoreRoles(vaultId, containerId);

      expect(missing).toEqual({
        principalId: FAKE_VAULT_PRINCIPAL_ID,
        roles: [{ roleName: "Storage Blob Data Contributor", scope: containerId }],
      });
      expect(granted.roles).toEqual(missing.roles);
      expect(after.roles).toEqual([]);
      expect(
        fake
          .roleAssignments()
          .filter((a) => a.roleDefinitionId.endsWith(`/${STORAGE_BLOB_DATA_CONTRIBUTOR}`)),
      ).toEqual([
        expect.objectContaining({ scope: containerId, principalId: FAKE_VAULT_PRINCIPAL_ID }),
      ]);
    });

    it("validates a restore the service would carry out, and answers a refusal with the service's code as a 400", async () => {
      const { azure, vaultId, instanceName, asFiles, fake } = context;
      await azure.backup.validateRestore(vaultId, instanceName, asFiles("validated"));
      fake.restores.refuse(instanceName, "UserErrorRestoreNotAllowed", "Restores are paused.");

      const refused = await rejection(
        azure.backup.validateRestore(vaultId, instanceName, asFiles("refused")),
      );
      fake.restores.allow(instanceName);

      expect(refused).toMatchObject({ httpStatus: 400, serviceCode: "UserErrorRestoreNotAllowed" });
      expect(fake.requestsOf("BackupInstances_TriggerRestore")).toEqual([]);
    });

    it("writes a real dump into the container once the restore job completes", async () => {
      const { azure, vaultId, instanceName, asFiles, fake } = context;
      const prefix = `${mode.answers}-files`;

      const { jobId } = await azure.backup.triggerRestore(vaultId, instanceName, asFiles(prefix));
      const job = await poll(
        () => azure.backup.getJob(vaultId, jobId),
        (j) => j.status !== "InProgress",
      );

      expect(job.status).toBe("Completed");
      expect(fake.restores.written.filter((w) => w.blobName.startsWith(prefix))).toEqual([
        expect.objectContaining({ blobName: `${prefix}_shop.dump` }),
      ]);
    });

    it("starts one restore job when the connection drops before the answer", async () => {
      const { azure, vaultId, instanceName, asFiles, fake } = context;
      const before = fake.jobsOf(instanceName).filter((j) => j.category === "Restore").length;
      fake.loseAnswers("BackupInstances_TriggerRestore", "drop");

      const { jobId } = await azure.backup.triggerRestore(
        vaultId,
        instanceName,
        asFiles(`${mode.answers}-dropped`),
      );

      const restores = fake.jobsOf(instanceName).filter((j) => j.category === "Restore");
      expect(restores).toHaveLength(before + 1);
      expect(restores.at(-1)?.id.toLowerCase()).toBe(jobId.toLowerCase());
    });
  });
}

describe("loading a restore's files into a server", () => {
  let context: Awaited<ReturnType<typeof arrange>>;
  let keyVault: FakeKeyVault;
  let secretUri: string;
  let azure: AzureServices;
  useFakeArmContractCheck(() => context.fake);

  beforeAll(async () => {
    context = await arrange();
    context.fake.assignRole(containerId, STORAGE_BLOB_DATA_CONTRIBUTOR, FAKE_VAULT_PRINCIPAL_ID);
    keyVault = await FakeKeyVault.start("fake-arm-token");
    secretUri = keyVault.setSecret("target", postgres.cluster.connectionUrl("postgres"));
    azure = azureServicesAgainst(context.fake, {
      settings: {
        AZURE_KEY_VAULT_DNS_SUFFIXES: ["127.0.0.1"],
        RESTORE_STORAGE_CONNECTION_STRING: azurite.connectionString,
        POSTGRES_BIN_DIR: postgres.cluster.binDir,
      },
      services: {
        tlsOptions: { ca: [context.fake.ca, keyVault.ca].join("\n") },
        polling: { retryAfterScale: 0.01, intervalInMs: 5 },
      },
    });
    const { jobId } = await context.azure.backup.triggerRestore(
      context.vaultId,
      context.instanceName,
      context.asFiles("load"),
    );
    await poll(
      () => context.azure.backup.getJob(context.vaultId, jobId),
      (j) => j.status !== "InProgress",
    );
  });

  afterAll(async () => {
    await keyVault?.stop();
  });

  it("drops what a crashed attempt left, loads and verifies, and answers a second run of the same load without loading again", async () => {
    // Arrange: a crashed earlier attempt of the same load left its temporary database.
    const temporary = temporaryDatabaseName("shop_copy", "load-1");
    await postgres.query("postgres", `CREATE DATABASE "${temporary}"`);
    const request = {
      loadId: "load-1",
      containerUrl: `${azurite.endpoint}/restores`,
      filePrefix: "load",
      secretUri,
      databaseName: "shop_copy",
    };

    // Act
    const loaded = await azure.restoreToServer.loadRestoredFiles(request);
    const again = await azure.restoreToServer.loadRestoredFiles(request);

    // Assert
    expect(loaded).toMatchObject({
      databaseName: "shop_copy",
      blobName: "load_shop.dump",
      verification: { verified: true, tables: 1, rows: 40 },
    });
    expect(again).toMatchObject({ databaseName: "shop_copy", verification: loaded.verification });
    expect(await postgres.query("shop_copy", "SELECT count(*)::int AS n FROM item")).toEqual([
      { n: 40 },
    ]);
    expect(
      await postgres.query("postgres", "SELECT datname FROM pg_database WHERE datname = $1", [
        temporary,
      ]),
    ).toEqual([]);
  });

  it("loads the dump of the database named when another database's name only starts with it", async () => {
    // Arrange: a restore's files for databases "shop" and "shop_archive".
    const container = azurite.client().getContainerClient("restores");
    const dump = await container.getBlobClient("load_shop.dump").downloadToBuffer();
    await container.getBlockBlobClient("pair_shop.dump").uploadData(dump);
    await container.getBlockBlobClient("pair_shop_archive.dump").uploadData(dump);

    // Act
    const loaded = await azure.restoreToServer.loadRestoredFiles({
      loadId: "load-3",
      containerUrl: `${azurite.endpoint}/restores`,
      filePrefix: "pair",
      sourceDatabaseName: "shop",
      secretUri,
      databaseName: "shop_pair",
    });

    // Assert
    expect(loaded).toMatchObject({
      blobName: "pair_shop.dump",
      verification: { verified: true, tables: 1, rows: 40 },
    });
  });

  it("answers files of another database than the restore wrote with RESTORED_FILES_NOT_FOUND, creating nothing", async () => {
    const failure = await rejection(
      azure.restoreToServer.loadRestoredFiles({
        loadId: "load-2",
        containerUrl: `${azurite.endpoint}/restores`,
        filePrefix: "load",
        sourceDatabaseName: "billing",
        secretUri,
        databaseName: "billing_copy",
      }),
    );

    expect(failure).toMatchObject({ code: "RESTORED_FILES_NOT_FOUND", httpStatus: 404 });
    expect(String(failure.recommendedAction)).toContain("shop");
    expect(
      await postgres.query(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'billing%'",
      ),
    ).toEqual([]);
  });
});

describe("finding a restore container's storage account with Resource Graph", () => {
  it("finds the one account the container URL names, and reports none or several by their ids", async () => {
    // Arrange: the account restores write into, and two of one name elsewhere.
    const fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      retryAfterSeconds: 0,
    });
    try {
      const azure = azureServicesAgainst(fake);
      const vaultId = fake.addVault("rg-backup", "vault-pg");
      const twin = (group: string) =>
        `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/pgtwins`;
      for (const id of [accountId, twin("rg-a"), twin("rg-b")])
        fake.restores.addStorageAccount({
          id,
          blobEndpoint: azurite.endpoint,
          connectionString: azurite.connectionString,
        });
      const find = (url: string) => azure.restoreAccess.findStorageAccount!(vaultId, url);

      // Act
      const emulator = await find(`${azurite.endpoint}/restores`);
      const cloud = await find("https://devstoreaccount1.blob.core.windows.net/restores");
      const several = await find("https://pgtwins.blob.core.windows.net/restores");
      const none = await find("https://nosuchaccount.blob.core.windows.net/restores");

      // Assert
      expect(emulator).toEqual({
        found: true,
        accountName: "devstoreaccount1",
        accountId,
        containerId,
      });
      expect(cloud).toEqual(emulator);
      expect(several).toEqual({
        found: false,
        accountName: "pgtwins",
        candidates: [twin("rg-a"), twin("rg-b")],
      });
      expect(none).toEqual({ found: false, accountName: "nosuchaccount", candidates: [] });
      expect(fake.violations).toEqual([]);
    } finally {
      await fake.stop();
    }
  });
});
