import { describe, expect, it } from "vitest";
import { serverLimitFactsOf } from "../../../../src/providers/azure/azureResourceDirectory.js";

describe("serverLimitFactsOf", () => {
  it("reads a Flexible Server replica's storage, role and primary", () => {
    const facts = serverLimitFactsOf("flexibleServers", {
      properties: {
        storage: { storageSizeGB: 512 },
        replicationRole: "AsyncReplica",
        sourceServerResourceId: "/subscriptions/s/resourceGroups/rg/providers/x/pg-main",
      },
    });

    expect(facts).toEqual({
      storageSizeGiB: 512,
      replicationRole: "AsyncReplica",
      primaryServerId: "/subscriptions/s/resourceGroups/rg/providers/x/pg-main",
    });
  });

  it("reads a Single Server's storage from megabytes", () => {
    const facts = serverLimitFactsOf("servers", {
      properties: { storageProfile: { storageMB: 5120 }, replicationRole: "None" },
    });

    expect(facts).toEqual({ storageSizeGiB: 5, replicationRole: "None" });
  });

  it("states nothing of an answer without properties", () => {
    expect(serverLimitFactsOf("flexibleServers", {})).toEqual({});
  });
});
