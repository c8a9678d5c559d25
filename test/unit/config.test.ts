import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configKeys, loadConfig } from "../../src/config.js";
import { ConfigurationError } from "../../src/domain/errors.js";

describe("loadConfig", () => {
  it("lists in local.settings.sample.json exactly the keys the schema reads", () => {
    // Arrange
    const sample = JSON.parse(readFileSync("local.settings.sample.json", "utf8")) as {
      Values: Record<string, string>;
    };

    // Act
    const sampleKeys = Object.keys(sample.Values).sort();

    // Assert
    expect(sampleKeys).toEqual([...configKeys].sort());
  });

  it("accepts the sample settings as they are", () => {
    const sample = JSON.parse(readFileSync("local.settings.sample.json", "utf8")) as {
      Values: Record<string, string>;
    };

    const config = loadConfig(sample.Values);

    expect(config.PGPROTECT_PROVIDER).toBe("local");
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TASKHUB_NAME).toBe("pgprotect");
  });

  it("fills defaults when nothing is set, so the embedded default needs no settings", () => {
    const config = loadConfig({});

    expect(config.PGPROTECT_PROVIDER).toBe("local");
    expect(config.PGPROTECT_STATE_DIR).toBe(".pgprotect");
    expect(config.AZURE_RESOURCE_MANAGER_ENDPOINT).toBe("https://management.azure.com");
  });

  it("names every bad setting in one error when several are wrong", () => {
    const act = () =>
      loadConfig({ PGPROTECT_PROVIDER: "azure", DATABASE_URL: "mysql://x", TASKHUB_NAME: "a" });

    expect(act).toThrow(ConfigurationError);
    try {
      act();
    } catch (error) {
      const paths = (error as ConfigurationError).problems.map((p) => p.path).sort();
      expect(paths).toEqual([
        "AZURE_SUBSCRIPTION_ID",
        "DATABASE_URL",
        "EVENTGRID_TOPIC_ENDPOINT",
        "TASKHUB_NAME",
      ]);
      expect((error as Error).message).toContain("AZURE_SUBSCRIPTION_ID is required");
    }
  });

  it("asks for a sender address when ACS_ENDPOINT alone chooses ACS for email", () => {
    // Act
    const act = () => loadConfig({ ACS_ENDPOINT: "https://mail.communication.azure.com" });

    // Assert
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(/ACS_ENDPOINT sends email through ACS, which needs EMAIL_SENDER_ADDRESS/);
    expect(
      loadConfig({
        ACS_ENDPOINT: "https://mail.communication.azure.com",
        EMAIL_SENDER_ADDRESS: "DoNotReply@contoso.example",
      }).ACS_ENDPOINT,
    ).toBe("https://mail.communication.azure.com");
  });

  it("asks for the scratch server's secret when DRILL_CONTAINER_URL alone is set for Azure drills", () => {
    // Act
    const act = () => loadConfig({ DRILL_CONTAINER_URL: "https://drills.blob.core.windows.net/d" });

    // Assert
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(/DRILL_SERVER_SECRET_URI is required with DRILL_CONTAINER_URL/);
    expect(
      loadConfig({
        DRILL_CONTAINER_URL: "https://drills.blob.core.windows.net/d",
        DRILL_SERVER_SECRET_URI: "https://kv.vault.azure.net/secrets/scratch",
      }).DRILL_CONTAINER_URL,
    ).toBe("https://drills.blob.core.windows.net/d");
  });

  it("reads the Key Vault hosts as a trimmed, lower-case list, and leaves them to the clouds' domains when empty", () => {
    // Act
    const configured = loadConfig({
      AZURE_KEY_VAULT_DNS_SUFFIXES: " .Vault.Azure.Net, 127.0.0.1 ,",
    });
    const empty = loadConfig({ AZURE_KEY_VAULT_DNS_SUFFIXES: "" });

    // Assert
    expect(configured.AZURE_KEY_VAULT_DNS_SUFFIXES).toEqual([".vault.azure.net", "127.0.0.1"]);
    expect(empty.AZURE_KEY_VAULT_DNS_SUFFIXES).toBeUndefined();
  });

  it("refuses a Key Vault host entry that is a URL rather than a host or a suffix", () => {
    const act = () => loadConfig({ AZURE_KEY_VAULT_DNS_SUFFIXES: "https://kv.example.com/" });

    expect(act).toThrow(/AZURE_KEY_VAULT_DNS_SUFFIXES/);
  });

  it("takes numeric settings in decimal digits only, refusing hexadecimal, exponents and fractions", () => {
    // Arrange
    const written = ["0x50", "1e3", "80.5", "-1", "+80"];

    // Act
    const refused = written.filter((port) => {
      try {
        loadConfig({ LOCAL_POSTGRES_PORT: port });
        return false;
      } catch (error) {
        return (error as Error).message.includes("LOCAL_POSTGRES_PORT must be a port number");
      }
    });

    // Assert
    expect(refused).toEqual(written);
    expect(loadConfig({ LOCAL_POSTGRES_PORT: "5433" }).LOCAL_POSTGRES_PORT).toBe(5433);
    expect(loadConfig({}).LOCAL_STOP_GRACE_SECONDS).toBe(30);
    expect(() => loadConfig({ LOCAL_STOP_GRACE_SECONDS: "3601" })).toThrow(
      "LOCAL_STOP_GRACE_SECONDS must be at most 3600",
    );
  });
});
