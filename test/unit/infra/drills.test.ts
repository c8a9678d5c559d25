/**
 * The Bicep of Azure restore drills agrees with the app, read without a Bicep compiler: one switch
 * (`enableDrills`, off by default) provisions the drill container with its lifecycle rule, grants
 * the Backup vault's identity and the app's identity their roles, and sets the drill settings the
 * app reads; with the switch off, none of it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configKeys, loadConfig } from "../../../src/config.js";
import { storageBlobDataContributor } from "../../../src/providers/azure/restoreAccess.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

/** The text of a top-level declaration (`module drills ...`), to the next one. */
function declaration(source: string, header: RegExp): string {
  const start = source.search(header);
  if (start < 0) throw new Error(`no ${String(header)}`);
  const rest = source.slice(start + 1);
  const next = rest.search(/^(resource|module|var|param|output|\/\/ ---|\/\/ [A-Z])/m);
  return next < 0 ? source.slice(start) : source.slice(start, start + 1 + next);
}

/** The keys of an object literal's text (`{ A: x\n B: y }`), one per line. */
function keysOf(objectText: string): string[] {
  return [...objectText.matchAll(/^\s*([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string);
}

/** `var name = <switch> ? { ... } : {}`: the switch and the keys set when it is on. */
function switchedSettings(source: string, name: string): { when: string; keys: string[] } {
  const text = declaration(source, new RegExp(`^var ${name} `, "m"));
  const match = /^var \w+ = (.+?) \? \{([\s\S]*?)\n\} : \{\}\s*$/.exec(text.trim());
  if (!match) throw new Error(`var ${name} is not '<switch> ? { ... } : {}'`);
  return { when: (match[1] as string).trim(), keys: keysOf(match[2] as string) };
}

/** The role definition id a `var` of rbac.bicep names, with the role's name in its comment. */
function roleVar(rbac: string, id: string): { name: string; comment: string } | undefined {
  const match = new RegExp(`^var (\\w+) = '${id}' // (.+)$`, "m").exec(rbac);
  return match ? { name: match[1] as string, comment: match[2] as string } : undefined;
}

describe("the Bicep of Azure restore drills", () => {
  const main = read("infra/main.bicep");
  const rbac = read("infra/app/rbac.bicep");
  const drills = read("infra/app/drills.bicep");

  it("is one switch, off by default, that provisions the drill storage only when on", () => {
    const module = declaration(main, /^module drills /m);

    expect(main).toMatch(/^param enableDrills bool = false$/m);
    expect(module).toMatch(/^module drills 'app\/drills\.bicep' = if \(enableDrills\) \{/);
    expect(declaration(main, /^module rbac /m)).toMatch(
      /^\s*drillStorageAccountName: enableDrills \? drills\.outputs\.storageAccountName : ''$/m,
    );
    expect(rbac).toMatch(/^var drillsOn = !empty\(drillStorageAccountName\)$/m);
  });

  it("sets every drill setting the app needs when the switch is on, and none when it is off", () => {
    const settings = switchedSettings(main, "drillAppSettings");
    const schedules = switchedSettings(main, "drillScheduleAppSettings");
    const api = declaration(main, /^module api /m);

    expect(settings.when).toBe("enableDrills");
    expect(settings.keys.sort()).toEqual([
      "DRILL_CONTAINER_URL",
      "DRILL_MAX_CONCURRENT",
      "DRILL_SERVER_SECRET_URI",
      "DRILL_STORAGE_ACCOUNT_ID",
    ]);
    expect(schedules).toEqual({
      when: "enableDrills && !empty(drillSchedules)",
      keys: ["DRILL_SCHEDULES"],
    });
    for (const key of [...settings.keys, ...schedules.keys]) expect(configKeys).toContain(key);
    expect(api).toMatch(/appSettings: union\([^)]*\bdrillAppSettings\b[^)]*\)/);
    expect(api).toMatch(/appSettings: union\([^)]*\bdrillScheduleAppSettings\b[^)]*\)/);
    // No drill setting anywhere else: off means the app answers 501 DRILL_NOT_SUPPORTED.
    const elsewhere = main
      .replace(declaration(main, /^var drillAppSettings /m), "")
      .replace(declaration(main, /^var drillScheduleAppSettings /m), "");
    expect(elsewhere).not.toMatch(/^\s*DRILL_\w+:/m);
  });

  it("wires the settings to the container, its account and the template's Key Vault, as the app accepts them", () => {
    const settings = declaration(main, /^var drillAppSettings /m);
    const rbacModule = declaration(main, /^module rbac /m);

    expect(settings).toMatch(/^\s*DRILL_CONTAINER_URL: drills\.outputs\.containerUrl$/m);
    expect(settings).toMatch(/^\s*DRILL_STORAGE_ACCOUNT_ID: drills\.outputs\.storageAccountId$/m);
    expect(settings).toContain(
      "DRILL_SERVER_SECRET_URI: '${keyVault.outputs.endpoint}secrets/${drillServerSecretName}'",
    );
    expect(settings).toMatch(/^\s*DRILL_MAX_CONCURRENT: string\(drillMaxConcurrent\)$/m);
    expect(drills).toContain(
      "output containerUrl string = '${account.properties.primaryEndpoints.blob}${container.name}'",
    );
    expect(drills).toMatch(/^output storageAccountId string = account\.id$/m);
    expect(rbacModule).toMatch(/^\s*keyVaultName: keyVault\.outputs\.name$/m);
    // The values as the deployment gives them (a vault URI ends with a slash; so does a blob endpoint).
    const config = loadConfig({
      PGPROTECT_PROVIDER: "local",
      DRILL_CONTAINER_URL: "https://stdrillabc.blob.core.windows.net/drills",
      DRILL_STORAGE_ACCOUNT_ID:
        "/subscriptions/s/resourceGroups/rg-x/providers/Microsoft.Storage/storageAccounts/stdrillabc",
      DRILL_SERVER_SECRET_URI: "https://kv-abc.vault.azure.net/secrets/drill-scratch-server",
      DRILL_MAX_CONCURRENT: "2",
    });
    expect(config.DRILL_MAX_CONCURRENT).toBe(2);
  });

  it("grants the Backup vault's identity Storage Blob Data Contributor on the drill account, as Azure Backup documents for restore as files", () => {
    const role = roleVar(rbac, storageBlobDataContributor.id);
    const assignment = declaration(rbac, /^resource vaultDrillStorageBlobContributor /m);

    // Azure Backup's restore as files: Storage Blob Data Contributor on the target storage account.
    expect(role?.comment).toBe("Storage Blob Data Contributor");
    expect(assignment).toMatch(/= if \(drillsOn && !empty\(backupVaultPrincipalId\)\) \{/);
    expect(assignment).toMatch(/^\s*scope: drillStorageAccount$/m);
    expect(assignment).toMatch(/^\s*principalId: backupVaultPrincipalId$/m);
    expect(assignment).toContain(
      `roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${role?.name})`,
    );
    expect(declaration(main, /^module rbac /m)).toMatch(
      /^\s*backupVaultPrincipalId: createBackupVault \? backupVault\.outputs\.principalId : ''$/m,
    );
    // The role the app checks before a drill, on the scope it checks (DRILL_STORAGE_ACCOUNT_ID).
    expect(role?.comment).toBe(storageBlobDataContributor.name);
    expect(declaration(main, /^var drillAppSettings /m)).toMatch(
      /^\s*DRILL_STORAGE_ACCOUNT_ID: drills\.outputs\.storageAccountId$/m,
    );
  });

  it("grants the app's identity what reading and deleting a drill's blobs needs, on the container only, and reading the scratch server's secret", () => {
    const role = roleVar(rbac, "ba92f5b4-2d11-453d-a403-e96b0029c9fe");
    const assignment = declaration(rbac, /^resource appDrillContainerBlobContributor /m);
    const container = declaration(rbac, /^resource drillContainer /m);
    const secretsUser = roleVar(rbac, "4633458b-17de-408a-b874-0445c86b69e6");
    const vaultSecrets = declaration(rbac, /^resource keyVaultSecretsUserRoleAssignment /m);

    expect(assignment).toMatch(/= if \(drillsOn\) \{/);
    expect(assignment).toMatch(/^\s*scope: drillContainer$/m);
    expect(assignment).toMatch(/^\s*principalId: managedIdentityPrincipalId$/m);
    expect(assignment).toContain(
      `roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${role?.name})`,
    );
    expect(container).toMatch(/'Microsoft\.Storage\/storageAccounts\/blobServices\/containers@/);
    expect(container).toMatch(/^\s*parent: drillBlobService$/m);
    // Key Vault Secrets User on the whole template vault, switch or not: the drill secret is in it.
    expect(secretsUser?.comment).toBe("Key Vault Secrets User");
    expect(vaultSecrets).toMatch(/^resource \w+ '[^']+' = \{/);
    expect(vaultSecrets).toMatch(/^\s*scope: keyVault$/m);
    expect(vaultSecrets).toMatch(/^\s*principalId: managedIdentityPrincipalId$/m);
    expect(vaultSecrets).toContain(
      `'Microsoft.Authorization/roleDefinitions', ${secretsUser?.name})`,
    );
  });

  it("deletes the drill container's old blobs by a lifecycle rule on that container, behind the app's own deletion", () => {
    const rule = declaration(drills, /^resource lifecycle /m);
    const module = declaration(main, /^module drills /m);

    expect(rule).toMatch(/'Microsoft\.Storage\/storageAccounts\/managementPolicies@[^']+'/);
    expect(rule).toMatch(/^\s*name: 'default'$/m);
    expect(rule).toContain("'${containerName}/'");
    expect(rule).toMatch(/daysAfterModificationGreaterThan: blobRetentionDays/);
    expect(drills).toMatch(/^param blobRetentionDays int = 3$/m);
    expect(module).toMatch(/^\s*blobRetentionDays: drillBlobRetentionDays$/m);
    expect(module).toMatch(/^\s*containerName: 'drills'$/m);
    expect(drills).toMatch(/^\s*allowBlobPublicAccess: false$/m);
    expect(drills).toMatch(/^\s*allowSharedKeyAccess: false/m);
  });
});
