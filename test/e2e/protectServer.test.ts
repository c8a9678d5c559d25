import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, formatServerId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import { serverProtectionInstanceId } from "../../src/functions/startProtection.js";
import { protectionInstanceId } from "../../src/orchestrations/protectDatasource.js";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";
import { functionsApi } from "../support/functionsApi.js";
import { defaultVaultId, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("protecting every database of a server through the HTTP API on the local runtime", () => {
  let app: LocalApp;
  let secretUri: string;
  const vaultId = defaultVaultId;
  // The private cluster's own `postgres` database is a database of the server too.
  const databases = ["inventory", "payroll", "postgres"];

  const api = functionsApi(() => app.host);
  const allOf = (serverName: string, extra: Body = {}) => ({
    serverName,
    allDatabases: true,
    policyName: "weekly",
    secretUri,
    ...extra,
  });
  const finished = (r: { body: Body }) =>
    r.body.status === "Completed" || r.body.status === "Failed";

  beforeAll(async () => {
    for (const name of ["inventory", "payroll"]) {
      await postgres.query("postgres", `CREATE DATABASE ${name}`);
      await postgres.query(
        name,
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 20)",
      );
    }
    const url = postgres.cluster.connectionUrl();
    app = await startLocalApp({
      postgres,
      name: "e2e-server",
      servers: [
        { name: "local", connectionString: url },
        { name: "flex", kind: "flexibleServers", connectionString: url },
      ],
      policies: { weekly: weeklyPolicy },
      settings: { LOCAL_POSTGRES_SERVERS: `local=${url},flex:flexible=${url}` },
    });
    // One secret for the server: each database is backed up with it.
    secretUri = await app.provider.secrets.setSecret("local", url);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("answers 202 with a status URL, then shows every database protected in the summary, each with its backup instance", async () => {
    // Act
    const started = await api("POST", "protections", allOf("local", { maxConcurrency: 2 }));
    const done = await poll(() => api("GET", `protections/${String(started.body.id)}`), finished);

    // Assert
    const serverId = formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local" });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      id: serverProtectionInstanceId(serverId),
      serverId,
      serverName: "local",
      existing: false,
    });
    expect(started.headers.get("location")).toBe(started.body.statusUrl);
    expect(done.body).toMatchObject({
      status: "Completed",
      outcome: "Protected",
      error: null,
      serverName: "local",
      progress: { done: 3, total: 3 },
      summary: { serverName: "local", alreadyProtected: [], failed: [] },
    });
    expect([...(done.body.summary as { protected: string[] }).protected].sort()).toEqual(databases);
    const instances = await api("GET", "backup-instances");
    expect(
      (instances.body.value as { friendlyName: string }[]).map((i) => i.friendlyName).sort(),
    ).toEqual(databases.map((name) => `local/${name}`));
    // Each database went through its own protection, the one POST /api/protections would start.
    const payroll = await api(
      "GET",
      `protections/${protectionInstanceId(formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local", databaseName: "payroll" }))}`,
    );
    expect(payroll.body).toMatchObject({ status: "Completed", outcome: "Protected" });
  });

  it("answers the same operation when asked again, and makes no second backup instance", async () => {
    const again = await api("POST", "protections", allOf("local"));

    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      id: serverProtectionInstanceId(
        formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local" }),
      ),
      existing: true,
      status: "Completed",
    });
    expect(await app.provider.backup.listBackupInstances(vaultId)).toHaveLength(databases.length);
  });

  it("refuses all databases of a Flexible Server with a 400 problem saying to protect the server itself, and starts nothing", async () => {
    const flexId = formatServerId({ ...LOCAL_SCOPE, kind: "flexibleServers", serverName: "flex" });

    const response = await api("POST", "protections", allOf("flex"));
    const operation = await api("GET", `protections/${serverProtectionInstanceId(flexId)}`);

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      code: "ALL_DATABASES_ON_FLEXIBLE_SERVER",
      errors: [{ path: "$.allDatabases" }],
    });
    expect(String(response.body.recommendedAction)).toContain("Protect the server itself");
    expect(operation.status).toBe(404);
  });

  it("refuses allDatabases with a databaseName as a 400 problem naming the field", async () => {
    const response = await api("POST", "protections", allOf("local", { databaseName: "payroll" }));

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      code: "BODY_INVALID",
      errors: [{ path: "$.allDatabases" }],
    });
  });
});
