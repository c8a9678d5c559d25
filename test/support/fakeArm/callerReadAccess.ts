/**
 * The app's own right to read, as Resource Manager enforces it: every GET is an action
 * (`{namespace}/{type}[/{type}…]/read`) over a scope (the resource's id, or for a list the id of
 * its parent followed by the list's namespace, `…/resourceGroups/rg/providers/Microsoft.Authorization`),
 * and it is allowed when one of the caller's role assignments at that scope or above it holds a
 * role whose actions match. Otherwise Resource Manager answers 403 `AuthorizationFailed` naming
 * the caller, the action and the scope. The fake decides from the request and the role
 * assignments it holds, never from what the app expects to be allowed.
 *
 * @remarks Off until a test enforces it, since most tests do not seed the app's own roles. Only
 * the built-in roles below and the custom roles a test defines grant reads; any other role grants
 * none. Writes are not checked here (role assignment writes are, by `roleAssignmentCondition.ts`).
 */
import {
  authorizationFailed,
  FAKE_APP_IDENTITY,
  type AuthorizationRefusal,
  type CallerIdentity,
} from "./roleAssignmentCondition.js";

/** The `actions` of the built-in roles that allow reads, by role definition GUID. */
const builtInRoleActions: Readonly<Record<string, readonly string[]>> = {
  // Reader
  "acdd72a7-3385-48ef-bd42-f606fba81ae7": ["*/read"],
  // Contributor (its notActions are all writes and deletes)
  "b24988ac-6180-42a0-ab88-20f7382dd24c": ["*"],
  // Owner
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ["*"],
};

/** What a role assignment the fake holds says, as this check reads it. */
export interface HeldAssignment {
  readonly scope: string;
  readonly roleDefinitionId: string;
  readonly principalId: string;
}

/** The action a GET of `path` performs and the scope Resource Manager authorizes it over. */
export function readActionOf(path: string): { action: string; scope: string } {
  const segments = path.split("/").filter((s) => s !== "");
  const providers = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  // Without a provider segment the path is Microsoft.Resources' own (subscriptions, groups).
  const namespace = providers >= 0 ? (segments[providers + 1] ?? "") : "Microsoft.Resources";
  const typed = providers >= 0 ? segments.slice(providers + 2) : segments;
  const types = typed.filter((_, i) => i % 2 === 0);
  const list = typed.length % 2 === 1;
  return {
    action: [namespace, ...types, "read"].join("/"),
    scope: list ? `/${segments.slice(0, -1).join("/")}` : `/${segments.join("/")}`,
  };
}

function matches(pattern: string, action: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`, "i").test(action);
}

function covers(assignedScope: string, scope: string): boolean {
  const assigned = assignedScope.toLowerCase().replace(/\/+$/, "");
  const target = scope.toLowerCase();
  return target === assigned || target.startsWith(`${assigned}/`);
}

/** The read check of the app's identity; nothing refused until {@link enforce} is called. */
export class FakeCallerReadAccess {
  private caller: CallerIdentity | undefined;
  private readonly customRoles = new Map<string, readonly string[]>();

  /**
   * Defines a custom role by its GUID and `actions` (with `*` wildcards, as Azure writes them),
   * for a deployment that gives the app a role narrower than Reader.
   */
  defineRole(roleDefinitionGuid: string, actions: readonly string[]): void {
    this.customRoles.set(roleDefinitionGuid.toLowerCase(), actions);
  }

  /** From now on, refuses the caller's reads its role assignments do not allow. */
  enforce(caller: CallerIdentity = FAKE_APP_IDENTITY): void {
    this.caller = caller;
  }

  /** Allows every read again. */
  lift(): void {
    this.caller = undefined;
  }

  /**
   * Resource Manager's refusal of a request, with its status and body; `undefined` when it is
   * not a read or the caller's roles allow it.
   */
  refusal(
    method: string,
    path: string,
    assignments: readonly HeldAssignment[],
  ): AuthorizationRefusal | undefined {
    const caller = this.caller;
    if (!caller || method.toUpperCase() !== "GET") return undefined;
    const { action, scope } = readActionOf(decodeURIComponent(path));
    const allowed = assignments.some(
      (a) =>
        a.principalId.toLowerCase() === caller.objectId.toLowerCase() &&
        covers(a.scope, scope) &&
        this.actionsOf(a.roleDefinitionId).some((pattern) => matches(pattern, action)),
    );
    return allowed ? undefined : authorizationFailed(caller, action, scope);
  }

  private actionsOf(roleDefinitionId: string): readonly string[] {
    const guid = roleDefinitionId.split("/").at(-1)?.toLowerCase() ?? "";
    return builtInRoleActions[guid] ?? this.customRoles.get(guid) ?? [];
  }
}
