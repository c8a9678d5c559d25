/**
 * The roles a Backup vault's managed identity needs on what it protects, checked (and, where the
 * app is allowed to, granted) before validateForBackup, so that a missing role is explained by
 * name and scope instead of surfacing as the service's generic `UserErrorMissingRequiredPermissions`.
 *
 * @remarks Flexible Server: "PostgreSQL Flexible Server Long Term Retention Backup Role" on the
 * server and Reader on its resource group. Single Server database: Reader on the server and, when
 * its key vault uses Azure RBAC, Key Vault Secrets User on the key vault holding the connection
 * string (a key vault using access policies is checked by keyVaultAccess.ts instead: access
 * policies are not role assignments). Role assignments can take a few minutes to apply; callers
 * retry validateForBackup with back-off after granting.
 */
import { randomUUID } from "node:crypto";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { isRestError, type TlsSettings } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import { AppError } from "../../domain/errors.js";
import { formatServerId, parseDatabaseId, parseServerId } from "../../domain/protection/ids.js";
import { roleAssignmentCommand } from "../../domain/protection/roleAssignments.js";
import { ProviderErrorCodes } from "../ports.js";
import { armErrorFromThrown } from "./armErrors.js";
import {
  ArmRequestThrottle,
  armThrottlingPolicy,
  type ArmThrottlingPolicyOptions,
} from "./throttling.js";

/** Built-in role definitions the vault identity needs, by name. */
export const backupRoles = {
  reader: { name: "Reader", id: "acdd72a7-3385-48ef-bd42-f606fba81ae7" },
  keyVaultSecretsUser: {
    name: "Key Vault Secrets User",
    id: "4633458b-17de-408a-b874-0445c86b69e6",
  },
  flexibleServerLtrBackup: {
    name: "PostgreSQL Flexible Server Long Term Retention Backup Role",
    id: "c088a766-074b-43ba-90d4-1fb21feae531",
  },
  /** Where a restore as files writes (restoreAccess.ts). */
  storageBlobDataContributor: {
    name: "Storage Blob Data Contributor",
    id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  },
} as const;

/**
 * The roles the deployment lets the app's identity assign with `AUTO_GRANT_ROLE_ASSIGNMENTS`: its
 * right to write role assignments carries a condition (`autoGrantCondition` in
 * infra/app/rbac.bicep, whose role ids test/unit/infra checks against this list), which Resource
 * Manager enforces by refusing any other assignment with 403 `AuthorizationFailed`.
 */
export const autoGrantAllowance = {
  /** Roles on servers, to any service principal. */
  toServicePrincipals: [backupRoles.flexibleServerLtrBackup, backupRoles.reader],
  /**
   * The restore role, only to the Backup vault identities the deployment names: the vault it
   * creates and `existingBackupVaultPrincipalIds`.
   */
  toNamedVaultIdentities: [backupRoles.storageBlobDataContributor],
} as const;

/** The allowance, as a user reads it in a refusal. */
function allowanceText(): string {
  const names = (roles: readonly { name: string }[]) =>
    roles.map((role) => `'${role.name}'`).join(" and ");
  return `${names(autoGrantAllowance.toServicePrincipals)} to service principals, and ${names(autoGrantAllowance.toNamedVaultIdentities)} only to the Backup vault identities the deployment names (the vault it creates and existingBackupVaultPrincipalIds)`;
}

/** What Resource Manager said when it refused a role assignment the app wrote. */
interface RefusedWrite {
  readonly serviceCode: string;
  readonly message: string;
}

/**
 * Resource Manager's refusal of the app's own role assignment write: a 403 (`AuthorizationFailed`,
 * "does not have authorization or an ABAC condition not fulfilled"), which the app's identity
 * cannot overcome by trying again.
 */
function refusedWriteOf(thrown: unknown): RefusedWrite | undefined {
  if (!isRestError(thrown) || thrown.statusCode !== 403) return undefined;
  return { serviceCode: thrown.code ?? "AuthorizationFailed", message: thrown.message };
}

/**
 * The 403 for a grant Resource Manager refused: the role, the scope and the principal, what the
 * deployment lets pgprotect grant, and the command that grants it by hand.
 */
function grantRefusedError(
  principalId: string,
  refused: RoleRequirement,
  granted: readonly RoleRequirement[],
  service: RefusedWrite,
): AppError {
  const namedVaultsOnly = autoGrantAllowance.toNamedVaultIdentities.some(
    (role) => role.id === refused.roleDefinitionGuid,
  );
  const meanwhile =
    granted.length === 0
      ? ""
      : ` Meanwhile granted: ${granted.map((role) => `'${role.roleName}' on ${role.scope}`).join("; ")}.`;
  return new AppError(
    ProviderErrorCodes.missingRequiredPermissions,
    `The Backup vault's identity ${principalId} lacks '${refused.roleName}' on ${refused.scope}, and pgprotect's identity may not grant it: Resource Manager refused the role assignment (${service.serviceCode}: ${service.message}). The deployment's condition lets pgprotect's identity assign ${allowanceText()}.${meanwhile}`,
    {
      httpStatus: 403,
      retryable: false,
      serviceCode: service.serviceCode,
      recommendedAction: `Run: ${roleAssignmentCommand(principalId, refused.roleName, refused.scope)} as someone who may assign roles there${namedVaultsOnly ? `, or add the vault's principal id ${principalId} to the deployment's existingBackupVaultPrincipalIds (PGPROTECT_EXISTING_BACKUP_VAULT_PRINCIPAL_IDS) and run azd provision, so that pgprotect may grant it` : ""}; role assignments can take a few minutes to apply`,
    },
  );
}

/** One role the vault identity must hold at a scope. */
export interface RoleRequirement {
  readonly roleName: string;
  /** The role definition's GUID. */
  readonly roleDefinitionGuid: string;
  /** ARM id of the scope (a resource or resource group). */
  readonly scope: string;
}

/**
 * The roles a vault identity needs to back up a datasource.
 *
 * @param keyVaultId - ARM id of the key vault holding a Single Server database's secret, when known.
 */
export function requiredVaultRoles(datasourceId: string, keyVaultId?: string): RoleRequirement[] {
  const require = (role: { name: string; id: string }, scope: string): RoleRequirement => ({
    roleName: role.name,
    roleDefinitionGuid: role.id,
    scope,
  });
  if (datasourceId.split("/").length > 9) {
    const serverId = formatServerId(parseDatabaseId(datasourceId));
    return [
      require(backupRoles.reader, serverId),
      ...(keyVaultId ? [require(backupRoles.keyVaultSecretsUser, keyVaultId)] : []),
    ];
  }
  const server = parseServerId(datasourceId);
  const resourceGroupId = `/subscriptions/${server.subscriptionId}/resourceGroups/${server.resourceGroup}`;
  return [
    require(backupRoles.flexibleServerLtrBackup, formatServerId(server)),
    require(backupRoles.reader, resourceGroupId),
  ];
}

/** Whether an assignment at `assignedScope` applies at `scope` (the same scope or an ancestor). */
export function scopeCovers(assignedScope: string, scope: string): boolean {
  const a = assignedScope.replace(/\/+$/, "").toLowerCase();
  const s = scope.replace(/\/+$/, "").toLowerCase();
  return a === "" || a === "/" || s === a || s.startsWith(`${a}/`);
}

/** The SDK puts the scope after a slash of its own: `subscriptions/...`, not `/subscriptions/...`. */
function relativeScope(scope: string): string {
  return scope.replace(/^\/+/, "");
}

/**
 * The scopes to list role assignments at so that every requirement is seen: one per scope that is
 * not an ancestor of another requirement's scope, since Resource Manager answers a listing with the
 * assignments at the scope and above it.
 */
export function scopesToList(requirements: readonly RoleRequirement[]): string[] {
  const scopes: string[] = [];
  for (const { scope } of requirements) {
    if (!scopes.some((listed) => scopeCovers(scope, listed) && scopeCovers(listed, scope))) {
      scopes.push(scope);
    }
  }
  return scopes.filter(
    (scope) => !scopes.some((other) => scopeCovers(scope, other) && !scopeCovers(other, scope)),
  );
}

/** The subscription a scope lies in, if it names one. */
function subscriptionOf(scope: string): string | undefined {
  return /^\/?subscriptions\/([^/]+)/i.exec(scope)?.[1];
}

/** Options of {@link createVaultAccessChecker}. */
export interface VaultAccessCheckerOptions {
  readonly credential: TokenCredential;
  readonly subscriptionId: string;
  /** Resource Manager endpoint; the public cloud by default. */
  readonly endpoint?: string;
  /** Token audience; the endpoint by default. */
  readonly tokenAudience?: string;
  readonly tlsOptions?: TlsSettings;
  /** The Resource Manager buckets to share with the other clients; new ones by default. */
  readonly throttle?: ArmRequestThrottle;
  /** How throttled requests wait and retry. */
  readonly throttling?: ArmThrottlingPolicyOptions;
}

/** Checks and grants the vault identity's roles. */
export class VaultAccessChecker {
  constructor(
    private readonly client: AuthorizationManagementClient,
    private readonly subscriptionId: string,
  ) {}

  /**
   * The requirements the principal does not meet, in the order given.
   *
   * @remarks Reads the assignments once per {@link scopesToList} scope, not once per requirement:
   * a fan-out's role reads count against Resource Manager's read bucket, and a Flexible Server's
   * two requirements (the server, its resource group) need a single read.
   */
  async missingRoles(
    principalId: string,
    requirements: readonly RoleRequirement[],
  ): Promise<RoleRequirement[]> {
    const held: { roleDefinitionId?: string; scope?: string }[] = [];
    for (const scope of scopesToList(requirements)) {
      try {
        for await (const assignment of this.client.roleAssignments.listForScope(
          relativeScope(scope),
          {
            filter: `assignedTo('${principalId}')`,
          },
        )) {
          held.push(assignment);
        }
      } catch (thrown) {
        throw armErrorFromThrown(thrown, `Reading role assignments at ${scope}`);
      }
    }
    return requirements.filter(
      (requirement) =>
        !held.some(
          (a) =>
            (a.roleDefinitionId ?? "")
              .toLowerCase()
              .endsWith(`/${requirement.roleDefinitionGuid}`) &&
            scopeCovers(a.scope ?? "", requirement.scope),
        ),
    );
  }

  /**
   * Fails when a role is missing, naming each role and scope.
   *
   * @throws AppError `MISSING_REQUIRED_PERMISSIONS` (403).
   */
  async assertRoles(principalId: string, requirements: readonly RoleRequirement[]): Promise<void> {
    const missing = await this.missingRoles(principalId, requirements);
    if (missing.length === 0) return;
    const list = missing.map((m) => `'${m.roleName}' on ${m.scope}`).join("; ");
    throw new AppError(
      ProviderErrorCodes.missingRequiredPermissions,
      `The Backup vault's identity ${principalId} lacks ${list}`,
      {
        httpStatus: 403,
        retryable: false,
        recommendedAction: `Assign ${list} to the Backup vault's managed identity (principal ${principalId}), or let pgprotect grant them; assignments can take a few minutes to apply`,
      },
    );
  }

  /**
   * Grants the missing roles; returns what was granted.
   *
   * @throws AppError `MISSING_REQUIRED_PERMISSIONS` (403) when Resource Manager refuses an
   * assignment (the deployment's condition does not allow it), naming the role, the scope, the
   * principal and the command that grants it; the roles after it are not tried.
   */
  async grantMissingRoles(
    principalId: string,
    requirements: readonly RoleRequirement[],
  ): Promise<RoleRequirement[]> {
    const missing = await this.missingRoles(principalId, requirements);
    const granted: RoleRequirement[] = [];
    for (const requirement of missing) {
      try {
        await this.client.roleAssignments.create(relativeScope(requirement.scope), randomUUID(), {
          // A built-in role is named through the subscription of the scope it is assigned at.
          roleDefinitionId: `/subscriptions/${subscriptionOf(requirement.scope) ?? this.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${requirement.roleDefinitionGuid}`,
          principalId,
          principalType: "ServicePrincipal",
        });
      } catch (thrown) {
        const refused = refusedWriteOf(thrown);
        if (refused) throw grantRefusedError(principalId, requirement, granted, refused);
        // Assigned meanwhile under another name (a concurrent protection of the same server):
        // the role is held, which is all the grant was for.
        if (
          isRestError(thrown) &&
          thrown.statusCode === 409 &&
          thrown.code === "RoleAssignmentExists"
        ) {
          continue;
        }
        throw armErrorFromThrown(
          thrown,
          `Granting '${requirement.roleName}' on ${requirement.scope}`,
        );
      }
      granted.push(requirement);
    }
    return granted;
  }
}

/** Creates the access checker over Resource Manager's authorization API. */
export function createVaultAccessChecker(options: VaultAccessCheckerOptions): VaultAccessChecker {
  const endpoint = (options.endpoint ?? "https://management.azure.com").replace(/\/+$/, "");
  const audience = (options.tokenAudience ?? endpoint).replace(/\/+$/, "");
  const client = new AuthorizationManagementClient(options.credential, options.subscriptionId, {
    endpoint,
    $host: endpoint,
    credentialScopes: [`${audience}/.default`],
    ...(options.tlsOptions ? { tlsOptions: options.tlsOptions } : {}),
    // Role reads and writes count against the same subscription buckets as the backup calls.
    additionalPolicies: [
      {
        policy: armThrottlingPolicy(
          options.throttle ?? new ArmRequestThrottle(),
          options.throttling,
        ),
        position: "perRetry",
      },
    ],
  });
  return new VaultAccessChecker(client, options.subscriptionId);
}
