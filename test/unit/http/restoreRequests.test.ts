import { describe, expect, it } from "vitest";
import { startRestoreBody } from "../../../src/http/protectionRequests.js";

const container = "https://stpg.blob.core.windows.net/restores";
const account =
  "/subscriptions/5f1c3a2b-8d4e-4f60-9a7b-1c2d3e4f5a6b/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stpg";

/** The messages of a body's problems, or none when it passes. */
function problems(body: unknown): string[] {
  const parsed = startRestoreBody.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
}

describe("the body of a restore request", () => {
  it("accepts a restore to a server: a container, a database name and the secret of its server", () => {
    expect(
      problems({
        targetContainerUrl: container,
        targetStorageAccountId: account,
        targetDatabaseName: "shop_restored",
        secretUri: "https://kv.vault.azure.net/secrets/target",
        sourceDatabaseName: "shop",
      }),
    ).toEqual([]);
  });

  it("refuses a restore to a server without the secret that reaches the server", () => {
    expect(
      problems({ targetContainerUrl: container, targetDatabaseName: "shop_restored" }),
    ).toEqual([expect.stringContaining("needs secretUri")]);
  });

  it("refuses sourceDatabaseName on a restore that loads nothing into a server", () => {
    expect(problems({ targetContainerUrl: container, sourceDatabaseName: "shop" })).toEqual([
      "sourceDatabaseName applies only to a restore to a server",
    ]);
  });

  it("accepts a storage account's or a container's ARM id, and refuses anything else", () => {
    const withScope = (targetStorageAccountId: string) =>
      problems({ targetContainerUrl: container, targetStorageAccountId });

    expect(withScope(account)).toEqual([]);
    expect(withScope(`${account}/blobServices/default/containers/restores`)).toEqual([]);
    expect(withScope("stpg")).toEqual([
      "expected the ARM id of a storage account or of its blob container",
    ]);
  });

  it("still refuses two targets at once, and a database with a folder", () => {
    expect(problems({ targetFolder: "/tmp/x", targetContainerUrl: container })).toHaveLength(1);
    expect(problems({ targetFolder: "/tmp/x", targetDatabaseName: "copy" })).toHaveLength(1);
  });
});
