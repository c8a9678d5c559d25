import { describe, expect, it } from "vitest";
import { containerResourceId } from "../../../../src/providers/azure/restoreAccess.js";
import {
  chooseDump,
  restoredDatabaseOf,
  temporaryDatabaseName,
} from "../../../../src/providers/azure/restoreToServer.js";

const account =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stpg";

describe("the names a restore to a server uses", () => {
  it("names a load's temporary database after the target and the load, the same on every attempt", () => {
    const first = temporaryDatabaseName("shop_restored", "restore-1");

    expect(first).toMatch(/^shop_restored_restoring_[0-9a-f]{10}$/);
    expect(temporaryDatabaseName("shop_restored", "restore-1")).toBe(first);
    expect(temporaryDatabaseName("shop_restored", "restore-2")).not.toBe(first);
  });

  it("keeps a temporary name within PostgreSQL's 63 characters however long the target's is", () => {
    const name = temporaryDatabaseName("d".repeat(63), "restore-1");

    expect(name).toHaveLength(63);
    expect(name).toMatch(/_restoring_[0-9a-f]{10}$/);
  });

  it("sends the service the container's ARM id, from the account's and the container URL", () => {
    expect(containerResourceId(account, "https://stpg.blob.core.windows.net/restores")).toBe(
      `${account}/blobServices/default/containers/restores`,
    );
    expect(
      containerResourceId(
        `${account}/blobServices/default/containers/other`,
        "https://stpg.blob.core.windows.net/restores",
      ),
    ).toBe(`${account}/blobServices/default/containers/other`);
  });
});

describe("the databases a whole server's restore as files wrote", () => {
  it("reads each database from its file's name, a database with underscores and dots whole, and no other file", () => {
    const prefix = "pgprotect_drill_0123456789abcdef01234567";

    expect(restoredDatabaseOf(`${prefix}_sales.dump`, prefix)).toBe("sales");
    expect(restoredDatabaseOf(`${prefix}_orders_archive.v2.dump`, prefix)).toBe(
      "orders_archive.v2",
    );
    expect(restoredDatabaseOf(`${prefix}_sales.sql`, prefix)).toBeUndefined();
    expect(restoredDatabaseOf(`${prefix}.dump`, prefix)).toBeUndefined();
    expect(restoredDatabaseOf(`other_sales.dump`, prefix)).toBeUndefined();
  });
});

describe("the dump a load of one database picks", () => {
  const prefix = "pgprotect_drill_0123456789abcdef01234567";
  const request = (sourceDatabaseName?: string) => ({
    filePrefix: prefix,
    containerUrl: "http://127.0.0.1:10000/devstoreaccount1/drills",
    ...(sourceDatabaseName ? { sourceDatabaseName } : {}),
  });

  it("reads a file's database by the same rule as the drill's list of databases", () => {
    const names = [`${prefix}_orders.sql`, `${prefix}_orders.dump`, `${prefix}_sales.dump`];

    expect(chooseDump(names, request("orders"))).toBe(`${prefix}_orders.dump`);
    expect(restoredDatabaseOf(chooseDump(names, request("orders")), prefix)).toBe("orders");
  });

  it("picks the database named exactly over one whose name only contains it", () => {
    const names = [`${prefix}_orders.dump`, `${prefix}_orders_archive.dump`];

    expect(chooseDump(names, request("orders"))).toBe(`${prefix}_orders.dump`);
    expect(chooseDump(names, request("orders_archive"))).toBe(`${prefix}_orders_archive.dump`);
  });

  it("says which databases the files hold when none is the one asked", () => {
    expect(() => chooseDump([`${prefix}_sales.dump`], request("orders"))).toThrow(
      /of database 'orders'/,
    );
  });
});
