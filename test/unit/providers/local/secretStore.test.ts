import { chmod, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalSecretStore, parseSecretUri } from "../../../../src/providers/local/secretStore.js";

describe("local secret store", () => {
  let stateDir: string;
  let store: LocalSecretStore;

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-secrets-"));
    store = new LocalSecretStore({ stateDir });
  });

  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it("stores a secret under a Key Vault style URI in a file only its owner can read", async () => {
    const uri = await store.setSecret("ossdbkey", "postgresql://u:s3cr3t@h/db");

    expect(uri).toBe("https://pgprotect-local.vault.azure.net/secrets/ossdbkey");
    expect(await store.getSecret(uri)).toBe("postgresql://u:s3cr3t@h/db");
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect((await readdir(stateDir)).sort()).toEqual(["secrets.json"]);
  });

  it("answers whether a secret exists without its value, case-insensitively and whatever the version", async () => {
    await store.setSecret("OssDbKey", "value");

    expect(
      await store.secretExists("https://pgprotect-local.vault.azure.net/secrets/ossdbkey"),
    ).toBe(true);
    expect(
      await store.secretExists(
        "https://PGPROTECT-LOCAL.vault.azure.net/secrets/OSSDBKEY/0123456789abcdef",
      ),
    ).toBe(true);
    expect(await store.secretExists("https://pgprotect-local.vault.azure.net/secrets/other")).toBe(
      false,
    );
    expect(await store.secretExists("https://another-kv.vault.azure.net/secrets/ossdbkey")).toBe(
      false,
    );
  });

  it("replaces a value and keeps other secrets, across store objects", async () => {
    await store.setSecret("a", "one");
    await store.setSecret("b", "two");
    await store.setSecret("a", "three");

    const reopened = new LocalSecretStore({ stateDir });
    expect(await reopened.getSecret(reopened.uriFor("a"))).toBe("three");
    expect(await reopened.listSecretUris()).toEqual([reopened.uriFor("a"), reopened.uriFor("b")]);
  });

  it("fails with SecretNotFound for a missing secret, naming how to create it", async () => {
    await expect(store.getSecret(store.uriFor("missing"))).rejects.toMatchObject({
      code: "SECRET_NOT_FOUND",
      httpStatus: 404,
      recommendedAction: expect.stringContaining("pgprotect local secret set missing"),
    });
  });

  it("refuses to read a secrets file others can read", async () => {
    await store.setSecret("a", "one");
    await chmod(store.file, 0o644);

    await expect(store.getSecret(store.uriFor("a"))).rejects.toMatchObject({
      code: "LOCAL_SECRET_FILE_EXPOSED",
    });
  });

  it("parses a secret as a connection string without quoting it in errors", async () => {
    const good = await store.setSecret("good", "host=127.0.0.1 user=u password=pw dbname=d");
    const bad = await store.setSecret("bad", "hunter2");

    expect(await store.getConnectionParams(good)).toMatchObject({
      host: "127.0.0.1",
      user: "u",
      database: "d",
    });
    const failure: unknown = await store.getConnectionParams(bad).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: "CONNECTION_STRING_INVALID" });
    expect((failure as Error).message).not.toContain("hunter2");
  });

  it("keeps values out of the store's JSON form", async () => {
    await store.setSecret("a", "very-secret-value");

    expect(JSON.stringify({ store })).not.toContain("very-secret-value");
    expect(await readFile(store.file, "utf8")).toContain("very-secret-value");
  });

  it.each([
    "http://kv.vault.azure.net/secrets/a",
    "https://kv.example.com/secrets/a",
    "https://kv.vault.azure.net/keys/a",
    "https://kv.vault.azure.net/secrets/bad_name",
    "not a uri",
  ])("rejects %j as a secret URI", (uri) => {
    expect(() => parseSecretUri(uri)).toThrow(
      expect.objectContaining({ code: "INVALID_SECRET_URI" }),
    );
  });
});
