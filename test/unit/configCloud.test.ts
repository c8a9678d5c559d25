import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { ConfigurationError } from "../../src/domain/errors.js";
import { keyVaultHostsOf } from "../../src/providers/azure/azureServices.js";

describe("the cloud settings", () => {
  it("asks for tokens of the sovereign cloud whose Resource Manager endpoint alone is set", () => {
    // Act
    const config = loadConfig({
      AZURE_RESOURCE_MANAGER_ENDPOINT: "https://management.usgovcloudapi.net",
    });

    // Assert
    expect(config.AZURE_TOKEN_AUDIENCE).toBe("https://management.usgovcloudapi.net");
    expect(config.AZURE_CLOUD).toBe("AzureUSGovernment");
  });

  it("derives the endpoint, the audience and Key Vault's suffix from AZURE_CLOUD alone", () => {
    // Act
    const config = loadConfig({ AZURE_CLOUD: "AzureChinaCloud" });

    // Assert
    expect(config.AZURE_RESOURCE_MANAGER_ENDPOINT).toBe("https://management.chinacloudapi.cn");
    expect(config.AZURE_TOKEN_AUDIENCE).toBe("https://management.chinacloudapi.cn");
    expect(keyVaultHostsOf(config)).toEqual([".vault.azure.cn"]);
  });

  it("keeps explicit Key Vault suffixes over the cloud's", () => {
    const config = loadConfig({
      AZURE_CLOUD: "AzureUSGovernment",
      AZURE_KEY_VAULT_DNS_SUFFIXES: "kv.internal.example",
    });

    expect(keyVaultHostsOf(config)).toEqual(["kv.internal.example"]);
  });

  it("lets secrets live in any known cloud's Key Vault behind an endpoint of no known cloud", () => {
    const config = loadConfig({ AZURE_RESOURCE_MANAGER_ENDPOINT: "https://127.0.0.1:9443" });

    expect(config.AZURE_CLOUD).toBeUndefined();
    expect(config.AZURE_TOKEN_AUDIENCE).toBe("https://127.0.0.1:9443");
    expect(keyVaultHostsOf(config)).toContain(".vault.usgovcloudapi.net");
  });

  it("refuses an explicit audience of another cloud than the endpoint's, in one readable line", () => {
    // Act
    const act = () =>
      loadConfig({
        AZURE_RESOURCE_MANAGER_ENDPOINT: "https://management.chinacloudapi.cn",
        AZURE_TOKEN_AUDIENCE: "https://management.azure.com",
      });

    // Assert
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(
      /^Invalid settings: AZURE_TOKEN_AUDIENCE: AZURE_TOKEN_AUDIENCE https:\/\/management\.azure\.com is AzurePublicCloud's, but Resource Manager \(https:\/\/management\.chinacloudapi\.cn\) is AzureChinaCloud's[^\n]*$/,
    );
  });

  it("names the clouds it knows when AZURE_CLOUD is none of them", () => {
    expect(() => loadConfig({ AZURE_CLOUD: "AzureGermanCloud" })).toThrow(
      /AZURE_CLOUD must be one of AzurePublicCloud, AzureUSGovernment, AzureChinaCloud/,
    );
  });
});
