import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromServer } from "../../../../src/application/protectionChecks.js";
import {
  protectDatasource,
  type ProtectDatasourceInput,
  type ProtectDatasourceOutput,
} from "../../../../src/orchestrations/protectDatasource.js";
import { type AzureServices } from "../../../../src/providers/azure/azureServices.js";
import { ArmRequestThrottle } from "../../../../src/providers/azure/throttling.js";
import type { PublishedEvent } from "../../../../src/providers/ports.js";
import {
  createDefaultPolicy,
  assignVaultRoles,
  azureServicesAgainst,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import {
  activitiesOver,
  runOrchestration,
  type RunnableActivities,
} from "../../../support/fakeArm/orchestrationRunner.js";

/** Buckets ten times faster than Resource Manager's and twenty times smaller: same shape, short test. */
const SERVICE_LIMITS = {
  reads: { burst: 50, refillPerSecond: 500 },
  writes: { burst: 10, refillPerSecond: 100 },
};
const SERVERS = 40;
const RETRY_AFTER_SCALE = 0.05;

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
    const services = azureServicesAgainst(fake, {
      services: {
        throttling: { retryAfterScale: RETRY_AFTER_SCALE },
        // The app's buckets under the service's, as in production. At ten times Resource
        // Manager's rates a token lasts 10 ms, so the margin is wider than production needs:
        // requests sent evenly can reach the fake bunched by a few milliseconds on a busy machine.
        throttle: new ArmRequestThrottle({
          limits: {
            reads: { burst: 35, refillPerSecond: 300 },
            writes: { burst: 8, refillPerSecond: 70 },
          },
        }),
      },
    });
    await createDefaultPolicy(services.backup, vaultId);
    const activities = activitiesOver(services);
    const before = fake.requests.length;
    // Other clients share the budget: the service refuses a few requests whatever the app does.
    fake.throttleNext(SERVERS / 10);

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
    // How many requests a busy machine bunches past the buckets depends on its speed; that the
    // app then waits as told and carries on does not. (Staying under the buckets is shown on a
    // virtual clock in dataProtectionClient.test.ts.)
    const refusals = requests.filter((r) => r.status === 429);
    expect(refusals.length).toBeGreaterThanOrEqual(SERVERS / 10);
    for (const refused of refusals) {
      expect(refused.clientRequestId).toBeDefined();
      const attempts = requests.filter(
        (r) => r.clientRequestId === refused.clientRequestId && r.at > refused.at,
      );
      // Less a millisecond: the two sides read clocks of millisecond grain.
      expect(attempts[0]?.at).toBeGreaterThanOrEqual(
        refused.at + (refused.retryAfterSeconds ?? 1) * 1000 * RETRY_AFTER_SCALE - 1,
      );
      expect(attempts.some((r) => r.status !== 429)).toBe(true);
    }
    expect(fake.violations).toEqual([]);
  });
});

/**
 * What a fan-out over many servers costs Resource Manager per server: the requests here are the
 * ones the fan-out benchmark (`bench/azureFanOut.bench.ts`) multiplies by hundreds.
 */
describe("a fan-out of protections on the Azure provider against the fake Resource Manager", () => {
  const serverNames = ["pg-fleet-a", "pg-fleet-b", "pg-fleet-c"];
  let fake: FakeArm;
  let services: AzureServices;
  let vaultId: string;
  const published: PublishedEvent[] = [];
  let activities: RunnableActivities;

  beforeAll(async () => {
    // The service's documented behaviour: a validation that ends within its Retry-After, a PUT
    // answered 201 with the instance provisioned.
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      retryAfterSeconds: 10,
      operationTimeScale: 0.005,
      backupInstancePut: "201",
    });
    vaultId = fake.addVault("rg-backup", "vault-fleet");
    for (const name of serverNames) {
      assignVaultRoles(
        fake,
        fake.addPostgresServer({ resourceGroup: "rg-fleet", name, kind: "flexibleServers" }),
      );
    }
    services = azureServicesAgainst(fake, {
      services: { polling: { retryAfterScale: 0.005, intervalInMs: 5 } },
    });
    await createDefaultPolicy(services.backup, vaultId);
    activities = activitiesOver(services, { published });
  });

  useFakeArmContractCheck(() => fake);

  it("protects servers listed once with one policy read, one status read per validation and no instance read", async () => {
    // Arrange: the fan-out's one listing.
    const fleet = (await services.directory.listServers()).map(fromServer);
    const before = fake.requests.length;

    // Act
    const runs = await Promise.all(
      fleet.map((datasource) =>
        runOrchestration<ProtectDatasourceOutput>(
          protectDatasource,
          {
            datasource: { datasourceId: datasource.datasourceId },
            resolved: datasource,
            vaultId,
            policyName: "weekly",
          } satisfies ProtectDatasourceInput,
          activities,
        ),
      ),
    );

    // Assert
    expect(runs.map((run) => run.output.outcome)).toEqual(serverNames.map(() => "Protected"));
    const sent = fake.requests.slice(before).map((r) => r.operationId);
    const count = (predicate: (operationId: string) => boolean) => sent.filter(predicate).length;
    expect(count((op) => op === "Resources")).toBe(0);
    expect(count((op) => op === "BackupPolicies_Get")).toBeLessThanOrEqual(1);
    expect(count((op) => op === "BackupInstances_Get")).toBe(0);
    expect(count((op) => op.startsWith("OperationStatus"))).toBe(serverNames.length);
    expect(count((op) => op === "BackupInstances_ValidateForBackup")).toBe(serverNames.length);
    expect(count((op) => op === "BackupInstances_CreateOrUpdate")).toBe(serverNames.length);
    const configured = published.filter((e) => e.type === "PgProtect.Protection.Configured");
    expect(configured.map((e) => e.subject).sort()).toEqual(
      fleet.map((datasource) => datasource.datasourceId).sort(),
    );
  });
});
