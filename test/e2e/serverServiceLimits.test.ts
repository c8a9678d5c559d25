/**
 * Protecting every database of a server checks each database against the service's limits as
 * protecting it alone would: a database that breaks one is left out with its documented reason in
 * the summary, and the others are protected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionsApi } from "../support/functionsApi.js";
import { defaultVaultId, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("the service's limits when protecting every database of a local server", () => {
  let app: LocalApp;
  let secretUri: string;
  const api = functionsApi(() => app.host);
  const finished = (r: { body: Body }) =>
    r.body.status === "Completed" || r.body.status === "Failed";

  beforeAll(async () => {
    // A copy of an Azure server keeps its owners: the service's admin role owns one database.
    await postgres.query("postgres", "CREATE ROLE azure_pg_admin NOLOGIN");
    await postgres.query("postgres", "CREATE DATABASE adminowned OWNER azure_pg_admin");
    await postgres.query("postgres", "CREATE DATABASE orders");
    await postgres.query(
      "orders",
      "CREATE TABLE receipts (id int PRIMARY KEY, scan bytea); INSERT INTO receipts SELECT g, decode(repeat('ab', 1024), 'hex') FROM generate_series(1, 10) g",
    );
    const url = postgres.cluster.connectionUrl();
    app = await startLocalApp({
      postgres,
      name: "e2e-server-limits",
      policies: { weekly: weeklyPolicy },
      settings: { LOCAL_POSTGRES_SERVERS: `local=${url}` },
    });
    secretUri = await app.provider.secrets.setSecret("local", url);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("leaves out the database owned by azure_pg_admin with its documented reason and protects the others", async () => {
    // Act
    const started = await api("POST", "protections", {
      serverName: "local",
      allDatabases: true,
      policyName: "weekly",
      secretUri,
    });
    const done = await poll(() => api("GET", `protections/${String(started.body.id)}`), finished);

    // Assert
    expect(started.status).toBe(202);
    expect(done.body).toMatchObject({
      status: "Completed",
      outcome: "Protected",
      progress: { done: 3, total: 3 },
    });
    const summary = done.body.summary as {
      protected: string[];
      failed: unknown[];
      skipped: Array<{
        databaseName: string;
        code: string;
        message: string;
        recommendedAction: string;
      }>;
    };
    expect([...summary.protected].sort()).toEqual(["orders", "postgres"]);
    expect(summary.failed).toEqual([]);
    expect(summary.skipped).toEqual([
      {
        databaseName: "adminowned",
        code: "DATABASE_OWNED_BY_SERVICE_ROLE",
        message: expect.stringContaining("owned by azure_pg_admin"),
        recommendedAction: expect.stringContaining('ALTER DATABASE "adminowned" OWNER TO'),
      },
    ]);
    expect(summary.skipped[0]?.message).toContain(
      "https://learn.microsoft.com/azure/backup/backup-azure-database-postgresql-flex-support-matrix",
    );
    const instances = await app.provider.backup.listBackupInstances(defaultVaultId);
    expect(instances.map((i) => i.friendlyName)).not.toContain("local/adminowned");
    expect(instances.map((i) => i.friendlyName)).toContain("local/orders");
  });
});
