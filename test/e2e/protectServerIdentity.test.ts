/**
 * Protecting every database of a server protects databases whose names differ only in
 * punctuation (`sales_eu` and `sales-eu`) each under its own operation: earlier versions folded
 * both into one operation id and left one of them out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { functionsApi } from "../support/functionsApi.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("protecting every database of a server whose database names differ only in punctuation", () => {
  let app: LocalApp;
  let secretUri: string;
  const api = functionsApi(() => app.host);
  const request = () => ({
    serverName: "local",
    allDatabases: true,
    policyName: "weekly",
    secretUri,
  });
  const finished = (r: { body: Body }) =>
    r.body.status === "Completed" || r.body.status === "Failed";

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE sales_eu");
    await postgres.query("postgres", 'CREATE DATABASE "sales-eu"');
    const url = postgres.cluster.connectionUrl();
    app = await startLocalApp({
      postgres,
      name: "e2e-server-ids",
      policies: { weekly: weeklyPolicy },
      settings: { LOCAL_POSTGRES_SERVERS: `local=${url}` },
    });
    secretUri = await app.provider.secrets.setSecret("local", url);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("protects each database under its own operation, and answers the run when asked again", async () => {
    // Act
    const started = await api("POST", "protections", request());
    const done = await poll(() => api("GET", `protections/${String(started.body.id)}`), finished);
    const again = await api("POST", "protections", request());

    // Assert
    expect(done.body).toMatchObject({ status: "Completed", progress: { done: 3, total: 3 } });
    const summary = done.body.summary as {
      protected: string[];
      alreadyProtected: string[];
      failed: Array<{ databaseName: string; code: string }>;
      stuck: unknown[];
    };
    expect(summary.failed).toEqual([]);
    expect([...summary.protected].sort()).toEqual(["postgres", "sales-eu", "sales_eu"]);
    expect(summary.stuck).toEqual([]);
    // A run that protected every database is the operation a repeat is answered with.
    expect(again.body).toMatchObject({ id: started.body.id, existing: true });
  });
});
