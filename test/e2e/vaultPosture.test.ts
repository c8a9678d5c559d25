/**
 * The vaults' security posture through the HTTP API on the Azure provider, against the fake
 * Resource Manager: a vault meeting the baseline, one without soft delete or immutability, one
 * whose answer holds only what the contract requires, and one that no longer exists.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/http/openapi.js";
import { startAzureApp, type AzureApp } from "../support/azureApp.js";
import { FAKE_SUBSCRIPTION_ID, FakeArm } from "../support/fakeArm/index.js";
import { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import { baselineVaultSecurity } from "../support/fakeArm/vaultPosture.js";

/** The token the fake identity endpoint hands out and the fake Resource Manager accepts. */
const TOKEN = "token-from-managed-identity";

interface Warning {
  readonly code: string;
  readonly setting: string;
  readonly found: string;
  readonly change: string;
}
interface Posture {
  readonly name: string;
  readonly meetsBaseline: boolean;
  readonly settings: Record<string, unknown> | null;
  readonly warnings: readonly Warning[];
  readonly error?: { readonly code: string };
}

describe("vault posture through the HTTP API on the Azure provider, against the fake Resource Manager", () => {
  let app: AzureApp;
  let fake: FakeArm;
  let identity: FakeManagedIdentity;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, token: TOKEN });
    identity = await FakeManagedIdentity.start(TOKEN);
    const hardened = fake.addVault("rg-backup", "vault-hardened");
    fake.vaultPosture.configure(hardened, baselineVaultSecurity);
    const weak = fake.addVault("rg-backup", "vault-weak");
    fake.vaultPosture.configure(weak, {
      ...baselineVaultSecurity,
      softDelete: { state: "Off", retentionDurationInDays: 14 },
      immutability: "Disabled",
    });
    const bare = fake.addVault("rg-backup", "vault-bare");
    fake.vaultPosture.configure(bare, { requiredOnly: true });
    const gone = `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/vault-gone`;
    app = await startAzureApp({
      name: "e2e-vault-posture",
      fake,
      identity,
      vaultIds: [hardened, weak, bare, gone].join(","),
    });
  }, 60_000);

  afterEach(() => {
    // Every request the app sent and every answer the fake gave kept the OpenAPI contract.
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await app?.stop();
    await identity?.stop();
    await fake?.stop();
  });

  const vault = async (name: string) => {
    const answer = await app.api("GET", `vaults/${name}`);
    expect(answer.status).toBe(200);
    return answer.body as unknown as Posture;
  };

  it("finds no warning in a vault that meets the baseline", async () => {
    const posture = await vault("vault-hardened");

    expect(posture.meetsBaseline).toBe(true);
    expect(posture.warnings).toEqual([]);
    expect(posture.settings).toMatchObject({
      redundancy: "GeoRedundant",
      immutability: "Unlocked",
      softDelete: { state: "On", retentionDays: 14 },
      resourceGuard: { state: "Protected" },
    });
  });

  it("warns of a vault without soft delete or immutability, saying what to change", async () => {
    const posture = await vault("vault-weak");

    expect(posture.meetsBaseline).toBe(false);
    expect(posture.warnings.map((w) => [w.code, w.found])).toEqual([
      ["VAULT_SOFT_DELETE_OFF", "Off"],
      ["VAULT_IMMUTABILITY_DISABLED", "Disabled"],
    ]);
    expect(posture.warnings[0]?.change).toContain(
      "az dataprotection backup-vault update --resource-group rg-backup --vault-name vault-weak --soft-delete-state On",
    );
  });

  it("reports the settings a vault's answer leaves out as unknown, with a warning for each", async () => {
    const posture = await vault("vault-bare");

    expect(posture.settings).toMatchObject({
      redundancy: "unknown",
      immutability: "unknown",
      softDelete: { state: "unknown", retentionDays: null },
      crossSubscriptionRestore: "unknown",
      jobFailureAlerts: "unknown",
    });
    expect(posture.meetsBaseline).toBe(false);
    expect(
      posture.warnings.filter((w) => w.code === "VAULT_SETTING_UNKNOWN").map((w) => w.setting),
    ).toEqual([
      "redundancy",
      "softDelete",
      "immutability",
      "crossSubscriptionRestore",
      "jobFailureAlerts",
    ]);
  });

  it("lists every covered vault by name, one that cannot be read with its error", async () => {
    // Act
    const answer = await app.api("GET", "vaults");

    // Assert
    expect(answer.status).toBe(200);
    const value = answer.body.value as Posture[];
    expect(value.map((v) => [v.name, v.meetsBaseline, v.warnings.length > 0])).toEqual([
      ["vault-bare", false, true],
      ["vault-gone", false, false],
      ["vault-hardened", true, false],
      ["vault-weak", false, true],
    ]);
    const gone = value.find((v) => v.name === "vault-gone");
    expect(gone?.settings).toBeNull();
    expect(gone?.error?.code).toBe("VAULT_NOT_FOUND");
  });

  it("answers as the OpenAPI document describes, for every kind of vault", async () => {
    // Arrange: the document's schemas, as one JSON Schema.
    const document = openApiDocument() as { components: { schemas: Record<string, unknown> } };
    const defs = JSON.parse(
      JSON.stringify(document.components.schemas).replaceAll(
        "#/components/schemas/",
        "pgprotect#/$defs/",
      ),
    ) as object;
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    ajv.addSchema({ $id: "pgprotect", $defs: defs });
    const validate = (name: string, value: unknown) => {
      const check = ajv.getSchema(`pgprotect#/$defs/${name}`);
      if (!check) throw new Error(`the document has no schema ${name}`);
      check(value);
      return check.errors ?? [];
    };

    // Act
    const list = await app.api("GET", "vaults");
    const one = await app.api("GET", "vaults/vault-weak");

    // Assert
    expect(validate("VaultPostureList", list.body)).toEqual([]);
    expect(validate("VaultPosture", one.body)).toEqual([]);
    // The schemas can tell a wrong answer.
    expect(validate("VaultPosture", { ...one.body, meetsBaseline: "no" })).not.toEqual([]);
  });

  it("answers 404 VAULT_NOT_CONFIGURED for a vault the app does not cover", async () => {
    const answer = await app.api("GET", "vaults/vault-elsewhere");

    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe("VAULT_NOT_CONFIGURED");
  });
});
