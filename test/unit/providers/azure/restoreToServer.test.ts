import { describe, expect, it } from "vitest";
import { containerResourceId } from "../../../../src/providers/azure/restoreAccess.js";
import { temporaryDatabaseName } from "../../../../src/providers/azure/restoreToServer.js";

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
