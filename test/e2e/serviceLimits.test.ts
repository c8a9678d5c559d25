import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import { protectionInstanceId } from "../../src/domain/protection/operationIds.js";
import type { LocalProvider } from "../../src/providers/local/index.js";
import { functionsApi } from "../support/functionsApi.js";
import { defaultVaultId, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

describe("the service's limits at onboarding, on the local provider", () => {
  let app: LocalApp;
  let provider: LocalProvider;
  const api = functionsApi(() => app.host);
  const databaseId = (databaseName: string) =>
    formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local", databaseName });
  const protect = async (databaseName: string) => {
    const secretUri = await provider.secrets.setSecret(
      databaseName,
      postgres.cluster.connectionUrl(databaseName),
    );
    return api("POST", "protections", {
      serverName: "local",
      databaseName,
      policyName: "weekly",
      secretUri,
    });
  };

  beforeAll(async () => {
    // A copy of an Azure server keeps its owners: the service's admin role owns this database.
    await postgres.query("postgres", "CREATE ROLE azure_pg_admin NOLOGIN");
    await postgres.query("postgres", "CREATE DATABASE adminowned OWNER azure_pg_admin");
    await postgres.query("postgres", "CREATE DATABASE documents");
    await postgres.query("postgres", "CREATE DATABASE invoices");
    await postgres.query(
      "invoices",
      "CREATE TABLE scans (id int PRIMARY KEY, page bytea); INSERT INTO scans SELECT g, decode(repeat('ab', 4096), 'hex') FROM generate_series(1, 20) g",
    );
    app = await startLocalApp({ postgres, name: "e2e-limits", policies: { weekly: weeklyPolicy } });
    provider = app.provider;
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("refuses a database owned by azure_pg_admin with 422, citing the support matrix, and starts nothing", async () => {
    // Act
    const response = await protect("adminowned");

    // Assert
    expect(response.status).toBe(422);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body.code).toBe("DATABASE_OWNED_BY_SERVICE_ROLE");
    expect(String(response.body.detail)).toContain("owned by azure_pg_admin");
    expect(String(response.body.detail)).toContain(
      "https://learn.microsoft.com/azure/backup/backup-azure-database-postgresql-flex-support-matrix",
    );
    expect(String(response.body.recommendedAction)).toContain(
      'ALTER DATABASE "adminowned" OWNER TO',
    );
    const operation = await api(
      "GET",
      `protections/${protectionInstanceId(databaseId("adminowned"))}`,
    );
    expect(operation.status).toBe(404);
  });

  it("refuses a database holding a BYTEA value too large for a dump, naming the column", async () => {
    // Arrange: 512 MiB, one byte over what a dump can write (compressed on disk, cheap to store).
    await postgres.query(
      "documents",
      "CREATE TABLE archive (id int PRIMARY KEY, body bytea); INSERT INTO archive SELECT 1, string_agg(decode(repeat('00', 1048576), 'hex'), ''::bytea) FROM generate_series(1, 512)",
    );

    // Act
    const response = await protect("documents");

    // Assert
    expect(response.status).toBe(422);
    expect(response.body.code).toBe("BYTEA_VALUE_TOO_LARGE");
    expect(String(response.body.detail)).toContain(
      "A BYTEA value of 512.0 MiB in documents.public.archive.body",
    );
    expect(String(response.body.detail)).toContain(
      "https://www.postgresql.org/docs/current/limits.html",
    );
  }, 120_000);

  it("protects a database within every limit, with no warning in the answer", async () => {
    // Act
    const started = await protect("invoices");

    // Assert
    expect(started.status).toBe(202);
    expect(started.body.warnings).toBeUndefined();
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(done.body.outcome).toBe("Protected");
    expect(
      (await provider.backup.listBackupInstances(defaultVaultId)).map((i) => i.friendlyName),
    ).toContain("local/invoices");
  });
});
