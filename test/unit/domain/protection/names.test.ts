import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../../src/domain/errors.js";
import {
  assertName,
  backupInstanceNameRule,
  databaseNameRule,
  followsRule,
  policyNameRule,
  restoreDatabaseNameRule,
  restoreFilePrefixRule,
  restoreFolderRule,
  sameAzureName,
  serverNameRule,
  vaultNameRule,
} from "../../../../src/domain/protection/names.js";
import { backupInstanceNameOf } from "../../../../src/domain/protection/naming.js";

const refusal = (fn: () => unknown): InvalidInputError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
};

describe("name rules", () => {
  it.each([
    ["local", true],
    ["pg-sales", true],
    ["pg1", true],
    ["PG-Sales", true],
    ["abc", true],
    ["a".repeat(63), true],
    ["ab", false],
    ["a".repeat(64), false],
    ["-pg", false],
    ["pg-", false],
    ["pg_sales", false],
    ["pg.sales", false],
    ["../pg", false],
    ["pg sales", false],
    ["pg\u0000x", false],
  ])(
    "takes server name %j as %s, as Azure Database for PostgreSQL names servers",
    (name, valid) => {
      expect(followsRule(serverNameRule, name)).toBe(valid);
    },
  );

  it("refuses a server name with a problem naming the rule and where the name was", () => {
    const error = refusal(() => assertName(serverNameRule, "pg_sales", "$.serverName"));

    expect(error.code).toBe("SERVER_NAME_INVALID");
    expect(error.problems).toEqual([
      { path: "$.serverName", code: "SERVER_NAME_INVALID", message: serverNameRule.rule },
    ]);
    expect(error.message).toContain("3-63 characters");
  });

  it.each([
    ["pgprotect-vault", true],
    ["PGPROTECT-VAULT", true],
    ["v1", true],
    ["v", false],
    ["1vault", false],
    ["vault-", false],
    ["va_ult", false],
    ["a".repeat(50), true],
    ["a".repeat(51), false],
  ])("takes vault name %s as %s, as the service's vaultName parameter does", (name, valid) => {
    expect(followsRule(vaultNameRule, name)).toBe(valid);
  });

  it.each([
    ["weekly", true],
    ["WEEKLY-2", true],
    ["wk", false],
    ["-weekly", false],
    ["week ly", false],
    ["w".repeat(150), true],
    ["w".repeat(151), false],
  ])("takes policy name %s as %s", (name, valid) => {
    expect(followsRule(policyNameRule, name)).toBe(valid);
  });

  it("refuses a 300-character backup instance name as a 400 naming the rule", () => {
    // Act
    const error = refusal(() => assertName(backupInstanceNameRule, "a".repeat(300), "path.name"));

    // Assert
    expect(error.httpStatus).toBe(400);
    expect(error.code).toBe("BACKUP_INSTANCE_NAME_INVALID");
    expect(error.message).toContain("300 characters");
    expect(error.problems).toEqual([
      {
        path: "path.name",
        code: "BACKUP_INSTANCE_NAME_INVALID",
        message: expect.stringContaining("1-200 characters"),
      },
    ]);
  });

  it.each(["../x", "a/b", "a\\b", ".hidden", "a\u0000b", ""])(
    "refuses the backup instance name %j, which is no single path segment",
    (name) => {
      expect(followsRule(backupInstanceNameRule, name)).toBe(false);
    },
  );

  it.each(["template0", "template1", "postgres", "azure_maintenance", "azure_sys"])(
    "refuses to restore into %s and says why",
    (name) => {
      const error = refusal(() =>
        assertName(restoreDatabaseNameRule, name, "$.targetDatabaseName"),
      );

      expect(error.httpStatus).toBe(400);
      expect(error.code).toBe("TARGET_DATABASE_NAME_INVALID");
      expect(error.message).toMatch(/template|maintenance|reserves/);
    },
  );

  it("restores into new databases named in any script, but never one of 64 bytes", () => {
    expect(followsRule(restoreDatabaseNameRule, "Ventes_Zoë_東京")).toBe(true);
    expect(followsRule(restoreDatabaseNameRule, "Template1")).toBe(true);
    expect(followsRule(restoreDatabaseNameRule, "é".repeat(32))).toBe(false);
  });

  it("takes any existing database name PostgreSQL holds, case and all, up to 63 bytes", () => {
    expect(followsRule(databaseNameRule, "Sales EU (2026)")).toBe(true);
    expect(followsRule(databaseNameRule, "a".repeat(64))).toBe(false);
    expect(followsRule(databaseNameRule, "a/b")).toBe(false);
  });

  it.each(["../../../x", "a/b", "..", ".x", "a\\b"])(
    "refuses the file prefix %j, which would name a path",
    (prefix) => {
      expect(followsRule(restoreFilePrefixRule, prefix)).toBe(false);
    },
  );

  it.each([
    ["/var/restores/today", true],
    ["C:\\restores", true],
    ["relative/folder", false],
    ["/var/restores/../../etc", false],
    ["/var/./restores", false],
  ])("takes restore folder %s as %s", (folder, valid) => {
    expect(followsRule(restoreFolderRule, folder)).toBe(valid);
  });

  it("compares Azure names without regard to case", () => {
    expect(sameAzureName("WEEKLY", "weekly")).toBe(true);
    expect(sameAzureName("weekly", "weekly2")).toBe(false);
  });
});

describe("backup instance names", () => {
  const uuid = "957D23B1-C679-4C94-ADE6-C4D34635E149";

  it("follows the instance name rule for any server and database name (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 63 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 63 }),
        (server, database) => {
          const name = backupInstanceNameOf(server, database, uuid);
          expect(followsRule(backupInstanceNameRule, name)).toBe(true);
          expect(name.endsWith("-957d23b1-c679-4c94-ade6-c4d34635e149")).toBe(true);
        },
      ),
    );
  });

  it("keeps the names readable", () => {
    expect(backupInstanceNameOf("local", "Ventes_Zoë_東京", uuid)).toBe(
      "local-Ventes_Zoe-957d23b1-c679-4c94-ade6-c4d34635e149",
    );
  });
});
