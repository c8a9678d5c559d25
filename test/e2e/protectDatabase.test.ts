import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import { protectionInstanceId } from "../../src/orchestrations/protectDatasource.js";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";
import { functionsApi } from "../support/functionsApi.js";
import { defaultVaultId, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import type { LocalProvider } from "../../src/providers/local/index.js";

const postgres = usePostgresCluster();

describe("protecting a database through the HTTP API on the local runtime", () => {
  let app: LocalApp;
  let provider: LocalProvider;
  let secretUri: string;
  const vaultId = defaultVaultId;
  const hrId = formatDatabaseId({
    ...LOCAL_SCOPE,
    kind: "servers",
    serverName: "local",
    databaseName: "hr",
  });

  const api = functionsApi(() => app.host);

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE sales");
    await postgres.query(
      "sales",
      "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 50) g",
    );
    app = await startLocalApp({ postgres, name: "e2e", policies: { weekly: weeklyPolicy } });
    provider = app.provider;
    secretUri = await provider.secrets.setSecret("sales", postgres.cluster.connectionUrl("sales"));
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("answers 202 with a status URL, then shows every step done and the new backup instance", async () => {
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "sales",
      policyName: "weekly",
      secretUri,
    });

    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(started.body.statusUrl);
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected", error: null });
    expect((done.body.steps as { status: string }[]).every((s) => s.status === "done")).toBe(true);
    const instances = await provider.backup.listBackupInstances(vaultId);
    expect(instances.map((i) => i.friendlyName)).toEqual(["local/sales"]);
    expect(done.body.backupInstanceName).toBe(instances[0]?.name);
  });

  it("returns the same operation when asked again, and never makes a second backup instance", async () => {
    const again = await api("POST", "protections", {
      serverName: "local",
      databaseName: "sales",
      policyName: "weekly",
      secretUri,
    });

    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ existing: true, status: "Completed" });
    expect(await provider.backup.listBackupInstances(vaultId)).toHaveLength(1);
  });

  it("creates one backup instance when the same protection is requested ten times at once", async () => {
    await postgres.query("postgres", "CREATE DATABASE billing");
    const billingSecret = await provider.secrets.setSecret(
      "billing",
      postgres.cluster.connectionUrl("billing"),
    );
    const body = {
      serverName: "local",
      databaseName: "billing",
      policyName: "weekly",
      secretUri: billingSecret,
    };

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api("POST", "protections", body)),
    );

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const done = await poll(
      () => api("GET", `protections/${String(answers[0]?.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(done.body.outcome).toBe("Protected");
    const billing = (await provider.backup.listBackupInstances(vaultId)).filter(
      (i) => i.friendlyName === "local/billing",
    );
    expect(billing).toHaveLength(1);
  });

  it("answers a missing secret at once with 404 SecretNotFound and a recommended action, and starts nothing", async () => {
    await postgres.query("postgres", "CREATE DATABASE hr");
    const instancesBefore = await provider.backup.listBackupInstances(vaultId);

    const response = await api("POST", "protections", {
      serverName: "local",
      databaseName: "hr",
      policyName: "weekly",
      secretUri: "https://pgprotect-local.vault.azure.net/secrets/hr",
    });
    const operation = await api("GET", `protections/${protectionInstanceId(hrId)}`);

    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body.code).toBe("SECRET_NOT_FOUND");
    expect(String(response.body.recommendedAction)).toContain("connection string");
    expect(operation.status).toBe(404);
    expect(await provider.backup.listBackupInstances(vaultId)).toEqual(instancesBefore);
  });

  it("fails in the orchestration with the service's code when the database refuses the secret's credentials, and runs again once they are fixed", async () => {
    const refused = new URL(postgres.cluster.connectionUrl("hr"));
    refused.username = "nobody";
    refused.password = "wrong";
    const hrSecret = await provider.secrets.setSecret("hr", refused.toString());
    const body = {
      serverName: "local",
      databaseName: "hr",
      policyName: "weekly",
      secretUri: hrSecret,
    };

    const started = await api("POST", "protections", body);
    const failed = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );

    expect(started.status).toBe(202);
    expect(failed.body).toMatchObject({
      outcome: "Failed",
      error: { code: "MISSING_DB_PERMISSIONS" },
    });
    expect(
      String((failed.body.error as { recommendedAction?: string }).recommendedAction),
    ).toContain("user name and password");
    expect((failed.body.steps as { name: string; status: string }[]).at(-1)).toMatchObject({
      name: "validateForBackup",
      status: "failed",
    });

    await provider.secrets.setSecret("hr", postgres.cluster.connectionUrl("hr"));
    const again = await api("POST", "protections", body);
    const done = await poll(
      () => api("GET", `protections/${String(again.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );

    expect(again.body).toMatchObject({ id: started.body.id, existing: false });
    expect(done.body).toMatchObject({ outcome: "Protected", error: null });
    expect(
      (await provider.backup.listBackupInstances(vaultId)).filter(
        (i) => i.friendlyName === "local/hr",
      ),
    ).toHaveLength(1);
  });

  it("answers a request without a datasource with problem details naming the field", async () => {
    const response = await api("POST", "protections", { policyName: "weekly" });

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      code: "BODY_INVALID",
      errors: [{ path: "$.datasourceId" }],
    });
  });
});
