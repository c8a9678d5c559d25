import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";
import { operationEnded, startLocalApp, type LocalApp } from "../support/localApp.js";
import type { RunningHost } from "@pgprotect/functions-runtime";
import type { LocalProvider } from "../../src/providers/local/index.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("bad input to the HTTP API on the local runtime", () => {
  let app: LocalApp;
  let host: RunningHost;
  let provider: LocalProvider;
  let secretUri: string;
  let instanceName: string;

  const send = async (method: string, route: string, body?: string) => {
    const response = await fetch(`${host.url}/api/${route}`, {
      method,
      headers: { "x-functions-key": host.functionKey, "content-type": "application/json" },
      ...(body !== undefined ? { body } : {}),
    });
    return {
      status: response.status,
      contentType: response.headers.get("content-type"),
      body: (await response.json()) as Body,
    };
  };
  const api = (method: string, route: string, body?: unknown) =>
    send(method, route, body === undefined ? undefined : JSON.stringify(body));

  /**
   * Everything a request could leave behind: backup instances and jobs as the API lists them,
   * every orchestration the runtime knows with its status, and every vault with its policies.
   */
  const snapshot = async () => {
    const instances = await api("GET", "backup-instances");
    const jobs = await api("GET", "jobs");
    const orchestrations = await fetch(
      `${host.url}/runtime/webhooks/durabletask/instances?taskHub=${host.taskHub}`,
      { headers: { "x-functions-key": host.keys.systemKeys.durabletask_extension } },
    ).then((r) => r.json() as Promise<Body[]>);
    const vaults: Record<string, unknown[]> = {};
    for (const name of (await provider.backup.listVaultNames()).sort()) {
      vaults[name] = (await api("GET", `vaults/${name}/policies`)).body.value as unknown[];
    }
    return {
      backupInstances: (instances.body.value as Body[]).map((i) => i.name),
      jobs: (jobs.body.value as Body[]).map((j) => j.id),
      orchestrations: orchestrations
        .map((o) => `${String(o.name)} ${String(o.instanceId)} ${String(o.runtimeStatus)}`)
        .sort(),
      vaults,
    };
  };

  const protection = (overrides: Body) => ({
    serverName: "local",
    databaseName: "ledger",
    policyName: "weekly",
    secretUri,
    ...overrides,
  });

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query("postgres", "CREATE DATABASE archive");
    await postgres.query(
      "ledger",
      "CREATE TABLE entries (id int PRIMARY KEY); INSERT INTO entries SELECT generate_series(1, 10)",
    );
    app = await startLocalApp({ postgres, name: "e2e-bad" });
    ({ host, provider } = app);
    secretUri = await provider.secrets.setSecret(
      "ledger",
      postgres.cluster.connectionUrl("ledger"),
    );
    // One good protection, so ad-hoc backups have an instance to be refused on.
    const policy = await api("PUT", "vaults/pgprotect-vault/policies/weekly", {
      spec: {
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M", monthly: { vault: "P12M" } },
      },
    });
    expect(policy.status).toBe(201);
    const started = await api("POST", "protections", protection({}));
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      operationEnded,
    );
    expect(done.body.outcome).toBe("Protected");
    instanceName = String(done.body.backupInstanceName);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("answers an unknown database with 404 DatasourceNotFound, and starts nothing", async () => {
    const before = await snapshot();

    const response = await api("POST", "protections", protection({ databaseName: "nothere" }));

    expect(response.status).toBe(404);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body).toMatchObject({ code: "DATASOURCE_NOT_FOUND", status: 404 });
    expect(String(response.body.detail)).toContain("nothere");
    expect(String(response.body.recommendedAction)).toContain("database name");
    expect(await snapshot()).toEqual(before);
  });

  it("answers an unknown server, and an unknown datasource id, with 404 DatasourceNotFound", async () => {
    const before = await snapshot();
    const ledgerId = String(
      (await api("GET", `backup-instances/${instanceName}`)).body.datasourceId,
    );

    const byServer = await api("POST", "protections", protection({ serverName: "nowhere" }));
    const byId = await api("POST", "protections", {
      datasourceId: ledgerId.replace(/ledger$/, "ghost"),
      policyName: "weekly",
      secretUri,
    });

    expect([byServer.status, byId.status]).toEqual([404, 404]);
    expect([byServer.body.code, byId.body.code]).toEqual([
      "DATASOURCE_NOT_FOUND",
      "DATASOURCE_NOT_FOUND",
    ]);
    expect(String(byId.body.detail)).toContain("ghost");
    expect(await snapshot()).toEqual(before);
  });

  it("answers a secret that does not exist with 404 SECRET_NOT_FOUND and what to do, and starts nothing", async () => {
    const before = await snapshot();

    const response = await api(
      "POST",
      "protections",
      protection({
        databaseName: "archive",
        secretUri: "https://pgprotect-local.vault.azure.net/secrets/archive",
      }),
    );

    expect(response.status).toBe(404);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("SECRET_NOT_FOUND");
    expect(String(response.body.detail)).toContain("secrets/archive");
    expect(String(response.body.recommendedAction)).toContain("connection string");
    expect(await snapshot()).toEqual(before);
  });

  it("answers a database protection without a secretUri with 400 SECRET_REQUIRED", async () => {
    const before = await snapshot();

    const response = await api("POST", "protections", {
      serverName: "local",
      databaseName: "archive",
      policyName: "weekly",
    });

    expect(response.status).toBe(400);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("SECRET_REQUIRED");
    expect(String(response.body.recommendedAction)).toContain("secretUri");
    expect(await snapshot()).toEqual(before);
  });

  it("answers a vault that does not exist with 404 VaultNotFound, and does not create the vault", async () => {
    const before = await snapshot();

    const response = await api(
      "POST",
      "protections",
      protection({ databaseName: "archive", vaultName: "no-such-vault" }),
    );

    expect(response.status).toBe(404);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("VAULT_NOT_FOUND");
    expect(String(response.body.detail)).toContain("no-such-vault");
    expect(String(response.body.recommendedAction)).toContain(
      "pgprotect local vault create no-such-vault",
    );
    expect(await snapshot()).toEqual(before);
    expect(before.vaults).not.toHaveProperty("no-such-vault");
  });

  it("answers a policy the vault does not have with 404 PolicyNotFound naming the PUT that creates it", async () => {
    const before = await snapshot();

    const response = await api(
      "POST",
      "protections",
      protection({ databaseName: "archive", policyName: "no-such-policy" }),
    );

    expect(response.status).toBe(404);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("POLICY_NOT_FOUND");
    expect(response.body.recommendedAction).toBe(
      "Create it first: PUT /api/vaults/pgprotect-vault/policies/no-such-policy",
    );
    expect(await snapshot()).toEqual(before);
  });

  it("answers a body that is not JSON with 400 BODY_NOT_JSON at $, and starts nothing", async () => {
    const before = await snapshot();

    const response = await send(
      "POST",
      "protections",
      '{"serverName": "local", "databaseName": "archive",',
    );

    expect(response.status).toBe(400);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body).toMatchObject({ code: "BODY_NOT_JSON", errors: [{ path: "$" }] });
    expect(await snapshot()).toEqual(before);
  });

  it("answers a body of the wrong shape with 400 BODY_INVALID naming each field at fault", async () => {
    const before = await snapshot();

    const response = await api("POST", "protections", {
      serverName: "local",
      databaseName: "archive",
      policyName: 7,
      secretUri: "not a url",
    });

    expect(response.status).toBe(400);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("BODY_INVALID");
    expect((response.body.errors as Body[]).map((e) => e.path).sort()).toEqual([
      "$.policyName",
      "$.secretUri",
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it("answers a retention rule given as ruleName with 400 naming the backup rule, and starts no job", async () => {
    const before = await snapshot();

    const response = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "Monthly",
    });

    expect(response.status).toBe(400);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      code: "ADHOC_RULE_IS_RETENTION_RULE",
      errors: [{ path: "$.ruleName" }],
    });
    expect(String(response.body.detail)).toContain("'BackupWeekly'");
    expect(await snapshot()).toEqual(before);
  });

  it("answers a rule the policy does not have with 400 ADHOC_RULE_NOT_FOUND, and starts no job", async () => {
    const before = await snapshot();

    const response = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupHourly",
    });

    expect(response.status).toBe(400);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      code: "ADHOC_RULE_NOT_FOUND",
      errors: [{ path: "$.ruleName" }],
    });
    expect(String(response.body.detail)).toContain("'BackupHourly'");
    expect(String(response.body.detail)).toContain("'BackupWeekly'");
    expect(await snapshot()).toEqual(before);
  });

  it("answers a what-if over 400 years at once with 400 SIMULATION_WINDOW_TOO_LONG naming the limit, and keeps /api/health answering", async () => {
    const template = await api("GET", "policies/template");

    const response = await api("POST", "policies/simulate", {
      policy: template.body,
      from: "2000-01-01T00:00:00Z",
      to: "2400-01-01T00:00:00Z",
    });
    const health = await fetch(`${host.url}/api/health`);

    expect(response.status).toBe(400);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("SIMULATION_WINDOW_TOO_LONG");
    expect(String(response.body.detail)).toContain("at most 3653 days");
    expect(health.status).toBe(200);
  });

  it("answers a policy with 20,000 bad schedule entries with its first 100 problems and the count of all", async () => {
    const template = await api("GET", "policies/template");
    const policy = structuredClone(template.body) as {
      policyRules: Array<{ trigger?: { schedule: { repeatingTimeIntervals: string[] } } }>;
    };
    const backupRule = policy.policyRules.find((rule) => rule.trigger !== undefined);
    backupRule!.trigger!.schedule.repeatingTimeIntervals = Array.from(
      { length: 20_000 },
      (_, i) => `every day ${i}`,
    );

    const raw = await fetch(`${host.url}/api/policies/validate`, {
      method: "POST",
      headers: { "x-functions-key": host.functionKey, "content-type": "application/json" },
      body: JSON.stringify(policy),
    });
    const text = await raw.text();
    const body = JSON.parse(text) as Body;

    expect(raw.status).toBe(200);
    expect(body.valid).toBe(false);
    expect(body.problems).toHaveLength(100);
    expect(body.problemCount).toBeGreaterThanOrEqual(20_000);
    expect(body.problemsTruncated).toBe(true);
    expect(text.length).toBeLessThan(100_000);
  });

  it("answers a body beyond 1 MiB with 413 as a problem document, and starts nothing", async () => {
    const before = await snapshot();

    const response = await send(
      "POST",
      "protections",
      JSON.stringify(protection({ padding: "x".repeat(2 * 1024 * 1024) })),
    );

    expect(response.status).toBe(413);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("REQUEST_BODY_TOO_LARGE");
    expect(await snapshot()).toEqual(before);
  });

  it("answers a wrong method with 405, Allow and a problem document", async () => {
    const response = await api("DELETE", "policies/validate");

    expect(response.status).toBe(405);
    expect(response.contentType).toBe("application/problem+json");
    expect(response.body.code).toBe("METHOD_NOT_ALLOWED");
  });

  it("leaves the one good protection as it was: one backup instance, no job, its orchestration completed", async () => {
    const state = await snapshot();

    expect(state.backupInstances).toEqual([instanceName]);
    expect(state.jobs).toEqual([]);
    expect(state.orchestrations).toEqual([
      expect.stringMatching(/^protectDatasource .* Completed$/),
    ]);
    expect(Object.keys(state.vaults)).toEqual(["pgprotect-vault"]);
  });
});
