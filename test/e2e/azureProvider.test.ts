import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyTemplate } from "../../src/domain/policy/template.js";
import { validationRetry } from "../../src/orchestrations/retryPolicies.js";
import type { AzureServices } from "../../src/providers/azure/azureServices.js";
import { backupInstanceSpecFor } from "../../src/providers/azure/backupInstanceBuilder.js";
import type { RunningHost } from "@pgprotect/functions-runtime";
import { ARM_AUDIENCE, startAzureApp, type AzureApp } from "../support/azureApp.js";
import {
  assignVaultRoles,
  azureServicesAgainst,
  createDefaultPolicy,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  FakeKeyVault,
  fakeArmCredential,
} from "../support/fakeArm/index.js";
import { FakeManagedIdentity } from "../support/fakeArm/fakeManagedIdentity.js";
import {
  smtpEmailSettings,
  startSmtpServer,
  type ReceivedMail,
  type TestSmtpServer,
} from "../support/notificationServers.js";
import { poll } from "../support/poll.js";
import { functionsApi } from "../support/functionsApi.js";

/** The token the fake identity endpoint hands out and the fake Resource Manager accepts. */
const TOKEN = "token-from-managed-identity";

type Body = Record<string, unknown>;

/** The test's own view of a fake, through the app's adapters, to arrange and to check. */
function azureViewOf(fake: FakeArm): AzureServices {
  return azureServicesAgainst(fake, {
    credential: fakeArmCredential(TOKEN),
    settings: { AZURE_TOKEN_AUDIENCE: ARM_AUDIENCE },
  });
}

/** The next Sunday 22:00 UTC strictly after `now`: what a "Sunday 22:00 UTC" policy runs next. */
function nextSunday2200(now: Date): string {
  const candidate = new Date(
    Date.UTC(
      now.getUTCFullYear(),
      now.getUTCMonth(),
      now.getUTCDate() + ((7 - now.getUTCDay()) % 7),
      22,
    ),
  );
  if (candidate.getTime() <= now.getTime()) candidate.setUTCDate(candidate.getUTCDate() + 7);
  return candidate.toISOString();
}

describe("the core flows through the HTTP API on the Azure provider, against fake Azure endpoints", () => {
  let app: AzureApp;
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let keyVault: FakeKeyVault;
  let keyVaultId: string;
  let smtp: TestSmtpServer;
  let host: RunningHost;
  /** The test's own view of the fake, through the same adapters, to arrange and to check. */
  let azure: AzureServices;
  let vaultId: string;
  const servers: Record<string, string> = {};
  const hostLog: string[] = [];
  let instanceName: string;

  const api = functionsApi(() => host);
  const followProtection = (id: unknown) =>
    poll(
      () => api("GET", `protections/${String(id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
  const protect = async (body: Body) => {
    const started = await api("POST", "protections", body);
    expect(started.status).toBe(202);
    return followProtection(started.body.id);
  };
  /** The first mail (already received or still to come) that `matches`; fails after the deadline. */
  const mailMatching = async (matches: (mail: ReceivedMail) => boolean, timeoutMs = 20_000) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no matching mail arrived")), timeoutMs);
    });
    try {
      for (;;) {
        const found = smtp.received.find(matches);
        if (found) return found;
        await Promise.race([smtp.next(), deadline]);
      }
    } finally {
      clearTimeout(timer);
    }
  };
  const validationsOf = (datasourceId: string) =>
    fake
      .requestsOf("BackupInstances_ValidateForBackup")
      .filter(
        (r) =>
          (r.body as { backupInstance?: { dataSourceInfo?: { resourceID?: string } } })
            .backupInstance?.dataSourceInfo?.resourceID === datasourceId,
      );

  const spec = {
    datasourceType: "AzureDatabaseForPostgreSQLFlexibleServer",
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M", monthly: { vault: "P12M" } },
  };

  beforeAll(async () => {
    // Retry-After 0: the app honours the service's wait, and the fake asks for none.
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      token: TOKEN,
      retryAfterSeconds: 0,
    });
    identity = await FakeManagedIdentity.start(TOKEN);
    keyVault = await FakeKeyVault.start(TOKEN);
    smtp = await startSmtpServer();

    vaultId = fake.addVault("rg-backup", "vault-pg");
    for (const name of [
      "pg-sales",
      "pg-billing",
      "pg-locked",
      "pg-shared",
      "pg-portal",
      "pg-reports",
    ]) {
      servers[name] = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name,
        kind: "flexibleServers",
      });
    }
    // In a resource group where the vault's identity was given nothing.
    servers["pg-unassigned"] = fake.addPostgresServer({
      resourceGroup: "rg-unassigned",
      name: "pg-unassigned",
      kind: "flexibleServers",
    });
    servers["pg-legacy"] = fake.addPostgresServer({
      resourceGroup: "rg-db",
      name: "pg-legacy",
      kind: "servers",
      databases: ["hr"],
    });
    // The vault's identity holds its roles everywhere; on pg-locked the service still refuses,
    // as it does while a new assignment has not applied yet.
    for (const [name, id] of Object.entries(servers)) {
      if (name !== "pg-unassigned") assignVaultRoles(fake, id);
    }
    // The fake Key Vault as Resource Graph shows it: an RBAC key vault whose secrets the vault's
    // identity may read.
    keyVaultId = fake.addKeyVault({
      resourceGroup: "rg-db",
      name: "kv-legacy",
      rbac: true,
      vaultUri: `${keyVault.url}/`,
    });
    assignVaultRoles(fake, `${servers["pg-legacy"] ?? ""}/databases/hr`, keyVaultId);
    fake.denyPermissions(
      servers["pg-locked"] ?? "",
      "The vault's identity has no 'PostgreSQL Flexible Server Long Term Retention Backup Role' on pg-locked",
    );
    azure = azureViewOf(fake);
    // Protected outside the app: pg-portal in a vault the app's identity can read (as from the
    // portal), pg-shared by another team in a vault it cannot read.
    for (const [server, vault] of [
      ["pg-portal", fake.addVault("rg-backup", "vault-portal")],
      ["pg-shared", fake.addVault("rg-other-team", "vault-other")],
    ] as const) {
      const policyId = await createDefaultPolicy(azure.backup, vault);
      await azure.backup.createBackupInstance(
        vault,
        `${server}-${server}-0b7c1e52-93a1-4d7e-8c43-5a1f9d2e6b70`,
        backupInstanceSpecFor({
          datasourceId: servers[server] ?? "",
          location: "westus",
          policyId,
        }),
      );
      if (server === "pg-shared") fake.hideFromDatasourceListing(vault);
    }

    app = await startAzureApp({
      name: "e2e-azure",
      fake,
      identity,
      vaultIds: vaultId,
      trust: [keyVault.ca],
      log: (line) => hostLog.push(line),
      settings: {
        // The fake Key Vault's host, and no other: secret URIs elsewhere are still refused.
        AZURE_KEY_VAULT_DNS_SUFFIXES: "127.0.0.1",
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: [{ id: "dba-email", type: "email", to: ["dba@contoso.example"] }],
          rules: [
            {
              name: "protection-failures",
              match: { eventTypes: ["PgProtect.Protection.Failed"] },
              channels: ["dba-email"],
            },
            {
              name: "finished-backups",
              match: {
                eventTypes: ["PgProtect.Backup.JobStateChanged"],
                jobStatuses: ["Completed"],
              },
              channels: ["dba-email"],
            },
          ],
        }),
        ...smtpEmailSettings(smtp),
      },
    });
    host = app.host;
  }, 60_000);

  afterEach(() => {
    // Every request the app sent and every answer the fake gave kept the OpenAPI contract.
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await app?.stop();
    await smtp?.close();
    await keyVault?.stop();
    await identity?.stop();
    await fake?.stop();
  });

  it("creates a policy in the vault from a short spec, answers the same spec again with it, and refuses to change it in place", async () => {
    const created = await api("PUT", "vaults/vault-pg/policies/weekly-keep", { spec });
    const again = await api("PUT", "vaults/vault-pg/policies/weekly-keep", { spec });
    const changed = await api("PUT", "vaults/vault-pg/policies/weekly-keep", {
      spec: { ...spec, retention: { default: "P6M" } },
    });
    const listed = await api("GET", "vaults/vault-pg/policies");

    expect(created.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe("POLICY_UPDATE_NOT_SUPPORTED");
    expect(String(changed.body.recommendedAction)).toContain("new policy");
    expect((listed.body.value as Body[]).map((p) => p.name)).toEqual(["weekly-keep"]);
    expect((await azure.backup.getPolicy(vaultId, "weekly-keep")).id).toBe(
      `${vaultId}/backupPolicies/weekly-keep`,
    );
  });

  it("protects a Flexible Server by name with the app's managed identity: every step done, one backup instance, listed with its next backup", async () => {
    const started = await api("POST", "protections", {
      serverName: "pg-sales",
      policyName: "weekly-keep",
    });

    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(started.body.statusUrl);
    expect(started.body.datasourceId).toBe(servers["pg-sales"]);
    const done = await followProtection(started.body.id);
    expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected", error: null });
    expect((done.body.steps as { status: string }[]).every((s) => s.status === "done")).toBe(true);
    instanceName = String(done.body.backupInstanceName);
    expect(instanceName).toMatch(/^pg-sales-pg-sales-[0-9a-f-]{36}$/);
    const instances = await azure.backup.listBackupInstances(vaultId);
    expect(instances.map((i) => [i.name, i.friendlyName, i.protectionStatus])).toEqual([
      [instanceName, "pg-sales", "ProtectionConfigured"],
    ]);
    const listed = await api("GET", "backup-instances");
    expect(listed.body.value).toEqual([
      expect.objectContaining({
        name: instanceName,
        friendlyName: "pg-sales",
        vaultName: "vault-pg",
        kind: "server",
        protectionStatus: "ProtectionConfigured",
        policy: expect.objectContaining({ name: "weekly-keep" }),
        lastSuccessfulBackup: null,
        nextScheduledBackup: nextSunday2200(new Date()),
      }),
    ]);
    // The app asked the managed identity for Resource Manager tokens, and never called without one.
    expect(identity.requests.map((r) => r.resource)).toContain(ARM_AUDIENCE);
    expect(fake.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it("returns the same operation when asked again, and never makes a second backup instance", async () => {
    const again = await api("POST", "protections", {
      serverName: "pg-sales",
      policyName: "weekly-keep",
    });

    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ existing: true, status: "Completed" });
    expect(await azure.backup.listBackupInstances(vaultId)).toHaveLength(1);
  });

  it("creates one backup instance when the same protection is requested ten times at once", async () => {
    const body = { serverName: "pg-billing", policyName: "weekly-keep" };

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api("POST", "protections", body)),
    );

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const done = await followProtection(answers[0]?.body.id);
    expect(done.body.outcome).toBe("Protected");
    const billing = (await azure.backup.listBackupInstances(vaultId)).filter(
      (i) => i.friendlyName === "pg-billing",
    );
    expect(billing).toHaveLength(1);
    expect(
      fake
        .requestsOf("BackupInstances_CreateOrUpdate")
        .filter((r) => r.path.includes("/pg-billing-")),
    ).toHaveLength(1);
  });

  it("answers a retention rule given as ruleName with 400 naming BackupWeekly, and starts no job", async () => {
    const response = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "Monthly",
    });
    const jobs = await api("GET", "jobs");

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      code: "ADHOC_RULE_IS_RETENTION_RULE",
      errors: [{ path: "$.ruleName" }],
    });
    expect(String(response.body.detail)).toContain("'BackupWeekly'");
    expect(jobs.body.value).toEqual([]);
    expect(fake.requestsOf("BackupInstances_AdhocBackup")).toEqual([]);
  });

  it("backs up on demand under the Monthly tag, followed to Completed through the jobs API, and emails the DBAs", async () => {
    const started = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
      retentionTagOverride: "Monthly",
    });

    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(started.body.statusUrl);
    expect(started.body).toMatchObject({
      ruleName: "BackupWeekly",
      retentionTag: "Monthly",
      status: "InProgress",
    });
    expect(String(started.body.jobId)).toContain(`${vaultId}/backupJobs/`);
    const done = await poll(
      () => api("GET", String(started.body.statusUrl)),
      (r) => r.status !== 200 || r.body.status !== "InProgress",
    );
    expect(done.body).toMatchObject({
      status: "Completed",
      operation: "OnDemandBackup",
      retentionTag: "Monthly",
      id: started.body.jobId,
    });
    const followed = await poll(
      () =>
        fetch(
          `${host.url}/runtime/webhooks/durabletask/instances/${String(started.body.operationId)}`,
          {
            headers: { "x-functions-key": host.keys.systemKeys.durabletask_extension },
          },
        ).then((r) => r.json() as Promise<Body>),
      (r) => r.runtimeStatus === "Completed" || r.runtimeStatus === "Failed",
    );
    expect(followed).toMatchObject({
      runtimeStatus: "Completed",
      output: { outcome: "Completed", jobId: started.body.jobId },
    });

    const jobQueries = () =>
      fake
        .requestsOf("Resources")
        .filter((r) => String((r.body as Body).query).startsWith("RecoveryServicesResources"));
    const [listsBefore, queriesBefore] = [fake.requestsOf("Jobs_List"), jobQueries()];
    const completed = await api("GET", "jobs?status=Completed");
    const inProgress = await api("GET", "jobs?status=InProgress");
    // The app's provider lists jobs through Resource Graph: one query a listing, no vault list.
    expect(fake.requestsOf("Jobs_List")).toHaveLength(listsBefore.length);
    expect(jobQueries().length - queriesBefore.length).toBe(2);
    const byArmId = await api("GET", `jobs${String(started.body.jobId)}`);
    const instance = await api("GET", `backup-instances/${instanceName}`);
    expect((completed.body.value as Body[]).map((j) => j.id)).toEqual([started.body.jobId]);
    expect(inProgress.body.value).toEqual([]);
    expect(byArmId.body).toMatchObject({ id: started.body.jobId, status: "Completed" });
    expect(instance.body.lastSuccessfulBackup).toMatchObject({
      jobId: started.body.jobId,
      retentionTag: "Monthly",
      recoveryPointId: expect.any(String),
    });
    expect(instance.body.recoveryPointCount).toBe(1);

    const mail = await mailMatching((m) => m.subject.includes("Backup completed"));
    await host.topics.whenIdle();
    expect(mail.recipients).toEqual(["dba@contoso.example"]);
    expect(mail.mailFrom).toBe("pgprotect@contoso.example");
    expect(mail.subject).toContain("pg-sales");
    expect(mail.text).toContain(String(started.body.jobName));
    expect(smtp.received.filter((m) => m.subject.includes("Backup completed"))).toHaveLength(1);
  });

  it("refuses a second backup of the Flexible Server that week with a 409 problem and what to do, and starts no job", async () => {
    const response = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    const jobs = await api("GET", "jobs");

    expect(response.status).toBe(409);
    expect(response.body.code).toBe("BACKUP_LIMIT_PER_WEEK_REACHED");
    expect(String(response.body.recommendedAction)).toMatch(/^Wait until /);
    expect(jobs.body.value as Body[]).toHaveLength(1);
    expect(fake.requestsOf("BackupInstances_AdhocBackup")).toHaveLength(1);
  });

  describe("onboarding errors users meet", () => {
    it("fails a protection the vault's identity lacks roles for, after the validation retries, with the service's recommended action, and emails the DBAs", async () => {
      const datasourceId = servers["pg-locked"] ?? "";

      const done = await protect({ serverName: "pg-locked", policyName: "weekly-keep" });

      expect(done.body).toMatchObject({
        status: "Completed",
        outcome: "Failed",
        error: { code: "MISSING_REQUIRED_PERMISSIONS" },
      });
      expect(String((done.body.error as Body).recommendedAction)).toContain(
        "Grant appropriate permissions",
      );
      expect(done.body.steps as Body[]).toContainEqual(
        expect.objectContaining({ name: "validateForBackup", status: "failed" }),
      );
      // Role assignments take minutes to apply: the service was asked again before giving up.
      expect(validationsOf(datasourceId)).toHaveLength(validationRetry.attempts);
      expect(
        fake
          .requestsOf("BackupInstances_CreateOrUpdate")
          .filter((r) => r.path.includes("/pg-locked-")),
      ).toEqual([]);
      const mail = await mailMatching(
        (m) => m.subject.includes("Protection failed") && m.subject.includes("pg-locked"),
      );
      expect(mail.text).toContain("MISSING_REQUIRED_PERMISSIONS");
    });

    it("fails a protection naming each role the vault's identity does not hold and its scope, before asking the service", async () => {
      const datasourceId = servers["pg-unassigned"] ?? "";

      const done = await protect({ serverName: "pg-unassigned", policyName: "weekly-keep" });

      expect(done.body).toMatchObject({
        status: "Completed",
        outcome: "Failed",
        error: { code: "MISSING_REQUIRED_PERMISSIONS" },
      });
      const error = done.body.error as Body;
      expect(String(error.message)).toContain(
        `'PostgreSQL Flexible Server Long Term Retention Backup Role' on ${datasourceId}`,
      );
      expect(String(error.message)).toContain(
        `'Reader' on /subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg-unassigned`,
      );
      expect(String(error.recommendedAction)).toContain("AUTO_GRANT_ROLE_ASSIGNMENTS");
      expect(done.body.steps as Body[]).toContainEqual(
        expect.objectContaining({ name: "verifyAccess", status: "failed" }),
      );
      expect(validationsOf(datasourceId)).toEqual([]);
    });

    it("answers a server already protected outside the app, in a vault it can read, as AlreadyProtected by that backup instance, creating nothing", async () => {
      const validatedBefore = validationsOf(servers["pg-portal"] ?? "").length;

      const done = await protect({ serverName: "pg-portal", policyName: "weekly-keep" });

      expect(done.body).toMatchObject({
        status: "Completed",
        outcome: "AlreadyProtected",
        backupInstanceName: "pg-portal-pg-portal-0b7c1e52-93a1-4d7e-8c43-5a1f9d2e6b70",
        error: null,
      });
      expect(validationsOf(servers["pg-portal"] ?? "")).toHaveLength(validatedBefore);
      expect(
        (await azure.backup.listBackupInstances(vaultId)).map((i) => i.friendlyName),
      ).not.toContain("pg-portal");
    });

    it("fails a protection of a server another vault already protects with the service's code and recommended action, creating nothing", async () => {
      const done = await protect({ serverName: "pg-shared", policyName: "weekly-keep" });

      expect(done.body).toMatchObject({
        outcome: "Failed",
        error: {
          code: "DATASOURCE_ALREADY_PROTECTED",
          serviceCode: "UserErrorDppDatasourceAlreadyProtected",
        },
      });
      expect(String((done.body.error as Body).recommendedAction)).toContain(
        "Delete the backup instance",
      );
      expect(String((done.body.error as Body).message)).toContain("vault-other");
      expect(
        (await azure.backup.listBackupInstances(vaultId)).map((i) => i.friendlyName),
      ).not.toContain("pg-shared");
    });

    it("answers a server that does not exist with a 404 problem saying what to check, and starts nothing", async () => {
      const response = await api("POST", "protections", {
        serverName: "pg-nowhere",
        policyName: "weekly-keep",
      });

      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.body.code).toBe("DATASOURCE_NOT_FOUND");
      expect(String(response.body.recommendedAction)).toContain("pg-nowhere");
    });

    it("answers a policy the vault does not have with a 404 problem naming the request that creates it, and validates nothing", async () => {
      const response = await api("POST", "protections", {
        serverName: "pg-reports",
        policyName: "no-such-policy",
      });

      expect(response.status).toBe(404);
      expect(response.body.code).toBe("POLICY_NOT_FOUND");
      expect(String(response.body.recommendedAction)).toContain(
        "PUT /api/vaults/vault-pg/policies/no-such-policy",
      );
      expect(validationsOf(servers["pg-reports"] ?? "")).toEqual([]);
    });

    it("refuses a secret URI outside the configured Key Vault hosts before the app's token goes anywhere", async () => {
      // Single Server databases need a policy of their own kind.
      await azure.backup.createPolicy(
        vaultId,
        "oss-weekly",
        defaultPolicyTemplate("AzureDatabaseForPostgreSQL"),
      );
      // The fake Key Vault's own secret, named through a host the settings do not list.
      const secretUri = keyVault
        .setSecret("hr", "postgresql://backup:pw@pg-legacy.postgres.database.azure.com/hr")
        .replace("//127.0.0.1:", "//localhost:");

      const response = await api("POST", "protections", {
        serverName: "pg-legacy",
        databaseName: "hr",
        policyName: "oss-weekly",
        secretUri,
      });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        code: "INVALID_SECRET_URI",
        errors: [{ path: "$.secretUri" }],
      });
      expect(keyVault.requests).toEqual([]);
    });
  });

  it("protects a Single Server database with its connection string in Key Vault, read with the app's managed identity", async () => {
    // Arrange
    await azure.backup.createPolicy(
      vaultId,
      "oss-weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQL"),
    );
    const secretUri = keyVault.setSecret(
      "hr-connection",
      "postgresql://backup:pw@pg-legacy.postgres.database.azure.com/hr",
    );

    // Act
    const done = await protect({
      serverName: "pg-legacy",
      databaseName: "hr",
      policyName: "oss-weekly",
      secretUri,
    });

    // Assert
    expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected", error: null });
    const instance = await azure.backup.getBackupInstance(
      vaultId,
      String(done.body.backupInstanceName),
    );
    expect(instance.friendlyName).toBe("pg-legacy/hr");
    expect(instance.secretStore).toEqual({ secretStoreType: "AzureKeyVault", uri: secretUri });
    // The app read the secret with a token from the managed identity.
    expect(keyVault.authorizedRequests).toContain("/secrets/hr-connection/");
    // It found the secret's key vault and checked the vault identity's role on it.
    expect(fake.requestsOf("RoleAssignments_GET").map((r) => r.path)).toContain(
      `${keyVaultId}/providers/Microsoft.Authorization/roleAssignments`,
    );
  });

  it("never writes the managed identity's token into the host's log", () => {
    expect(hostLog.length).toBeGreaterThan(0);
    expect(hostLog.join("\n")).not.toContain(TOKEN);
  });
});

describe("the Azure provider through the HTTP API when the service answers only what its contract requires and loses answers", () => {
  let app: AzureApp;
  let fake: FakeArm;
  let identity: FakeManagedIdentity;
  let host: RunningHost;
  let vaultId: string;
  const servers: Record<string, string> = {};
  const api = functionsApi(() => host);
  const protect = async (serverName: string) => {
    const started = await api("POST", "protections", { serverName, policyName: "weekly" });
    expect(started.status).toBe(202);
    return poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
  };

  beforeAll(async () => {
    // No systemData, protection status, job id in operation answers, job end time, ...
    fake = await FakeArm.start({
      subscriptionId: FAKE_SUBSCRIPTION_ID,
      token: TOKEN,
      retryAfterSeconds: 0,
      answers: "required-only",
    });
    identity = await FakeManagedIdentity.start(TOKEN);
    vaultId = fake.addVault("rg-backup", "vault-bare");
    for (const name of ["pg-lost-500", "pg-lost-drop"]) {
      servers[name] = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name,
        kind: "flexibleServers",
      });
      assignVaultRoles(fake, servers[name] ?? "");
    }
    await createDefaultPolicy(azureViewOf(fake).backup, vaultId);
    app = await startAzureApp({ name: "e2e-azure-bare", fake, identity, vaultIds: vaultId });
    host = app.host;
  }, 60_000);

  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  afterAll(async () => {
    await app?.stop();
    await identity?.stop();
    await fake?.stop();
  });

  it.each([
    ["answers 500", "500", "pg-lost-500"],
    ["drops the connection", "drop", "pg-lost-drop"],
  ] as const)(
    "protects a server the service describes only by what it must, then backs it up once when the service starts the backup but %s, followed to Completed",
    async (_case, how, serverName) => {
      // Arrange: protected, though the answers carry no systemData and no protection status.
      const protection = await protect(serverName);
      expect(protection.body).toMatchObject({
        status: "Completed",
        outcome: "Protected",
        error: null,
      });
      const instanceName = String(protection.body.backupInstanceName);
      fake.loseAnswers("BackupInstances_AdhocBackup", how);

      // Act
      const started = await api("POST", `backup-instances/${instanceName}/backups`, {
        ruleName: "BackupWeekly",
      });
      const done = await poll(
        () => api("GET", String(started.body.statusUrl)),
        (r) => r.status !== 200 || r.body.status !== "InProgress",
      );

      // Assert
      expect(started.status).toBe(202);
      const jobs = fake.jobsOf(instanceName);
      expect(jobs.map((j) => j.id)).toEqual([started.body.jobId]);
      expect(done.body).toMatchObject({ id: started.body.jobId, status: "Completed" });
      expect(
        fake.requestsOf("BackupInstances_AdhocBackup").filter((r) => r.path.includes(instanceName)),
      ).toHaveLength(1);
    },
  );
});
