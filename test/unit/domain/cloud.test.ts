import { describe, expect, it } from "vitest";
import { cloudOfUrl, clouds, resolveCloudSettings } from "../../../src/domain/cloud.js";

describe("the cloud table", () => {
  it("derives the endpoint and the audience of the cloud named, when nothing else is set", () => {
    // Act
    const resolved = resolveCloudSettings({ cloud: "AzureChinaCloud" });

    // Assert
    expect(resolved).toEqual({
      ok: true,
      value: {
        cloud: clouds.AzureChinaCloud,
        resourceManagerEndpoint: "https://management.chinacloudapi.cn",
        tokenAudience: "https://management.chinacloudapi.cn",
      },
    });
  });

  it("takes the cloud and the audience from the Resource Manager endpoint alone", () => {
    // Act
    const resolved = resolveCloudSettings({
      resourceManagerEndpoint: "https://management.usgovcloudapi.net/",
    });

    // Assert
    expect(resolved.ok && resolved.value.cloud?.name).toBe("AzureUSGovernment");
    expect(resolved.ok && resolved.value.tokenAudience).toBe(
      "https://management.usgovcloudapi.net",
    );
  });

  it("is the public cloud when nothing is set", () => {
    const resolved = resolveCloudSettings({});

    expect(resolved.ok && resolved.value).toEqual({
      cloud: clouds.AzurePublicCloud,
      resourceManagerEndpoint: "https://management.azure.com",
      tokenAudience: "https://management.azure.com",
    });
  });

  it("takes an endpoint of no known cloud as it is, its audience the endpoint itself", () => {
    const resolved = resolveCloudSettings({ resourceManagerEndpoint: "https://127.0.0.1:8443" });

    expect(resolved.ok && resolved.value).toEqual({
      resourceManagerEndpoint: "https://127.0.0.1:8443",
      tokenAudience: "https://127.0.0.1:8443",
    });
  });

  it("accepts the classic service-management audience of the endpoint's own cloud", () => {
    const resolved = resolveCloudSettings({
      resourceManagerEndpoint: "https://management.chinacloudapi.cn",
      tokenAudience: "https://management.core.chinacloudapi.cn/",
    });

    expect(resolved.ok && resolved.value.tokenAudience).toBe(
      "https://management.core.chinacloudapi.cn",
    );
  });

  it("refuses an audience of another cloud than the endpoint's, naming both clouds", () => {
    // Act
    const resolved = resolveCloudSettings({
      resourceManagerEndpoint: "https://management.usgovcloudapi.net",
      tokenAudience: "https://management.azure.com",
    });

    // Assert
    expect(resolved.ok).toBe(false);
    expect(!resolved.ok && resolved.conflicts).toEqual([
      {
        setting: "AZURE_TOKEN_AUDIENCE",
        message: expect.stringMatching(
          /AZURE_TOKEN_AUDIENCE https:\/\/management\.azure\.com is AzurePublicCloud's, but Resource Manager \(https:\/\/management\.usgovcloudapi\.net\) is AzureUSGovernment's/,
        ),
      },
    ]);
  });

  it("refuses an endpoint of another cloud than AZURE_CLOUD", () => {
    const resolved = resolveCloudSettings({
      cloud: "AzureChinaCloud",
      resourceManagerEndpoint: "https://management.azure.com",
    });

    expect(!resolved.ok && resolved.conflicts.map((c) => c.setting)).toEqual([
      "AZURE_RESOURCE_MANAGER_ENDPOINT",
    ]);
  });

  it("knows no cloud of a URL that is none", () => {
    expect(cloudOfUrl("not a url")).toBeUndefined();
    expect(cloudOfUrl("https://MANAGEMENT.AZURE.COM/")?.name).toBe("AzurePublicCloud");
  });
});
