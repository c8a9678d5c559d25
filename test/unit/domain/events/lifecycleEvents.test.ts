import { describe, expect, it } from "vitest";
import {
  parsePgProtectEvent,
  protectionLifecycleEvent,
} from "../../../../src/domain/events/index.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import type { BackupInstance } from "../../../../src/domain/protection/types.js";

const vaultId =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.DataProtection/backupVaults/pgprotect-vault";
const instance: BackupInstance = {
  id: `${vaultId}/backupInstances/local-ledger-1`,
  name: "local-ledger-1",
  vaultName: "pgprotect-vault",
  friendlyName: "local/ledger",
  dataSourceInfo: {
    resourceId:
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.DBforPostgreSQL/servers/local/databases/ledger",
    datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    resourceName: "ledger",
    resourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    resourceLocation: "local",
  },
  policyId: `${vaultId}/backupPolicies/monthly`,
  protectionStatus: "ProtectionConfigured",
  provisioningState: "Succeeded",
  createdAt: "2026-11-01T00:00:00.000Z",
};
const options = { source: "/pgprotect/test", time: "2026-12-01T10:00:00Z" };

describe("the lifecycle events", () => {
  it("announces a change of policy with the policy before and after, and passes the app's own validation", () => {
    // Act
    const event = protectionLifecycleEvent(
      {
        action: "changePolicy",
        instance,
        state: "ProtectionConfigured",
        previousPolicyId: `${vaultId}/backupPolicies/weekly`,
        operationId: "lifecycle-local-ledger-1-abc",
        requestedBy: "alice",
      },
      options,
    );

    // Assert
    expect(event.type).toBe("PgProtect.Protection.PolicyChanged");
    expect(event.subject).toBe(instance.dataSourceInfo.resourceId);
    expect(event.data).toMatchObject({
      action: "changePolicy",
      policyName: "monthly",
      previousPolicyName: "weekly",
      protectionState: "ProtectionConfigured",
      requestedBy: "alice",
    });
    expect(parsePgProtectEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
    expect(describeEvent(event)).toMatchObject({ title: "Policy changed", isFailure: false });
  });

  it("gives the same fact the same id and another operation's fact another", () => {
    // Arrange
    const fact = {
      action: "stop" as const,
      instance,
      state: "ProtectionStopped",
      operationId: "lifecycle-local-ledger-1-abc",
    };

    // Act
    const first = protectionLifecycleEvent(fact, options);
    const replayed = protectionLifecycleEvent(fact, options);
    const later = protectionLifecycleEvent({ ...fact, operationId: "lifecycle-other" }, options);

    // Assert
    expect(first.type).toBe("PgProtect.Protection.Stopped");
    expect(replayed.id).toBe(first.id);
    expect(later.id).not.toBe(first.id);
  });
});
