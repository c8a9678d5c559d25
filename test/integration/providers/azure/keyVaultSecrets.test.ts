import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "../../../support/appError.js";
import { ProviderErrorCodes } from "../../../../src/providers/ports.js";
import { KeyVaultSecretStore } from "../../../../src/providers/azure/keyVaultSecrets.js";
import { fakeArmCredential } from "../../../support/fakeArm/index.js";
import { FakeKeyVault } from "../../../support/fakeArm/fakeKeyVault.js";

const PASSWORD = "s3cr3t-Pa55";

describe("KeyVaultSecretStore against a fake Key Vault", () => {
  let vault: FakeKeyVault;
  let store: KeyVaultSecretStore;

  beforeAll(async () => {
    vault = await FakeKeyVault.start();
    store = new KeyVaultSecretStore({
      credential: fakeArmCredential("fake-kv-token"),
      // The challenge names vault.azure.net, which a loopback host can never end with.
      client: {
        tlsOptions: { ca: vault.ca },
        disableChallengeResourceVerification: true,
        retryOptions: { maxRetries: 0 },
      },
      allowedHosts: ["127.0.0.1"],
    });
  });

  afterAll(async () => {
    await vault.stop();
  });

  afterEach(() => {
    // Nothing pgprotect raised may carry the password.
    expect(JSON.stringify(vault.authorizedRequests)).not.toContain(PASSWORD);
  });

  it("reads the current version of a secret after answering the vault's challenge", async () => {
    // Arrange
    vault.setSecret("pg-old", "postgresql://old");
    const uri = vault.setSecret(
      "pg-old",
      `postgresql://backup:${PASSWORD}@pg.postgres.database.azure.com:5432/empdb?sslmode=require`,
    );

    // Act
    const value = await store.getSecret(uri);

    // Assert
    expect(value).toContain(PASSWORD);
    expect(vault.authorizedRequests.at(-1)).toBe("/secrets/pg-old/");
  });

  it("checks existence from version properties, without reading the value", async () => {
    const uri = vault.setSecret("pg-exists", "host=h user=u password=p dbname=d");
    const reads = vault.authorizedRequests.length;

    const exists = await store.secretExists(uri);
    const missing = await store.secretExists(`${vault.url}/secrets/pg-nothing`);

    expect(exists).toBe(true);
    expect(missing).toBe(false);
    expect(vault.authorizedRequests.slice(reads).every((p) => p.endsWith("/versions"))).toBe(true);
  });

  it("describes a connection-string secret without its password", async () => {
    const uri = vault.setSecret(
      "pg-conn",
      `host=pg.example port=6432 dbname=hr user=reader password='${PASSWORD}'`,
    );

    const summary = await store.inspectConnectionSecret(uri);

    expect(summary).toEqual({
      host: "pg.example",
      port: 6432,
      database: "hr",
      user: "reader",
      hasPassword: true,
    });
  });

  it("refuses a value that is not a connection string, without quoting it", async () => {
    const uri = vault.setSecret("pg-junk", `just ${PASSWORD}`);

    const error = await rejection(store.inspectConnectionSecret(uri));

    expect(error.code).toBe("CONNECTION_STRING_INVALID");
    expect(JSON.stringify(error.toJSON())).not.toContain(PASSWORD);
  });

  it("reports a missing secret as SecretNotFound and a refused read as a missing permission", async () => {
    vault.setSecret("pg-locked", "postgresql://x");
    vault.forbid("pg-locked");

    const missing = await rejection(store.getSecret(`${vault.url}/secrets/pg-absent`));
    const refused = await rejection(store.getSecret(`${vault.url}/secrets/pg-locked`));

    expect(missing).toMatchObject({ code: ProviderErrorCodes.secretNotFound, httpStatus: 404 });
    expect(refused).toMatchObject({
      code: ProviderErrorCodes.missingRequiredPermissions,
      httpStatus: 403,
      retryable: false,
    });
    expect(refused.recommendedAction).toContain("Key Vault Secrets User");
  });

  it("reports a disabled secret as disabled, not as a permission problem", async () => {
    const uri = vault.setSecret("pg-disabled", "postgresql://x", false);

    const error = await rejection(store.getSecret(uri));

    expect(error.code).toBe("SECRET_DISABLED");
    expect(await store.secretExists(uri)).toBe(false);
  });

  it("will not send the app's token to a host that is not a Key Vault", async () => {
    const strict = new KeyVaultSecretStore({ credential: fakeArmCredential("fake-kv-token") });

    const error = await rejection(strict.getSecret(`${vault.url}/secrets/pg-old`));

    expect(error.code).toBe("INVALID_SECRET_URI");
  });
});
