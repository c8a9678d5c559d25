/**
 * The role a Backup vault's identity needs where a restore as files writes: Storage Blob Data
 * Contributor on the target storage account (or its container), the service's documented rule for
 * restoring Azure Database for PostgreSQL as files. It is checked before the restore is sent, so
 * that a missing role is named with the command that grants it rather than failing the job later.
 */
import { isIP } from "node:net";
import { AppError } from "../../domain/errors.js";
import type { RestoreAccessPort, RestoreAccessReport, StorageAccountLookup } from "../ports.js";
import type { BackupVaultSummary } from "./backupVaults.js";
import { containerNameOf } from "./containerUrl.js";
import { kustoString, type ResourceGraphClient } from "./resourceGraph.js";
import { backupRoles, type RoleRequirement, type VaultAccessChecker } from "./vaultAccess.js";

/** The built-in role, by name and definition GUID. */
export const storageBlobDataContributor = backupRoles.storageBlobDataContributor;

/** The roles the vault's identity needs to write a restore's files under `storageScope`. */
export function requiredRestoreRoles(storageScope: string): RoleRequirement[] {
  return [
    {
      roleName: storageBlobDataContributor.name,
      roleDefinitionGuid: storageBlobDataContributor.id,
      scope: storageScope,
    },
  ];
}

/**
 * The storage account's ARM id of a scope that may name its container
 * (`.../storageAccounts/{account}/blobServices/default/containers/{container}`).
 */
export function storageAccountOf(storageScope: string): string {
  const match = /^(.*\/providers\/Microsoft\.Storage\/storageAccounts\/[^/]+)/i.exec(storageScope);
  return match?.[1] ?? storageScope;
}

/** The container's ARM id the service's `targetResourceArmId` takes, from the account and the container URL. */
export function containerResourceId(storageScope: string, containerUrl: string): string {
  if (/\/containers\/[^/]+$/i.test(storageScope)) return storageScope;
  return `${storageAccountOf(storageScope)}/blobServices/default/containers/${containerNameOf(containerUrl)}`;
}

/**
 * The storage account's name in a blob container URL: the first host label of
 * `<account>.blob.<storage suffix>`, or, for an IP address or `localhost` (the emulator's
 * path-style URLs, read the way the Azure Storage SDKs read them), the first path segment.
 * `undefined` for a URL that names no account.
 *
 * @param storageSuffixes - the clouds' storage suffixes (`core.windows.net`).
 */
export function storageAccountNameOf(
  containerUrl: string,
  storageSuffixes: readonly string[],
): string | undefined {
  if (!URL.canParse(containerUrl)) return undefined;
  const url = new URL(containerUrl);
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0 || host === "localhost") {
    const first = url.pathname.split("/").find(Boolean);
    return first ? decodeURIComponent(first).toLowerCase() : undefined;
  }
  for (const suffix of storageSuffixes) {
    const tail = `.blob.${suffix.toLowerCase().replace(/^\./, "")}`;
    if (!host.endsWith(tail)) continue;
    const account = host.slice(0, -tail.length);
    if (/^[a-z0-9]{3,24}$/.test(account)) return account;
  }
  return undefined;
}

/** Where {@link findStorageAccountOf} looks. */
export interface StorageAccountSearch {
  readonly graph: Pick<ResourceGraphClient, "query">;
  /** The app's subscriptions; the vault's is searched too. */
  readonly subscriptions: readonly string[];
  /** The clouds' storage suffixes a container URL may end in. */
  readonly storageSuffixes: readonly string[];
}

/**
 * The storage account of a container URL, found by name with Resource Graph in the vault's
 * subscription and the app's: one account is the answer; none or several are reported with
 * what was found, for the caller to ask for the id.
 */
export async function findStorageAccountOf(
  search: StorageAccountSearch,
  vaultId: string,
  containerUrl: string,
): Promise<StorageAccountLookup> {
  const accountName = storageAccountNameOf(containerUrl, search.storageSuffixes);
  if (accountName === undefined) return { found: false, candidates: [] };
  const vaultSubscription = /^\/subscriptions\/([^/]+)/i.exec(vaultId)?.[1];
  const subscriptions = [
    ...(vaultSubscription ? [vaultSubscription] : []),
    ...search.subscriptions,
  ].filter(
    (subscription, index, all) =>
      all.findIndex((other) => other.toLowerCase() === subscription.toLowerCase()) === index,
  );
  const rows = await search.graph.query<{ id?: unknown }>(
    subscriptions,
    `resources | where type =~ 'microsoft.storage/storageaccounts' and name =~ ${kustoString(accountName)} | project id | order by id asc`,
    "find the restore's storage account",
  );
  const candidates = [
    ...new Set(rows.map((row) => row.id).filter((id): id is string => typeof id === "string")),
  ];
  return candidates.length === 1
    ? {
        found: true,
        accountName,
        accountId: candidates[0]!,
        containerId: containerResourceId(candidates[0]!, containerUrl),
      }
    : { found: false, accountName, candidates };
}

/**
 * The restore access port over the vault's system-assigned identity, whose principal is read
 * from the vault.
 *
 * @param storageAccounts - where a container URL's storage account is looked up; without it, a
 * restore as files must name its storage account.
 */
export function createRestoreAccess(
  getVault: (vaultId: string) => Promise<BackupVaultSummary>,
  checker: Pick<VaultAccessChecker, "missingRoles" | "grantMissingRoles">,
  storageAccounts?: StorageAccountSearch,
): RestoreAccessPort {
  const principalOf = async (vaultId: string): Promise<string> => {
    const vault = await getVault(vaultId);
    if (vault.principalId) return vault.principalId;
    throw new AppError(
      "VAULT_IDENTITY_MISSING",
      `The Backup vault ${vault.name} has no managed identity, so it cannot be given a role on the restore's storage`,
      {
        httpStatus: 400,
        retryable: false,
        recommendedAction: `Enable the system-assigned managed identity of the Backup vault ${vault.name}, then retry`,
      },
    );
  };
  const report = async (
    vaultId: string,
    storageScope: string,
    act: VaultAccessChecker["missingRoles"],
  ): Promise<RestoreAccessReport> => {
    const principalId = await principalOf(vaultId);
    const roles = await act(principalId, requiredRestoreRoles(storageScope));
    return { principalId, roles: roles.map(({ roleName, scope }) => ({ roleName, scope })) };
  };
  return {
    missingRestoreRoles: (vaultId, storageScope) =>
      report(vaultId, storageScope, (principal, needed) => checker.missingRoles(principal, needed)),
    grantRestoreRoles: (vaultId, storageScope) =>
      report(vaultId, storageScope, (principal, needed) =>
        checker.grantMissingRoles(principal, needed),
      ),
    ...(storageAccounts
      ? {
          findStorageAccount: (vaultId: string, containerUrl: string) =>
            findStorageAccountOf(storageAccounts, vaultId, containerUrl),
        }
      : {}),
  };
}
