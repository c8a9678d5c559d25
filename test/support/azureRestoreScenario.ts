/**
 * The set-up the Azure restore tests share, against the fake Resource Manager: the fakes an app in
 * Azure reaches, a Flexible Server protected in a vault with one recovery point, and Azurite's
 * account as the storage a restore writes into, as Resource Manager knows it.
 */
import { expect } from "vitest";
import type { AzureServices } from "../../src/providers/azure/azureServices.js";
import { backupInstanceSpecFor } from "../../src/providers/azure/backupInstanceBuilder.js";
import { ARM_AUDIENCE } from "./azureApp.js";
import type { AzuriteBlob } from "./azuriteBlob.js";
import {
  assignVaultRoles,
  azureServicesAgainst,
  createDefaultPolicy,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
  type FakeArmOptions,
} from "./fakeArm/index.js";
import { FakeManagedIdentity } from "./fakeArm/fakeManagedIdentity.js";
import type { FakeRestoreSource } from "./fakeArm/restores.js";
import type { ApiResponse } from "./functionsApi.js";
import { poll } from "./poll.js";
import type { PostgresFixture } from "./postgres.js";

/** The token the fake managed identity hands the app, and the only one the fake Resource Manager accepts. */
export const APP_TOKEN = "token-from-managed-identity";

/** The fakes an app in Azure reaches, and the app's adapters over them for the test's own set-up. */
export interface FakeAzure {
  readonly fake: FakeArm;
  readonly identity: FakeManagedIdentity;
  readonly azure: AzureServices;
}

/**
 * Starts the fake Resource Manager (no waits between polls) and the managed identity whose token it
 * accepts; the caller stops both.
 */
export async function startFakeAzure(
  options: Pick<FakeArmOptions, "answers"> = {},
): Promise<FakeAzure> {
  const fake = await FakeArm.start({
    subscriptionId: FAKE_SUBSCRIPTION_ID,
    token: APP_TOKEN,
    retryAfterSeconds: 0,
    ...options,
  });
  const identity = await FakeManagedIdentity.start(APP_TOKEN);
  const azure = azureServicesAgainst(fake, {
    credential: fakeArmCredential(APP_TOKEN),
    settings: { AZURE_TOKEN_AUDIENCE: ARM_AUDIENCE },
  });
  return { fake, identity, azure };
}

/** Databases of the test's real PostgreSQL as what a restore of the fake's server dumps. */
export function restoreSourceIn(
  postgres: PostgresFixture,
  databases: readonly string[],
): FakeRestoreSource {
  return {
    databases: Object.fromEntries(
      databases.map((name) => [name, postgres.cluster.connectionUrl(name)]),
    ),
    binDir: postgres.cluster.binDir,
  };
}

/** The Flexible Server {@link addBackedUpServer} protected, and where. */
export interface BackedUpServer {
  readonly vaultId: string;
  readonly serverId: string;
  readonly instanceName: string;
}

/** What {@link addBackedUpServer} adds. */
export interface BackedUpServerSpec {
  /** The Flexible Server's name, in resource group `rg-db`. */
  readonly serverName: string;
  readonly instanceName: string;
  /** The databases the fake dumps when it restores; left out where no restore gets that far. */
  readonly source?: FakeRestoreSource;
}

/**
 * Adds a Flexible Server to the fake and protects it in vault `vault-pg` (group `rg-backup`) with
 * the default policy, the vault's identity holding its roles, as the app would have done; then
 * backs it up once and waits for the job, so that a restore has a recovery point to start from.
 */
export async function addBackedUpServer(
  fake: FakeArm,
  backup: AzureServices["backup"],
  spec: BackedUpServerSpec,
): Promise<BackedUpServer> {
  const vaultId = fake.addVault("rg-backup", "vault-pg");
  const serverId = fake.addPostgresServer({
    resourceGroup: "rg-db",
    name: spec.serverName,
    kind: "flexibleServers",
  });
  assignVaultRoles(fake, serverId);
  if (spec.source) fake.restores.setSource(serverId, spec.source);
  const policyId = await createDefaultPolicy(backup, vaultId);
  await backup.createBackupInstance(
    vaultId,
    spec.instanceName,
    backupInstanceSpecFor({ datasourceId: serverId, location: "westus", policyId }),
  );
  const { jobId } = await backup.triggerBackup(vaultId, spec.instanceName, {
    ruleName: "BackupWeekly",
  });
  await poll(
    () => backup.getJob(vaultId, jobId),
    (job) => job.status === "Completed",
  );
  return { vaultId, serverId, instanceName: spec.instanceName };
}

/** The ARM id of Azurite's account (`devstoreaccount1`) as if it stood in `resourceGroup`. */
export function azuriteAccountId(resourceGroup: string): string {
  return `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/${resourceGroup}/providers/Microsoft.Storage/storageAccounts/devstoreaccount1`;
}

/** The ARM id of a blob container of a storage account. */
export function containerIdIn(accountId: string, container: string): string {
  return `${accountId}/blobServices/default/containers/${container}`;
}

/**
 * Makes Azurite's account known to the fake's restores as a storage account of `resourceGroup`,
 * creates `containers` in it, and answers the account's ARM id. No role is assigned on it.
 */
export async function addRestoreStorage(
  fake: FakeArm,
  azurite: AzuriteBlob,
  resourceGroup: string,
  containers: readonly string[] = [],
): Promise<string> {
  const accountId = azuriteAccountId(resourceGroup);
  fake.restores.addStorageAccount({
    id: accountId,
    blobEndpoint: azurite.endpoint,
    connectionString: azurite.connectionString,
  });
  for (const name of containers) await azurite.client().getContainerClient(name).create();
  return accountId;
}

/** The names of the blobs in `container` of Azurite's account, those starting with `prefix` only when given. */
export async function blobNames(
  azurite: AzuriteBlob,
  container: string,
  prefix?: string,
): Promise<string[]> {
  const names: string[] = [];
  const blobs = azurite
    .client()
    .getContainerClient(container)
    .listBlobsFlat(prefix === undefined ? {} : { prefix });
  for await (const blob of blobs) names.push(blob.name);
  return names;
}

/** Reads the restore `restoreId` through the API until it is Completed or Failed. */
export function restoreEnded(
  api: (method: string, route: string) => Promise<ApiResponse>,
  restoreId: unknown,
): Promise<ApiResponse> {
  return poll(
    () => api("GET", `restores/${String(restoreId)}`),
    (r) => r.body.status === "Completed" || r.body.status === "Failed",
  );
}

/**
 * Waits until the fake's restores have written what they write, then checks that every request the
 * app sent and every answer the fake gave kept the OpenAPI contract: each restore test's `afterEach`.
 */
export async function expectSettledWithinContract(fake: FakeArm): Promise<void> {
  await fake.restores.settled();
  expect(fake.violations).toEqual([]);
}

/** Stops what a test file started, in the order given, passing over what never started. */
export async function stopAll(
  ...running: ReadonlyArray<{ stop(): Promise<void> } | undefined>
): Promise<void> {
  for (const service of running) await service?.stop();
}
