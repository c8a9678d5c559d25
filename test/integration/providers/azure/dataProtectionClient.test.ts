import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { defaultPolicyTemplate } from "../../../../src/domain/policy/template.js";
import { createAzureBackupService } from "../../../../src/providers/azure/azureBackupService.js";
import {
  backupInstanceSpecFor,
  toArmBackupInstance,
} from "../../../../src/providers/azure/backupInstanceBuilder.js";
import {
  API_VERSION,
  createDataProtectionClient,
  isUnexpected,
  listAll,
  pollLongRunningOperation,
  type BackupVaultResourceOutput,
  type DataProtectionClient,
  type OperationJobExtendedInfoOutput,
} from "../../../../src/providers/azure/dataProtection/index.js";
import { ArmRequestThrottle } from "../../../../src/providers/azure/throttling.js";
import {
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../../../support/fakeArm/index.js";
import { useFakeArmContractCheck } from "../../../support/fakeArm/hooks.js";
import { QuiescentClock } from "../../../support/fakeArm/virtualClock.js";
import { rejection } from "../../../support/appError.js";
import { createEventLogger, type LogRecord } from "../../../../src/observability/eventLogger.js";

const RGP =
  "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection" as const;
const flexId = (name: string) =>
  `/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL/flexibleServers/${name}`;

describe("the Data Protection client against the fake Resource Manager", () => {
  let fake: FakeArm;
  let client: DataProtectionClient;
  let vaultId: string;
  /** Starts validating the protection of a Flexible Server in `vault-a`: a long-running operation. */
  const startValidation = (serverName: string, policyId = `${vaultId}/backupPolicies/weekly`) =>
    client
      .path(
        `${RGP}/backupVaults/{vaultName}/validateForBackup`,
        FAKE_SUBSCRIPTION_ID,
        "rg-a",
        "vault-a",
      )
      .post({
        body: {
          backupInstance: toArmBackupInstance(
            backupInstanceSpecFor({
              datasourceId: flexId(serverName),
              location: "westus",
              policyId,
            }),
          ),
        },
      });

  beforeAll(async () => {
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID });
    client = createDataProtectionClient(fakeArmCredential(), {
      endpoint: fake.url,
      tlsOptions: { ca: fake.ca },
      throttling: { retryAfterScale: 0.01 },
    });
    vaultId = fake.addVault("rg-a", "vault-a");
    fake.addVault("rg-a", "vault-b");
    fake.addVault("rg-b", "vault-c");
  });

  useFakeArmContractCheck(() => fake);

  it("reads a vault with the pinned api-version and a bearer token for the configured audience", async () => {
    // Act
    const response = await client
      .path(`${RGP}/backupVaults/{vaultName}`, FAKE_SUBSCRIPTION_ID, "rg-a", "vault-a")
      .get();

    // Assert
    if (isUnexpected(response)) throw new Error(response.body.error?.message);
    expect(response.body).toMatchObject({
      id: vaultId,
      type: "Microsoft.DataProtection/Backupvaults",
      location: "westus",
    });
    expect(new URL(response.request.url).searchParams.get("api-version")).toBe(API_VERSION);
  });

  it("lists vaults of a resource group and of the subscription across nextLink pages", async () => {
    const inGroup = await client.path(`${RGP}/backupVaults`, FAKE_SUBSCRIPTION_ID, "rg-a").get();
    const inSubscription = await client
      .path(
        "/subscriptions/{subscriptionId}/providers/Microsoft.DataProtection/backupVaults",
        FAKE_SUBSCRIPTION_ID,
      )
      .get();

    const groupVaults = await listAll<BackupVaultResourceOutput>(client, inGroup, "Listing vaults");
    const allVaults = await listAll<BackupVaultResourceOutput>(
      client,
      inSubscription,
      "Listing vaults",
    );

    expect(groupVaults.map((v) => v.name)).toEqual(["vault-a", "vault-b"]);
    expect(allVaults.map((v) => v.name)).toEqual(["vault-a", "vault-b", "vault-c"]);
    // Page size 2: the subscription list took a second page.
    expect(fake.requestsOf("BackupVaults_GetInSubscription")).toHaveLength(2);
  });

  it("narrows an error answer with isUnexpected and keeps the service's error body", async () => {
    const response = await client
      .path(`${RGP}/backupVaults/{vaultName}`, FAKE_SUBSCRIPTION_ID, "rg-a", "missing")
      .get();

    expect(isUnexpected(response)).toBe(true);
    if (isUnexpected(response)) expect(response.body.error?.code).toBe("ResourceNotFound");
  });

  it("follows validateForBackup through Inprogress and InProgress to the job in its Location result", async () => {
    // Arrange
    const put = await client
      .path(
        `${RGP}/backupVaults/{vaultName}/backupPolicies/{backupPolicyName}`,
        FAKE_SUBSCRIPTION_ID,
        "rg-a",
        "vault-a",
        "weekly",
      )
      .put({
        body: {
          properties: {
            ...defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
            name: undefined,
          },
        },
      });
    if (isUnexpected(put)) throw new Error(put.body.error?.message);
    const initial = await startValidation("pg-lro", put.body.id ?? "");

    // Act
    const outcome = await pollLongRunningOperation<OperationJobExtendedInfoOutput>(
      client,
      initial,
      { retryAfterScale: 0.01 },
    );

    // Assert
    expect(initial.status).toBe("202");
    expect(outcome.status).toBe("succeeded");
    expect(outcome.result).toMatchObject({ objectType: "OperationJobExtendedInfo" });
    expect(outcome.result?.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requestsOf("OperationResult_Get")).toHaveLength(1);
  });

  it("reads the result from the status monitor when told the result is there", async () => {
    const initial = await startValidation("pg-lro2");
    const resultReads = fake.requestsOf("OperationResult_Get").length;

    const outcome = await pollLongRunningOperation<{
      status?: string;
      properties?: { jobId?: string };
    }>(client, initial, {
      retryAfterScale: 0.01,
      resourceLocationConfig: "azure-async-operation",
    });

    expect(outcome.lastStatus?.status).toBe("Succeeded");
    expect(outcome.lastStatus?.properties?.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requestsOf("OperationResult_Get")).toHaveLength(resultReads);
  });

  it("reports a failed operation as failed with the service's error, without throwing", async () => {
    fake.denyPermissions(flexId("pg-denied"), "no authorization over scope");
    const initial = await startValidation("pg-denied");

    const outcome = await pollLongRunningOperation(client, initial, { retryAfterScale: 0.01 });

    expect(outcome.status).toBe("failed");
    expect(outcome.lastStatus?.error?.code).toBe("UserErrorMissingRequiredPermissions");
  });

  it("is refused without the right token", async () => {
    const stranger = createDataProtectionClient(fakeArmCredential("someone-else"), {
      endpoint: fake.url,
      tlsOptions: { ca: fake.ca },
    });

    const response = await stranger
      .path(`${RGP}/backupVaults/{vaultName}`, FAKE_SUBSCRIPTION_ID, "rg-a", "vault-a")
      .get();

    expect(response.status).toBe("401");
  });
});

describe("a fan-out against Resource Manager's token buckets", () => {
  let fake: FakeArm;
  // The app's throttle and the fake's buckets share a clock that stands still while requests
  // travel, so a busy machine cannot bunch requests the app spaced out.
  let clock: QuiescentClock;

  const RETRY_AFTER_SCALE = 0.05;

  /** Buckets far smaller than Resource Manager's keep the test fast and the shape the same. */
  const serviceLimits = {
    reads: { burst: 100, refillPerSecond: 1000 },
    writes: { burst: 5, refillPerSecond: 50 },
  };

  async function fanOut(throttle: ArmRequestThrottle, count: number) {
    const vaultId = fake.addVault("rg-fan", "vault-fan");
    const service = createAzureBackupService({
      credential: fakeArmCredential(),
      client: {
        endpoint: fake.url,
        tlsOptions: { ca: fake.ca },
        throttling: { retryAfterScale: RETRY_AFTER_SCALE },
      },
      throttle,
    });
    const policy = defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer");
    const results = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        clock.run(() => service.createPolicy(vaultId, `p${i}`, policy)),
      ),
    );
    const writes = fake.requests.filter((r) => r.method === "PUT");
    const refusals = writes
      .filter((r) => r.status === 429)
      .map((r) => ({
        ...r,
        retry: writes.find((w) => w.clientRequestId === r.clientRequestId && w.at > r.at),
      }));
    return {
      refusals,
      failures: results.filter((r) => r.status === "rejected"),
      throttled: writes.filter((r) => r.status === 429).length,
      created: writes.filter((r) => r.status === 200).length,
    };
  }

  beforeEach(async () => {
    clock = new QuiescentClock();
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      limits: serviceLimits,
      clock,
    });
  });

  afterEach(async () => {
    await fake.stop();
    expect(fake.violations).toEqual([]);
  });

  it("slows down instead of failing when the service's budget is smaller than the app believes", async () => {
    // Arrange: the app believes in a 200-request burst, the service has 5 left.
    const throttle = new ArmRequestThrottle({
      limits: { writes: { burst: 200, refillPerSecond: 50 } },
      clock,
    });

    // Act
    const outcome = await fanOut(throttle, 60);

    // Assert
    expect(outcome.failures).toEqual([]);
    expect(outcome.created).toBe(60);
    // 55 writes beyond the service's burst at 50 per second: at least 1.1 s, whatever the app believed.
    expect(clock.now()).toBeGreaterThanOrEqual(1100);
    // Every refused request was sent again only after the Retry-After it was given.
    expect(outcome.refusals.length).toBeGreaterThan(0);
    for (const refused of outcome.refusals) {
      expect(refused.clientRequestId).toBeDefined();
      expect(refused.retry?.at).toBeGreaterThanOrEqual(
        refused.at + (refused.retryAfterSeconds ?? 0) * 1000 * RETRY_AFTER_SCALE,
      );
    }
  });

  it("is never throttled when it knows the limits", async () => {
    // Arrange: the app's buckets a little under the service's.
    const throttle = new ArmRequestThrottle({
      limits: { writes: { burst: 4, refillPerSecond: 45 } },
      clock,
    });

    // Act
    const outcome = await fanOut(throttle, 60);

    // Assert
    expect(outcome.failures).toEqual([]);
    expect(outcome.created).toBe(60);
    expect(outcome.throttled).toBe(0);
    // 56 writes beyond the app's burst at 45 per second.
    expect(clock.now()).toBeGreaterThanOrEqual((56 / 45) * 1000);
  });
});

describe("a request Resource Manager keeps throttling with a long Retry-After", () => {
  let fake: FakeArm;
  // Virtual time: the Retry-Afters are waited on the clock, not on the wall.
  let clock: QuiescentClock;

  beforeEach(async () => {
    clock = new QuiescentClock();
    fake = await FakeArm.start({ subscriptionId: FAKE_SUBSCRIPTION_ID, clock });
  });

  afterEach(async () => {
    await fake.stop();
    expect(fake.violations).toEqual([]);
  });

  it("stops waiting after a minute in all and fails retryably with the service's 429", async () => {
    // Arrange: every answer asks for another 30 s.
    const vaultId = fake.addVault("rg-slow", "vault-slow");
    const service = createAzureBackupService({
      credential: fakeArmCredential(),
      client: { endpoint: fake.url, tlsOptions: { ca: fake.ca } },
      throttle: new ArmRequestThrottle({ clock }),
      log: createEventLogger((record) => events.push(record)),
    });
    const events: LogRecord[] = [];
    fake.throttleNext(20, 30);
    const before = fake.requests.length;

    // Act
    const failure = await rejection(clock.run(() => service.getVault(vaultId)));

    // Assert
    expect(failure).toMatchObject({ httpStatus: 429, retryable: true });
    // Sent at 0 s, 30 s and 60 s; a third wait would pass the minute, so nothing more is sent.
    expect(fake.requests.slice(before).map((r) => r.status)).toEqual([429, 429, 429]);
    expect(clock.now()).toBe(60_000);
    expect(events.map((e) => e.event.name)).toEqual([
      "PgProtect.Azure.Throttled",
      "PgProtect.Azure.Throttled",
      "PgProtect.Azure.ThrottlingGaveUp",
    ]);
    expect(events.at(-1)?.properties).toMatchObject({
      method: "GET",
      status: 429,
      waitedMs: 60_000,
      maxWaitMs: 60_000,
    });
  });
});
