import { describe, expect, it } from "vitest";
import { startRestore } from "../../../src/application/restore.js";
import type { ApplicationDependencies } from "../../../src/application/dependencies.js";
import { formatVaultId } from "../../../src/domain/protection/ids.js";
import type { BackupInstance, RecoveryPoint } from "../../../src/domain/protection/types.js";
import type {
  MissingRole,
  Provider,
  RestoreAccessPort,
  RestoreRequest,
} from "../../../src/providers/ports.js";
import { rejection } from "../../support/appError.js";

const scope = { subscriptionId: "s", resourceGroup: "rg" };
const vaultId = formatVaultId({ ...scope, vaultName: "vault-pg" });
const instanceName = "pg-shop-pg-shop-1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const account =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stpg";
const containerUrl = "https://stpg.blob.core.windows.net/restores";

/** A provider with one Flexible Server instance and one recovery point, recording what it is asked. */
function providerWith(options: {
  held: boolean;
  access: boolean;
  loads: boolean;
  /** The storage accounts named like the container URL's, when accounts can be looked up. */
  accounts?: string[];
  /** The secrets that exist, by URI; a restore to a server's secret by default. */
  secrets?: Record<string, string>;
}) {
  const calls: string[] = [];
  const sent: RestoreRequest[] = [];
  const secrets = options.secrets ?? {
    "https://kv.vault.azure.net/secrets/target": "postgresql://restorer@pg-target:5432/postgres",
  };
  let held = options.held;
  const missing = (storageScope: string): MissingRole[] =>
    held ? [] : [{ roleName: "Storage Blob Data Contributor", scope: storageScope }];
  const restoreAccess: RestoreAccessPort = {
    missingRestoreRoles: async (_vault, storageScope) => {
      calls.push("missingRestoreRoles");
      return { principalId: "p-1", roles: missing(storageScope) };
    },
    grantRestoreRoles: async (_vault, storageScope) => {
      calls.push("grantRestoreRoles");
      const roles = missing(storageScope);
      held = true;
      return { principalId: "p-1", roles };
    },
    ...(options.accounts
      ? {
          findStorageAccount: async (_vault: string, url: string) => {
            calls.push(`findStorageAccount ${url}`);
            const candidates = options.accounts ?? [];
            return candidates.length === 1
              ? {
                  found: true as const,
                  accountName: "stpg",
                  accountId: candidates[0]!,
                  containerId: `${candidates[0]!}/blobServices/default/containers/restores`,
                }
              : { found: false as const, accountName: "stpg", candidates };
          },
        }
      : {}),
  };
  const instance = {
    name: instanceName,
    dataSourceInfo: {
      resourceId:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-shop",
      datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
    },
  } as unknown as BackupInstance;
  const point = {
    recoveryPointId: "rp1",
    recoveryPointTime: "2026-12-01T00:00:00Z",
  } as RecoveryPoint;
  const provider = {
    backup: {
      getBackupInstance: async () => instance,
      listRecoveryPoints: async () => [point],
      validateRestore: async () => {
        calls.push("validateRestore");
      },
      triggerRestore: async (_vault: string, _name: string, request: RestoreRequest) => {
        calls.push("triggerRestore");
        sent.push(request);
        return { jobId: `${vaultId}/backupJobs/j1` };
      },
    },
    secrets: {
      secretExists: async (uri: string) => {
        calls.push(`secretExists ${uri}`);
        return uri in secrets;
      },
      getSecret: async (uri: string) => secrets[uri] ?? "",
    },
    ...(options.access ? { restoreAccess } : {}),
    ...(options.loads ? { restoreToServer: { loadRestoredFiles: async () => ({}) } } : {}),
  } as unknown as Provider;
  const deps = {
    provider,
    vaults: { ids: [vaultId], resolve: () => vaultId },
  } as unknown as Pick<ApplicationDependencies, "provider" | "vaults">;
  return { deps, calls, sent };
}

describe("starting a restore as files or to a server", () => {
  it("grants the vault identity's missing role on the container when allowed, then validates and sends", async () => {
    const { deps, calls } = providerWith({ held: false, access: true, loads: true });

    const started = await startRestore(
      deps,
      {
        backupInstanceName: instanceName,
        targetContainerUrl: containerUrl,
        targetStorageAccountId: account,
      },
      { autoGrantRoleAssignments: true },
    );

    expect(calls).toEqual(["grantRestoreRoles", "validateRestore", "triggerRestore"]);
    expect(started.checks).toEqual([
      `granted the vault vault-pg's identity 'Storage Blob Data Contributor' on ${account}`,
      "the service validated the restore",
    ]);
  });

  it("refuses with a 403 naming the az command when the role is missing and may not be granted, sending nothing", async () => {
    const { deps, calls } = providerWith({ held: false, access: true, loads: true });

    const error = await rejection(
      startRestore(deps, {
        backupInstanceName: instanceName,
        targetContainerUrl: containerUrl,
        targetStorageAccountId: account,
      }),
    );

    expect(error).toMatchObject({ code: "MISSING_REQUIRED_PERMISSIONS", httpStatus: 403 });
    expect(error.recommendedAction).toContain(
      `az role assignment create --assignee-object-id p-1 --assignee-principal-type ServicePrincipal --role "Storage Blob Data Contributor" --scope ${account}`,
    );
    expect(calls).toEqual(["missingRestoreRoles"]);
  });

  it("asks for the storage account's id where roles are checked, before anything is sent", async () => {
    const { deps, calls } = providerWith({ held: true, access: true, loads: true });

    const error = await rejection(
      startRestore(deps, { backupInstanceName: instanceName, targetContainerUrl: containerUrl }),
    );

    expect(error).toMatchObject({ code: "RESTORE_STORAGE_ACCOUNT_REQUIRED", httpStatus: 400 });
    expect(calls).toEqual([]);
  });

  it("finds the storage account the container URL names and checks the role on the container", async () => {
    const { deps, calls, sent } = providerWith({
      held: true,
      access: true,
      loads: true,
      accounts: [account],
    });

    const started = await startRestore(deps, {
      backupInstanceName: instanceName,
      targetContainerUrl: containerUrl,
    });

    const container = `${account}/blobServices/default/containers/restores`;
    expect(calls).toEqual([
      `findStorageAccount ${containerUrl}`,
      "missingRestoreRoles",
      "validateRestore",
      "triggerRestore",
    ]);
    expect(started.checks[0]).toBe(`found the container's storage account by its name: ${account}`);
    expect(sent[0]?.target).toMatchObject({ kind: "files", storageScope: container });
  });

  it("asks for the storage account's id, naming every account of the URL's name, when several carry it", async () => {
    const twin = account.replace("resourceGroups/rg", "resourceGroups/rg-2");
    const { deps, calls } = providerWith({
      held: true,
      access: true,
      loads: true,
      accounts: [account, twin],
    });

    const error = await rejection(
      startRestore(deps, { backupInstanceName: instanceName, targetContainerUrl: containerUrl }),
    );

    expect(error).toMatchObject({ code: "RESTORE_STORAGE_ACCOUNT_REQUIRED", httpStatus: 400 });
    expect(error.message).toContain(`2 storage accounts are named 'stpg': ${account}, ${twin}`);
    expect(calls).toEqual([`findStorageAccount ${containerUrl}`]);
  });

  it("restores to a server as files under a prefix of its own, and hands the load its target", async () => {
    const { deps, sent } = providerWith({ held: true, access: true, loads: true });

    const started = await startRestore(deps, {
      backupInstanceName: instanceName,
      targetContainerUrl: containerUrl,
      targetStorageAccountId: account,
      targetDatabaseName: "shop_restored",
      secretUri: "https://kv.vault.azure.net/secrets/target",
    });

    const prefix = started.load?.filePrefix ?? "";
    expect(prefix).toMatch(new RegExp(`^${instanceName}-[0-9a-f]{8}$`));
    expect(sent[0]?.target).toEqual({
      kind: "files",
      url: containerUrl,
      filePrefix: prefix,
      storageScope: account,
    });
    expect(started.load).toEqual({
      containerUrl,
      filePrefix: prefix,
      secretUri: "https://kv.vault.azure.net/secrets/target",
      databaseName: "shop_restored",
    });
    expect(started.target).toEqual({
      kind: "server",
      url: containerUrl,
      filePrefix: prefix,
      databaseName: "shop_restored",
    });
  });

  it("refuses a restore to a server whose secret does not exist with a 404, before the restore is sent", async () => {
    const { deps, calls, sent } = providerWith({ held: true, access: true, loads: true });

    const error = await rejection(
      startRestore(deps, {
        backupInstanceName: instanceName,
        targetContainerUrl: containerUrl,
        targetStorageAccountId: account,
        targetDatabaseName: "shop_restored",
        secretUri: "https://kv.vault.azure.net/secrets/typo",
      }),
    );

    expect(error).toMatchObject({ code: "SECRET_NOT_FOUND", httpStatus: 404 });
    expect(error.message).toContain("https://kv.vault.azure.net/secrets/typo");
    expect(calls).toEqual(["secretExists https://kv.vault.azure.net/secrets/typo"]);
    expect(sent).toEqual([]);
  });

  it("refuses a restore to a server where the provider restores into databases itself", async () => {
    const { deps, calls } = providerWith({ held: true, access: false, loads: false });

    const error = await rejection(
      startRestore(deps, {
        backupInstanceName: instanceName,
        targetContainerUrl: containerUrl,
        targetDatabaseName: "shop_restored",
        secretUri: "https://kv.vault.azure.net/secrets/target",
      }),
    );

    expect(error).toMatchObject({ code: "RESTORE_TARGET_NOT_SUPPORTED", httpStatus: 400 });
    expect(calls).toEqual([]);
  });
});
