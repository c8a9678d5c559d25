import { describe, expect, it } from "vitest";
import {
  findStorageAccountOf,
  storageAccountNameOf,
} from "../../../../src/providers/azure/restoreAccess.js";

const suffixes = ["core.windows.net", "core.usgovcloudapi.net", "core.chinacloudapi.cn"];
const account = (subscription: string, group: string, name: string) =>
  `/subscriptions/${subscription}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${name}`;

describe("storageAccountNameOf", () => {
  it("reads the account from the first host label of a blob endpoint of a known cloud", () => {
    expect(
      storageAccountNameOf("https://pgrestores.blob.core.windows.net/restores", suffixes),
    ).toBe("pgrestores");
    expect(
      storageAccountNameOf("https://PgRestores.blob.core.usgovcloudapi.net/restores/", suffixes),
    ).toBe("pgrestores");
  });

  it("reads the account from the path of an emulator's path-style URL", () => {
    expect(storageAccountNameOf("http://127.0.0.1:10000/devstoreaccount1/restores", suffixes)).toBe(
      "devstoreaccount1",
    );
    expect(storageAccountNameOf("http://localhost:10000/devstoreaccount1/x", suffixes)).toBe(
      "devstoreaccount1",
    );
  });

  it("finds no account in a URL of another service, another cloud or no URL at all", () => {
    expect(storageAccountNameOf("https://pgrestores.file.core.windows.net/share", suffixes)).toBe(
      undefined,
    );
    expect(
      storageAccountNameOf("https://pgrestores.blob.core.windows.net/restores", [
        "core.chinacloudapi.cn",
      ]),
    ).toBe(undefined);
    expect(storageAccountNameOf("https://a.b.blob.core.windows.net/c", suffixes)).toBe(undefined);
    expect(storageAccountNameOf("not a url", suffixes)).toBe(undefined);
  });
});

describe("findStorageAccountOf", () => {
  const vaultId =
    "/subscriptions/sub-vault/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v";
  /** A Resource Graph that answers from a list and records what it was asked. */
  const graphOf = (ids: string[]) => {
    const asked: { subscriptions: readonly string[]; query: string }[] = [];
    return {
      asked,
      graph: {
        query: <T>(subscriptions: readonly string[], query: string): Promise<T[]> => {
          asked.push({ subscriptions, query });
          return Promise.resolve(ids.map((id) => ({ id }) as T));
        },
      },
    };
  };

  it("answers the one account of the name, with the container's id, asking in the vault's and the app's subscriptions", async () => {
    const id = account("sub-app", "rg-restore", "pgrestores");
    const { graph, asked } = graphOf([id]);

    const found = await findStorageAccountOf(
      { graph, subscriptions: ["sub-app", "SUB-VAULT"], storageSuffixes: suffixes },
      vaultId,
      "https://pgrestores.blob.core.windows.net/restores",
    );

    expect(found).toEqual({
      found: true,
      accountName: "pgrestores",
      accountId: id,
      containerId: `${id}/blobServices/default/containers/restores`,
    });
    expect(asked).toEqual([
      {
        subscriptions: ["sub-vault", "sub-app"],
        query: expect.stringContaining(
          "resources | where type =~ 'microsoft.storage/storageaccounts' and name =~ 'pgrestores'",
        ),
      },
    ]);
  });

  it("reports several accounts of the name with their ids, and asks nothing for a URL that names none", async () => {
    const ids = [
      account("sub-app", "rg-a", "pgrestores"),
      account("sub-vault", "rg-b", "pgrestores"),
    ];
    const several = graphOf(ids);
    const none = graphOf([]);

    const found = await findStorageAccountOf(
      { graph: several.graph, subscriptions: ["sub-app"], storageSuffixes: suffixes },
      vaultId,
      "https://pgrestores.blob.core.windows.net/restores",
    );
    const unnamed = await findStorageAccountOf(
      { graph: none.graph, subscriptions: ["sub-app"], storageSuffixes: suffixes },
      vaultId,
      "https://example.com/restores",
    );

    expect(found).toEqual({ found: false, accountName: "pgrestores", candidates: ids });
    expect(unnamed).toEqual({ found: false, candidates: [] });
    expect(none.asked).toEqual([]);
  });
});
