import path from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePostgresCluster } from "../../support/postgres.js";
import { poll } from "../../support/poll.js";
import { functionsApi } from "../../support/functionsApi.js";
import { startLocalApp, type LocalApp } from "../../support/localApp.js";
import type { RunningHost } from "@pgprotect/functions-runtime";

const postgres = usePostgresCluster();

interface OpenApiDocument {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, { in: string; name: string }>;
  };
}

const httpMethods = ["get", "put", "post", "delete", "patch", "head", "options"];

/** A route template as OpenAPI writes it: `{*id}`, `{id:guid}` and `{id?}` all become `{id}`. */
function openApiPath(template: string): string {
  return template.replace(/\{\*?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}/g, "{$1}");
}

describe("the OpenAPI document served at /api/openapi.json", () => {
  let app: LocalApp;
  let host: RunningHost;
  let stateDir: string;
  let document: OpenApiDocument;
  let secretUri: string;
  let schemaOf: (name: string) => ValidateFunction;

  const api = functionsApi(() => host);

  /** Fails with ajv's errors when `value` does not match the document's schema `name`. */
  const expectValid = (name: string, value: unknown) => {
    const validate = schemaOf(name);
    validate(value);
    expect(validate.errors ?? [], `${name}: ${JSON.stringify(value).slice(0, 400)}`).toEqual([]);
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE inventory");
    await postgres.query(
      "inventory",
      "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g",
    );
    app = await startLocalApp({ postgres, name: "openapi" });
    ({ host, stateDir } = app);
    secretUri = await app.provider.secrets.setSecret(
      "inventory",
      postgres.cluster.connectionUrl("inventory"),
    );
    // Anonymous on purpose: tools fetch the document without a key.
    const response = await fetch(`${host.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenApiDocument;

    const ajv = new Ajv2020({ strict: true, allErrors: true });
    (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
    // Component references point into the OpenAPI document; as a schema of its own they are `$defs`.
    const defs = JSON.parse(
      JSON.stringify(document.components.schemas).replaceAll(
        "#/components/schemas/",
        "pgprotect#/$defs/",
      ),
    ) as object;
    ajv.addSchema({ $id: "pgprotect", $defs: defs });
    schemaOf = (name) => {
      const validate = ajv.getSchema(`pgprotect#/$defs/${name}`);
      if (!validate) throw new Error(`the document has no schema ${name}`);
      return validate;
    };
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("is OpenAPI 3.1 with the function key, by header or query, as its security", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(
      Object.values(document.components.securitySchemes)
        .map((s) => `${s.in}:${s.name}`)
        .sort(),
    ).toEqual(["header:x-functions-key", "query:code"]);
  });

  it("documents every HTTP route and method the app registers, under the function's name", () => {
    const http = host.functions.filter((fn) => fn.url !== undefined);
    const base = `${host.url}${document.servers[0]?.url ?? ""}`;

    expect(http.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const fn of http) {
      const route = openApiPath(String(fn.url).slice(base.length));
      for (const method of fn.methods ?? []) {
        const operation = document.paths[route]?.[method.toLowerCase()];
        if (operation?.operationId !== fn.name) missing.push(`${fn.name}: ${method} ${route}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("documents no route or method the app does not serve", () => {
    const base = `${host.url}${document.servers[0]?.url ?? ""}`;
    const served = new Set(
      host.functions.flatMap((fn) =>
        fn.url === undefined
          ? []
          : (fn.methods ?? []).map(
              (m) => `${m.toLowerCase()} ${openApiPath(String(fn.url).slice(base.length))}`,
            ),
      ),
    );

    const documented = Object.entries(document.paths).flatMap(([route, item]) =>
      Object.keys(item)
        .filter((k) => httpMethods.includes(k))
        .map((m) => `${m} ${route}`),
    );

    expect(documented.filter((entry) => !served.has(entry))).toEqual([]);
  });

  it("marks exactly the anonymous routes as needing no key", () => {
    const base = `${host.url}${document.servers[0]?.url ?? ""}`;
    const anonymous = host.functions
      .filter((fn) => fn.authLevel === "anonymous")
      .map((fn) => openApiPath(String(fn.url).slice(base.length)));
    const open = Object.entries(document.paths).filter(([, item]) =>
      Object.values(item).some((op) => Array.isArray(op.security) && op.security.length === 0),
    );

    expect(open.map(([route]) => route).sort()).toEqual(anonymous.sort());
  });

  it("describes what the API really answers: policies, protections, backups, jobs, restores and problems", async () => {
    const health = await api("GET", "health");
    const template = await api(
      "GET",
      "policies/template?datasourceType=AzureDatabaseForPostgreSQL",
    );
    const validated = await api("POST", "policies/validate", template.body);
    const policy = await api("PUT", "vaults/pgprotect-vault/policies/daily-ops", {
      spec: {
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Monday"], time: "01:00" },
        retention: { default: "P1M" },
      },
    });
    const policies = await api("GET", "vaults/pgprotect-vault/policies");
    const protection = await api("POST", "protections", {
      serverName: "local",
      databaseName: "inventory",
      policyName: "daily-ops",
      secretUri,
    });
    const protected_ = await poll(
      () => api("GET", `protections/${String(protection.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const instanceName = String(protected_.body.backupInstanceName);
    const backup = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    const backupJob = await poll(
      () => api("GET", String(backup.body.statusUrl)),
      (r) => r.body.status !== "InProgress",
    );
    const restore = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetFolder: path.join(stateDir, "restores", "restored-files"),
    });
    const restoreJob = await poll(
      () => api("GET", String(restore.body.statusUrl)),
      (r) => r.body.status !== "InProgress",
    );
    const instances = await api("GET", "backup-instances");
    const instance = await api("GET", `backup-instances/${instanceName}`);
    const jobs = await api("GET", "jobs?top=1");
    const wrongRule = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "Default",
    });
    const unknownJob = await api("GET", "jobs/00000000-0000-0000-0000-000000000000");

    expect([backupJob.body.status, restoreJob.body.status]).toEqual(["Completed", "Completed"]);
    expectValid("Health", health.body);
    expectValid("BackupPolicy", template.body);
    expectValid("PolicyValidationResult", validated.body);
    expectValid("BackupPolicyResource", policy.body);
    expectValid("BackupPolicyList", policies.body);
    expectValid("ProtectionAccepted", protection.body);
    expectValid("ProtectionStatus", protected_.body);
    expectValid("BackupAccepted", backup.body);
    expectValid("Job", backupJob.body);
    expectValid("RestoreAccepted", restore.body);
    expectValid("Job", restoreJob.body);
    expectValid("BackupInstanceList", instances.body);
    expectValid("BackupInstance", instance.body);
    expectValid("JobList", jobs.body);
    expect([wrongRule.status, unknownJob.status]).toEqual([400, 404]);
    expectValid("ProblemDetails", wrongRule.body);
    expectValid("ProblemDetails", unknownJob.body);
  });

  it("describes the protection of every database of a server: the request, the answer and the summary", async () => {
    const body = { serverName: "local", allDatabases: true, policyName: "server-ops", secretUri };
    const policy = await api("PUT", "vaults/pgprotect-vault/policies/server-ops", {
      spec: {
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Tuesday"], time: "01:00" },
        retention: { default: "P1M" },
      },
    });

    const started = await api("POST", "protections", body);
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const conflicting = await api("POST", "protections", { ...body, databaseName: "inventory" });

    expect([policy.status, started.status, conflicting.status]).toEqual([201, 202, 400]);
    expect(done.body.summary).not.toBeNull();
    expectValid("StartProtectionBody", { ...body, maxConcurrency: 2 });
    expectValid("ProtectionAccepted", started.body);
    expectValid("ProtectionStatus", done.body);
    expectValid("ProblemDetails", conflicting.body);
    expect(schemaOf("StartProtectionBody")({ ...body, maxConcurrency: 0 })).toBe(false);
  });

  it("describes the request bodies the API accepts, and rejects what it refuses", () => {
    expectValid("StartProtectionBody", {
      serverName: "local",
      databaseName: "inventory",
      policyName: "daily-ops",
      secretUri,
    });
    expectValid("StartBackupBody", { ruleName: "BackupWeekly", retentionTagOverride: "Monthly" });
    expectValid("StartRestoreBody", {
      targetDatabaseName: "inventory_copy",
      recoveryPointId: "abc",
    });
    expectValid("PutPolicyBody", {
      spec: { schedule: { days: ["Sunday"], time: "22:00" }, retention: { default: "P3M" } },
    });
    expectValid("PolicyDocument", {
      id: "x",
      name: "p",
      properties: { objectType: "BackupPolicy", datasourceTypes: [], policyRules: [] },
    });

    expect(schemaOf("StartBackupBody")({ ruleName: "BackupWeekly", retentionTag: "Monthly" })).toBe(
      false,
    );
    expect(
      schemaOf("PutPolicyBody")({
        spec: { schedule: { days: ["Someday"], time: "22:00" }, retention: { default: "P3M" } },
      }),
    ).toBe(false);
  });

  it("rejects, by its schemas, what the API would not answer", () => {
    const validate = schemaOf("Job");

    expect(validate({ id: "x", status: "Done" })).toBe(false);
    expect(schemaOf("ProblemDetails")({ title: "no code" })).toBe(false);
  });
});
