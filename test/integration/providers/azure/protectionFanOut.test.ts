import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createActivities } from "../../../../src/activities/createActivities.js";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import {
  protectDatasource,
  type ProtectDatasourceOutput,
} from "../../../../src/orchestrations/protectDatasource.js";
import { createAzureServices } from "../../../../src/providers/azure/azureServices.js";
import { ArmRequestThrottle } from "../../../../src/providers/azure/throttling.js";
import {
  assignVaultRoles,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";
import { runOrchestration } from "../../../support/fakeArm/orchestrationRunner.js";

/** Buckets ten times faster than Resource Manager's and twenty times smaller: same shape, short test. */
const SERVICE_LIMITS = {
  reads: { burst: 50, refillPerSecond: 500 },
  writes: { burst: 10, refillPerSecond: 100 },
};
const SERVERS = 40;

describe("protecting many Flexible Servers at once against Resource Manager's token buckets", () => {
  let fake: FakeArm;

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, limits: SERVICE_LIMITS });
  });

  afterAll(async () => {
    await fake.stop();
  });

  it("protects every server, with no failure and at most four writes per server", async () => {
    // Arrange
    const vaultId = fake.addVault("rg-backup", "vault-fleet");
    const names = Array.from(
      { length: SERVERS },
      (_, i) => `pg-fleet-${String(i).padStart(3, "0")}`,
    );
    // The vault's identity holds its roles already, so the writes counted are protection's own.
    for (const name of names) {
      assignVaultRoles(
        fake,
        fake.addPostgresServer({ resourceGroup: "rg-db", name, kind: "flexibleServers" }),
      );
    }
    const services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: fake.url,
      },
      fakeArmCredential(),
      {
        tlsOptions: { ca: fake.ca },
        polling: { retryAfterScale: 0.01, intervalInMs: 5 },
        throttling: { retryAfterScale: 0.05 },
        // The app's buckets under the service's, as in production; protection is read-bound since
        // it writes only the validation and the PUT, so the reads keep a wider margin.
        throttle: new ArmRequestThrottle({
          limits: {
            reads: { burst: 40, refillPerSecond: 400 },
            writes: { burst: 9, refillPerSecond: 90 },
          },
        }),
      },
    );
    await services.backup.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );
    const activities = createActivities({
      provider: services,
      events: { publish: async () => undefined },
      eventSource: "/pgprotect/test",
    }) as unknown as Record<string, (input: never) => Promise<unknown>>;
    const before = fake.requests.length;

    // Act
    const results = await Promise.allSettled(
      names.map((serverName) =>
        runOrchestration<ProtectDatasourceOutput>(
          protectDatasource,
          { datasource: { serverName }, vaultId, policyName: "weekly" },
          activities,
        ),
      ),
    );

    // Assert
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const outcomes = results.map((r) =>
      r.status === "fulfilled" ? r.value.output.outcome : "rejected",
    );
    expect(outcomes).toEqual(names.map(() => "Protected"));
    const requests = fake.requests.slice(before);
    const writes = requests.filter(
      (r) => r.method !== "GET" && r.operationId !== "Resources" && r.status !== 429,
    );
    expect(writes.length).toBeLessThanOrEqual(4 * SERVERS);
    // The client kept under the buckets: hardly any request was refused.
    expect(requests.filter((r) => r.status === 429).length).toBeLessThanOrEqual(SERVERS / 10);
    expect(fake.violations).toEqual([]);
  });
});
