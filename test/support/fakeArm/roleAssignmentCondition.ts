/**
 * The condition on the app's own right to write role assignments, as Resource Manager enforces it:
 * the deployment gives the app's identity a role-assignment role under an ABAC condition
 * (`autoGrantCondition` in infra/app/rbac.bicep), and Resource Manager refuses a write outside it
 * with 403 `AuthorizationFailed`. The fake decides from the request alone, as Azure does: the
 * role definition id's GUID, the principal id and the principal type of the assignment written,
 * never from what the app believes it may grant.
 */

/**
 * One `OR` clause of the condition: a write is allowed when its role is one of `roleDefinitionGuids`,
 * its principal type is `ServicePrincipal` and, when `principalIds` is given, its principal is one
 * of them.
 */
export interface RoleWriteClause {
  readonly roleDefinitionGuids: readonly string[];
  readonly principalIds?: readonly string[];
}

/** The app's identity as Resource Manager names it in a refusal. */
export interface CallerIdentity {
  readonly clientId: string;
  readonly objectId: string;
}

/** The properties of a role assignment PUT the condition reads. */
export interface RoleWriteRequest {
  readonly roleDefinitionId: string;
  readonly principalId: string;
  readonly principalType?: string | undefined;
}

/** Resource Manager's refusal of a request of the caller: its status and body. */
export interface AuthorizationRefusal {
  readonly status: 403;
  readonly body: { error: { code: string; message: string } };
}

/**
 * Resource Manager's `AuthorizationFailed` answer to `caller`'s `action` over `scope`, in its own
 * words; `abac` for a write a role's condition may be what refused.
 */
export function authorizationFailed(
  caller: CallerIdentity,
  action: string,
  scope: string,
  abac = false,
): AuthorizationRefusal {
  const lacks = abac ? "authorization or an ABAC condition not fulfilled" : "authorization";
  return {
    status: 403,
    body: {
      error: {
        code: "AuthorizationFailed",
        message: `The client '${caller.clientId}' with object id '${caller.objectId}' does not have ${lacks} to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      },
    },
  };
}

/** The caller the fake names when no test said otherwise. */
export const FAKE_APP_IDENTITY: CallerIdentity = {
  clientId: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
  objectId: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
};

/** The condition the fake checks role assignment writes against; none (every write allowed) at first. */
export class FakeRoleAssignmentCondition {
  private clauses: readonly RoleWriteClause[] | undefined;
  private caller: CallerIdentity = FAKE_APP_IDENTITY;

  /** From now on, allows only writes one of `clauses` matches, as the deployment's condition does. */
  limitTo(clauses: readonly RoleWriteClause[], caller: CallerIdentity = FAKE_APP_IDENTITY): void {
    this.clauses = clauses;
    this.caller = caller;
  }

  /** Allows every write again. */
  lift(): void {
    this.clauses = undefined;
  }

  /**
   * The refusal of a write at `assignmentPath` (`{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`),
   * with Resource Manager's status and body; `undefined` when the condition allows it.
   */
  refusal(assignmentPath: string, write: RoleWriteRequest): AuthorizationRefusal | undefined {
    if (!this.clauses) return undefined;
    const guid = write.roleDefinitionId.split("/").at(-1)?.toLowerCase() ?? "";
    const principal = write.principalId.toLowerCase();
    const servicePrincipal = (write.principalType ?? "").toLowerCase() === "serviceprincipal";
    const allowed = this.clauses.some(
      (clause) =>
        servicePrincipal &&
        clause.roleDefinitionGuids.some((id) => id.toLowerCase() === guid) &&
        (clause.principalIds === undefined ||
          clause.principalIds.some((id) => id.toLowerCase() === principal)),
    );
    if (allowed) return undefined;
    return authorizationFailed(
      this.caller,
      "Microsoft.Authorization/roleAssignments/write",
      assignmentPath,
      true,
    );
  }
}
