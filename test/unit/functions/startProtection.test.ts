import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { createVaultDirectory, type AppDependencies } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import {
  formatDatabaseId,
  formatServerId,
  formatVaultId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import { answerStartProtection } from "../../../src/functions/startProtection.js";
import { withProblemDetails } from "../../../src/http/handler.js";
import {
  legacyProtectionInstanceId,
  protectionInstanceId,
  serverProtectionInstanceId,
} from "../../../src/domain/protection/operationIds.js";
import type { DirectoryServer } from "../../../src/providers/ports.js";
import { protectionProvider } from "../../support/protectionProvider.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const server = (name: string, kind: DirectoryServer["kind"]): DirectoryServer => ({
  id: formatServerId({ ...LOCAL_SCOPE, kind, serverName: name }),
  name,
  kind,
  location: "local",
  tags: {},
});
const servers = [server("pg1", "servers"), server("flex", "flexibleServers")];
const pg1Id = servers[0]?.id ?? "";
const secretUri = "https://pgprotect-local.vault.azure.net/secrets/pg1";
const policies = {
  weekly: compilePolicySpec({
    datasourceType: "AzureDatabaseForPostgreSQL",
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M" },
  }),
  "flex-weekly": compilePolicySpec({
    datasourceType: "AzureDatabaseForPostgreSQLFlexibleServer",
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M" },
  }),
};

/** A Durable client that knows the given instances and records what starts. */
function durableClient(instances: Record<string, Partial<DurableOrchestrationStatus>> = {}) {
  const started: { name: string; instanceId: string; input: unknown }[] = [];
  return {
    started,
    getStatus: async (instanceId: string) => {
      const found = instances[instanceId];
      // The client reports a missing instance as the extension's 404.
      if (!found) throw new Error("Webhook returned HTTP 404");
      return found as DurableOrchestrationStatus;
    },
    startNew: async (name: string, options?: { instanceId?: string; input?: unknown }) => {
      started.push({ name, instanceId: options?.instanceId ?? "", input: options?.input });
      return options?.instanceId ?? "";
    },
  };
}

/** Dependencies with a Single Server `pg1`, a Flexible Server `flex`, two policies and one secret. */
function deps(env: Record<string, string> = {}): AppDependencies {
  const config = loadConfig(env);
  const provider = protectionProvider({ servers, policies, secretUri });
  return { config, provider, vaults: createVaultDirectory(config) } as unknown as AppDependencies;
}

async function post(body: unknown, durable = durableClient(), env: Record<string, string> = {}) {
  const request = new HttpRequest({
    method: "POST",
    url: "http://localhost:7071/api/protections",
    headers: { "content-type": "application/json" },
    body: { string: JSON.stringify(body) },
  });
  const handler = withProblemDetails((req) => answerStartProtection(req, durable, deps(env)));
  const response = (await handler(
    request,
    new InvocationContext({ functionName: "startProtection" }),
  )) as HttpResponseInit;
  const text =
    typeof response.body === "string" ? response.body : JSON.stringify(response.jsonBody);
  return {
    status: response.status ?? 200,
    location: (response.headers as Record<string, string> | undefined)?.location,
    body: JSON.parse(text) as Record<string, unknown>,
    started: durable.started,
  };
}

const allOfPg1 = { serverName: "pg1", allDatabases: true, policyName: "weekly", secretUri };
/** What protectServer records when started for `allOfPg1`. */
const pg1Input = { serverName: "pg1", vaultId, policyName: "weekly", secretUri };

describe("POST /api/protections with allDatabases", () => {
  it("starts protectServer under an id derived from the server, with the vault, policy, secret and width asked for", async () => {
    // Act
    const response = await post({ ...allOfPg1, maxConcurrency: 2 });

    // Assert
    const id = serverProtectionInstanceId(pg1Id);
    expect(id).toMatch(/^protect-server-pg1-[0-9a-f]{16}$/);
    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      id,
      serverId: pg1Id,
      serverName: "pg1",
      allDatabases: true,
      status: "Pending",
      statusUrl: `http://localhost:7071/api/protections/${id}`,
      existing: false,
    });
    expect(response.location).toBe(response.body.statusUrl);
    expect(response.started).toEqual([
      {
        name: "protectServer",
        instanceId: id,
        input: { serverName: "pg1", vaultId, policyName: "weekly", secretUri, maxConcurrency: 2 },
      },
    ]);
  });

  it("hands protectServer the bound on waiting for each batch that the settings give", async () => {
    const response = await post(allOfPg1, durableClient(), {
      PROTECT_SERVER_CHILD_TIMEOUT_MINUTES: "15",
    });

    expect(response.started[0]?.input).toMatchObject({ childTimeoutMinutes: 15 });
  });

  it("answers the operation under way when asked again, and starts nothing", async () => {
    const id = serverProtectionInstanceId(pg1Id);
    const durable = durableClient({
      [id]: { name: "protectServer", runtimeStatus: "Running" as never, input: pg1Input },
    });

    const response = await post(allOfPg1, durable);

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id, existing: true, status: "Running" });
    expect(response.started).toEqual([]);
  });

  it("answers a run that protected every database, and runs again after one that left a database unprotected", async () => {
    const id = serverProtectionInstanceId(pg1Id);
    const summary = { serverName: "pg1", protected: ["a"], alreadyProtected: [] };
    const succeeded = durableClient({
      [id]: {
        runtimeStatus: "Completed" as never,
        input: pg1Input,
        output: { ...summary, failed: [] },
      },
    });
    const fellShort = durableClient({
      [id]: {
        runtimeStatus: "Completed" as never,
        output: { ...summary, failed: [{ databaseName: "b", code: "X", message: "no" }] },
      },
    });

    const again = await post(allOfPg1, succeeded);
    const retried = await post(allOfPg1, fellShort);

    expect(again.body).toMatchObject({ id, existing: true, status: "Completed" });
    expect(again.started).toEqual([]);
    expect(retried.body).toMatchObject({ id, existing: false });
    expect(retried.started.map((s) => s.name)).toEqual(["protectServer"]);
  });

  it.each([
    ["databaseName", { databaseName: "sales" }],
    ["datasourceId", { datasourceId: `${pg1Id}/databases/sales` }],
  ])(
    "refuses allDatabases with %s as a 400 naming $.allDatabases, and starts nothing",
    async (_, extra) => {
      const response = await post({ ...allOfPg1, ...extra });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        code: "BODY_INVALID",
        errors: [{ path: "$.allDatabases" }],
      });
      expect(response.started).toEqual([]);
    },
  );

  it("refuses allDatabases without a server, and maxConcurrency without allDatabases or beyond 32", async () => {
    const noServer = await post({ allDatabases: true, policyName: "weekly", secretUri });
    const alone = await post({
      serverName: "pg1",
      databaseName: "a",
      policyName: "weekly",
      maxConcurrency: 2,
    });
    const tooWide = await post({ ...allOfPg1, maxConcurrency: 33 });

    expect(noServer.body).toMatchObject({
      code: "BODY_INVALID",
      errors: [{ path: "$.serverName" }],
    });
    expect(alone.body).toMatchObject({
      code: "BODY_INVALID",
      errors: [{ path: "$.maxConcurrency" }],
    });
    expect(tooWide.body).toMatchObject({
      code: "BODY_INVALID",
      errors: [{ path: "$.maxConcurrency" }],
    });
    expect([noServer.status, alone.status, tooWide.status]).toEqual([400, 400, 400]);
  });

  it("refuses a Flexible Server with a 400 telling the caller to protect the server itself", async () => {
    const response = await post({ ...allOfPg1, serverName: "flex" });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: "ALL_DATABASES_ON_FLEXIBLE_SERVER",
      errors: [{ path: "$.allDatabases" }],
    });
    expect(String(response.body.detail)).toContain("Flexible Server");
    expect(String(response.body.recommendedAction)).toContain(
      '{"serverName":"flex","policyName":"..."} and no allDatabases',
    );
    expect(response.started).toEqual([]);
  });

  it("answers what cannot succeed before starting anything: the server, the policy and the secret", async () => {
    const noServer = await post({ ...allOfPg1, serverName: "nowhere" });
    const noPolicy = await post({ ...allOfPg1, policyName: "daily" });
    const wrongPolicy = await post({ ...allOfPg1, policyName: "flex-weekly" });
    const noSecretUri = await post({ ...allOfPg1, secretUri: undefined });
    const noSecret = await post({ ...allOfPg1, secretUri: `${secretUri}-gone` });

    expect(
      [noServer, noPolicy, wrongPolicy, noSecretUri, noSecret].map((r) => [r.status, r.body.code]),
    ).toEqual([
      [404, "DATASOURCE_NOT_FOUND"],
      [404, "POLICY_NOT_FOUND"],
      [400, "POLICY_DATASOURCE_TYPE_MISMATCH"],
      [400, "SECRET_REQUIRED"],
      [404, "SECRET_NOT_FOUND"],
    ]);
    expect(String(noSecretUri.body.detail)).toContain("databases of pg1 needs secretUri");
    expect(
      [noServer, noPolicy, wrongPolicy, noSecretUri, noSecret].flatMap((r) => r.started),
    ).toEqual([]);
  });
});

describe("POST /api/protections for one datasource", () => {
  it("still starts protectDatasource under the datasource's own id", async () => {
    const salesId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "pg1",
      databaseName: "sales",
    });

    const response = await post({
      serverName: "pg1",
      databaseName: "sales",
      policyName: "weekly",
      secretUri,
    });

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      id: protectionInstanceId(salesId),
      datasourceId: salesId,
      existing: false,
    });
    expect(response.started).toEqual([
      {
        name: "protectDatasource",
        instanceId: protectionInstanceId(salesId),
        input: { datasource: { datasourceId: salesId }, vaultId, policyName: "weekly", secretUri },
      },
    ]);
  });

  const databaseId = (databaseName: string) =>
    formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "pg1", databaseName });
  const protecting = (databaseName: string, policyName = "weekly") => ({
    runtimeStatus: "Completed" as never,
    input: {
      datasource: { datasourceId: databaseId(databaseName) },
      vaultId,
      policyName,
      secretUri,
    },
    output: { outcome: "Protected" },
  });
  const sales = { serverName: "pg1", databaseName: "sales", policyName: "weekly", secretUri };

  it("refuses a repeat that asks for another policy with a 409 naming the existing protection", async () => {
    // Arrange
    const id = protectionInstanceId(databaseId("sales"));
    const durable = durableClient({ [id]: protecting("sales", "daily") });

    // Act
    const response = await post(sales, durable);

    // Assert
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({
      code: "PROTECTION_EXISTS_WITH_OTHER_SETTINGS",
      detail: expect.stringContaining(id),
    });
    expect(String(response.body.detail)).toContain("policy 'daily' (this request: 'weekly')");
    expect(String(response.body.recommendedAction)).toContain("update-policy");
    expect(response.started).toEqual([]);
  });

  it("answers a repeat with the same settings, the policy name in any case, as the existing operation", async () => {
    const id = protectionInstanceId(databaseId("sales"));
    const durable = durableClient({ [id]: protecting("sales") });

    const response = await post({ ...sales, policyName: "WEEKLY" }, durable);

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id, existing: true, status: "Completed" });
    expect(response.started).toEqual([]);
  });

  it("answers an operation an earlier version started for this very database under its old id", async () => {
    // Arrange: `Sales` under the id earlier versions gave it.
    const legacyId = legacyProtectionInstanceId(databaseId("Sales"));
    const durable = durableClient({ [legacyId]: protecting("Sales") });

    // Act
    const response = await post({ ...sales, databaseName: "Sales" }, durable);

    // Assert
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id: legacyId, existing: true, status: "Completed" });
    expect(response.started).toEqual([]);
  });

  it("protects a database whose old id an operation for another database holds (Demo beside demo)", async () => {
    // Arrange: `Demo` was protected under the old, shared id.
    const legacyId = legacyProtectionInstanceId(databaseId("Demo"));
    const durable = durableClient({ [legacyId]: protecting("Demo") });

    // Act
    const response = await post({ ...sales, databaseName: "demo" }, durable);

    // Assert
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      id: protectionInstanceId(databaseId("demo")),
      existing: false,
    });
    expect(response.started.map((s) => s.instanceId)).toEqual([
      protectionInstanceId(databaseId("demo")),
    ]);
  });

  it("refuses names outside the service's rules as 400s naming the rule", async () => {
    const vault = await post({ ...sales, vaultName: "no_such!" });
    const policy = await post({ ...sales, policyName: "x" });
    const server = await post({ ...sales, serverName: "-sales" });

    expect(vault.status).toBe(400);
    expect(vault.body).toMatchObject({ code: "VAULT_NAME_INVALID" });
    expect(policy.status).toBe(400);
    expect(policy.body).toMatchObject({ code: "POLICY_NAME_INVALID" });
    expect(server.status).toBe(400);
    expect(server.body).toMatchObject({ code: "SERVER_NAME_INVALID" });
  });

  it("answers 404 for a well-formed vault that does not exist, and starts nothing", async () => {
    const response = await post({ ...sales, vaultName: "other-vault" });

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: "VAULT_NOT_FOUND" });
    expect(response.started).toEqual([]);
  });
});
