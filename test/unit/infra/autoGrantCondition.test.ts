/**
 * The condition on the app's right to write role assignments (`autoGrantCondition` in
 * infra/app/rbac.bicep), read from the text with its variables expanded, since no Bicep compiler
 * runs here: which roles the app may grant, and to whom.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { autoGrantAllowance } from "../../../src/providers/azure/vaultAccess.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

/** The right-hand side of `var <name> = ...` (one line), or a failure naming the variable. */
function varValue(bicep: string, name: string): string {
  const value = new RegExp(`^var ${name} = (.+?)(?:\\s+//.*)?$`, "m").exec(bicep)?.[1];
  if (value === undefined) throw new Error(`no var ${name}`);
  return value.trim();
}

/**
 * A variable's value as a string, its interpolations expanded, or replaced by the placeholder
 * `keep` gives them; a `empty(x) ? '' : '...'` switch reads as its non-empty branch.
 */
function expand(bicep: string, name: string, keep: Readonly<Record<string, string>> = {}): string {
  const value = varValue(bicep, name);
  const switched = /^empty\(\w+\) \? '' : '(.*)'$/.exec(value);
  const quoted = switched?.[1] ?? /^'(.*)'$/.exec(value)?.[1];
  if (quoted === undefined) {
    if (/^\w+$/.test(value)) return expand(bicep, value, keep);
    throw new Error(`var ${name} is neither a string, a switch nor a variable: ${value}`);
  }
  return quoted
    .replace(/\\'/g, "'")
    .replace(/\$\{(\w+)\}/g, (_, inner: string) => keep[inner] ?? expand(bicep, inner, keep));
}

/** One `OR` clause of a half of the condition: each attribute with the values it must match. */
type Clause = Record<string, string[]>;

/** The clauses of one half: `((!(ActionMatches{'<action>'})) OR (<clause>) OR (<clause>)...)`. */
function clausesOf(half: string): Clause[] {
  return [...half.matchAll(/\((@(?:Request|Resource)\[[^()]*)\)/g)].map((match) => {
    const clause: Clause = {};
    for (const attribute of (match[1] as string).matchAll(
      /@(Request|Resource)\[Microsoft\.Authorization\/roleAssignments:(\w+)\] ForAnyOfAnyValues:\w+ \{([^}]*)\}/g,
    )) {
      clause[`${attribute[1]}:${attribute[2]}`] = (attribute[3] as string)
        .split(",")
        .map((v) => v.trim().replace(/^'|'$/g, ""));
    }
    return clause;
  });
}

describe("the condition on the app's right to grant roles", () => {
  const rbac = read("infra/app/rbac.bicep");
  const main = read("infra/main.bicep");
  const condition = expand(rbac, "autoGrantCondition", {
    autoGrantVaultPrincipalIdList: "VAULT_PRINCIPAL_IDS",
  });
  const halves =
    /^\(\(!\(ActionMatches\{'Microsoft\.Authorization\/roleAssignments\/write'\}\)\) OR (.*)\) AND \(\(!\(ActionMatches\{'Microsoft\.Authorization\/roleAssignments\/delete'\}\)\) OR (.*)\)$/.exec(
      condition,
    );
  const serverRoles = autoGrantAllowance.toServicePrincipals.map((role) => role.id);
  const vaultOnlyRoles = autoGrantAllowance.toNamedVaultIdentities.map((role) => role.id);
  const vaultPrincipals = ["VAULT_PRINCIPAL_IDS"];

  it("constrains both writes and deletes of role assignments", () => {
    expect(halves).not.toBeNull();
    expect(
      declarationOf(rbac, "module autoGrant ").match(/^\s*condition: autoGrantCondition$/m),
    ).not.toBeNull();
  });

  it("lets the app write the server roles for any service principal, and Storage Blob Data Contributor only for the named vault identities", () => {
    const writes = clausesOf(halves?.[1] ?? "");

    expect(writes).toEqual([
      {
        "Request:RoleDefinitionId": serverRoles,
        "Request:PrincipalType": ["ServicePrincipal"],
      },
      { "Request:RoleDefinitionId": vaultOnlyRoles, "Request:PrincipalId": vaultPrincipals },
    ]);
  });

  it("lets the app delete only the assignments it may write", () => {
    const deletes = clausesOf(halves?.[2] ?? "");

    expect(deletes).toEqual([
      {
        "Resource:RoleDefinitionId": serverRoles,
        "Resource:PrincipalType": ["ServicePrincipal"],
      },
      { "Resource:RoleDefinitionId": vaultOnlyRoles, "Resource:PrincipalId": vaultPrincipals },
    ]);
  });

  it("names Storage Blob Data Contributor nowhere in the condition but in the clauses bound to the vaults' principal ids", () => {
    const storageRole = autoGrantAllowance.toNamedVaultIdentities[0].id;
    const clauses = [...clausesOf(halves?.[1] ?? ""), ...clausesOf(halves?.[2] ?? "")];
    const naming = clauses.filter((clause) =>
      Object.entries(clause).some(
        ([key, values]) => key.endsWith(":RoleDefinitionId") && values.includes(storageRole),
      ),
    );

    expect(condition.split(storageRole)).toHaveLength(3);
    expect(naming).toHaveLength(2);
    for (const clause of naming) {
      expect(Object.keys(clause).filter((key) => key.endsWith(":PrincipalId"))).toHaveLength(1);
    }
    expect(expand(rbac, "assignableRoleIds")).not.toContain(storageRole);
  });

  it("binds those clauses to the new vault's identity and the existing vaults' principal ids, and leaves them out when there are none", () => {
    expect(varValue(rbac, "autoGrantVaultPrincipalIds")).toBe(
      "union(empty(backupVaultPrincipalId) ? [] : [backupVaultPrincipalId], existingBackupVaultPrincipalIds)",
    );
    expect(varValue(rbac, "autoGrantVaultPrincipalIdList")).toBe(
      "join(autoGrantVaultPrincipalIds, ', ')",
    );
    for (const clause of ["autoGrantWriteVaultClause", "autoGrantDeleteVaultClause"]) {
      expect(varValue(rbac, clause)).toMatch(/^empty\(autoGrantVaultPrincipalIds\) \? '' : /);
    }
    expect(rbac).toMatch(/^param existingBackupVaultPrincipalIds array = \[\]$/m);
  });

  it("takes the existing vaults' principal ids from one deployment parameter, empty by default", () => {
    const parameters = JSON.parse(read("infra/main.parameters.json")) as {
      parameters: Record<string, { value: string }>;
    };

    expect(main).toMatch(/^param existingBackupVaultPrincipalIds string = ''$/m);
    expect(varValue(main, "existingBackupVaultPrincipalIdList")).toBe(
      "filter(map(empty(existingBackupVaultPrincipalIds) ? [] : split(existingBackupVaultPrincipalIds, ','), id => trim(id)), id => !empty(id))",
    );
    expect(declarationOf(main, "module rbac ")).toMatch(
      /^\s*existingBackupVaultPrincipalIds: existingBackupVaultPrincipalIdList$/m,
    );
    expect(parameters.parameters["existingBackupVaultPrincipalIds"]).toEqual({
      value: "${PGPROTECT_EXISTING_BACKUP_VAULT_PRINCIPAL_IDS}",
    });
  });
});

/** A top-level declaration starting with `start`, up to the next one. */
function declarationOf(bicep: string, start: string): string {
  const at = bicep.indexOf(`\n${start}`);
  if (at === -1) throw new Error(`no declaration ${start}`);
  const next = bicep.slice(at + 1).search(/\n(module|resource|var|output|param) /);
  return bicep.slice(at + 1, next === -1 ? undefined : at + 1 + next);
}
