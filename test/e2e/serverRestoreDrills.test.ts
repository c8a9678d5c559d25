/**
 * Restore drills of a whole server on the local runtime: a Flexible Server-style server (backed
 * up whole, one dump per database) is drilled by restoring each database of its latest recovery
 * point into its own scratch database on the private cluster, each verified by its own restore
 * job; the drill reports every database and succeeds only when each one did, and fails naming a
 * database an earlier drill restored that the latest recovery point no longer holds.
 */
import { appendFile, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("restore drills of a whole server on the local runtime", () => {
  const databases = ["crm", "payroll"];
  let app: LocalApp;
  let instanceName = "";

  const scratchDatabases = async () =>
    (
      await postgres.query<{ datname: string }>(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'pgprotect\\_drill\\_%'",
      )
    ).map((row) => row.datname);
  const drill = async () => {
    const started = await app.api("POST", `backup-instances/${instanceName}/drills`);
    expect(started.status).toBe(202);
    const ended = await poll(
      () => app.api("GET", String(started.body.statusUrl)),
      (r) => r.status === 200 && r.body.verdict !== "InProgress",
      120_000,
    );
    return { started, ended };
  };

  beforeAll(async () => {
    for (const [index, name] of databases.entries()) {
      await postgres.query("postgres", `CREATE DATABASE ${name}`);
      await postgres.query(
        name,
        `CREATE TABLE item (id int PRIMARY KEY, label text NOT NULL);
         INSERT INTO item SELECT g, '${name} ' || g FROM generate_series(1, ${100 * (index + 1)}) g;`,
      );
    }
    const url = postgres.cluster.connectionUrl();
    app = await startLocalApp({
      postgres,
      name: "e2e-server-drills",
      servers: [{ name: "flex", kind: "flexibleServers", connectionString: url }],
      // A whole server is protected under a policy made for Flexible Servers.
      policies: {
        weekly: { ...weeklyPolicy, datasourceType: "AzureDatabaseForPostgreSQLFlexibleServer" },
      },
      settings: { LOCAL_POSTGRES_SERVERS: `flex:flexible=${url}` },
    });
    const protection = await app.api("POST", "protections", {
      serverName: "flex",
      policyName: "weekly",
    });
    expect(protection.status, JSON.stringify(protection.body)).toBe(202);
    const done = await poll(
      () => app.api("GET", `protections/${String(protection.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(done.body.status).toBe("Completed");
    instanceName = String(done.body.backupInstanceName);
    const backup = await app.api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    const backedUp = await poll(
      () => app.api("GET", String(backup.body.statusUrl)),
      (r) => r.body.status !== "InProgress",
    );
    expect(backedUp.body.status).toBe("Completed");
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("restores every database of the server's latest recovery point into its own scratch database, verifies each, reports each and drops them all", async () => {
    // Act
    const { started, ended } = await drill();

    // Assert
    const scratchTarget = String(started.body.scratchTarget);
    expect(ended.body).toMatchObject({
      verdict: "Succeeded",
      error: null,
      scratchRemoved: true,
      verification: { verified: true, tables: 2, rows: 300, mismatches: [] },
    });
    expect(ended.body.timeToRestoreSeconds).toEqual(expect.any(Number));
    const results = ended.body.databases as Body[];
    // Every database of the server: its "postgres" too.
    expect(results.map((d) => d.databaseName)).toEqual([...databases, "postgres"]);
    databases.forEach((name, index) => {
      expect(results[index]).toMatchObject({
        databaseName: name,
        verdict: "Succeeded",
        error: null,
        verification: { verified: true, tables: 1, rows: 100 * (index + 1) },
        seconds: expect.any(Number),
        restoreJobId: expect.any(String),
      });
      expect(String(results[index]?.scratchTarget)).toMatch(
        new RegExp(`^${scratchTarget}_[0-9a-f]{10}$`),
      );
    });
    expect(await scratchDatabases()).toEqual([]);
    const instance = await app.api("GET", `backup-instances/${instanceName}`);
    expect(instance.body.lastDrill).toMatchObject({ id: started.body.id, verdict: "Succeeded" });
  }, 180_000);

  it("fails the drill when one database's dump is corrupt, keeps the other's verified result and drops every scratch database", async () => {
    // Arrange: payroll's dump in the latest recovery point gains a byte on disk.
    const folder = path.join(app.stateDir, "vaults", "pgprotect-vault", "VaultStore", instanceName);
    const [point] = (await readdir(folder)).sort().slice(-1);
    const payrollDump = (await readdir(path.join(folder, String(point)))).find(
      (name) => name !== "manifest.json" && name.includes("payroll"),
    );
    expect(payrollDump).toBeDefined();
    await appendFile(path.join(folder, String(point), String(payrollDump)), "x");

    // Act
    const { ended } = await drill();

    // Assert
    expect(ended.body).toMatchObject({
      verdict: "Failed",
      error: { code: "RECOVERY_POINT_CORRUPT" },
      scratchRemoved: true,
    });
    expect(String((ended.body.error as Body).message)).toContain(
      "1 of 3 databases failed: payroll",
    );
    const results = ended.body.databases as Body[];
    expect(results.map((d) => [d.databaseName, d.verdict])).toEqual([
      ["crm", "Succeeded"],
      ["payroll", "Failed"],
      ["postgres", "Succeeded"],
    ]);
    expect(results[0]).toMatchObject({ verification: { verified: true, rows: 100 } });
    expect(results[1]).toMatchObject({ error: { code: "RECOVERY_POINT_CORRUPT" } });
    expect(await scratchDatabases()).toEqual([]);
  }, 180_000);

  it("fails the drill when the latest recovery point has no dump of a database an earlier drill restored, naming it", async () => {
    // Arrange: the latest recovery point holds crm and postgres only (its manifest lists no
    // payroll and its dump is gone), as a backup that lost payroll would leave it.
    const folder = path.join(app.stateDir, "vaults", "pgprotect-vault", "VaultStore", instanceName);
    const [point] = (await readdir(folder)).sort().slice(-1);
    const manifestFile = path.join(folder, String(point), "manifest.json");
    const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as {
      files: { fileName: string; databaseName: string }[];
    };
    const payroll = manifest.files.find((file) => file.databaseName === "payroll");
    expect(payroll).toBeDefined();
    manifest.files = manifest.files.filter((file) => file !== payroll);
    await writeFile(manifestFile, JSON.stringify(manifest));
    await rm(path.join(folder, String(point), String(payroll?.fileName)));

    // Act
    const { ended } = await drill();

    // Assert
    expect(ended.body).toMatchObject({
      verdict: "Failed",
      error: { code: "DRILL_DATABASE_MISSING" },
      scratchRemoved: true,
    });
    expect(String((ended.body.error as Body).message)).toMatch(
      /^1 of 3 databases failed: 'payroll' was in the drill of \d{4}-\d{2}-\d{2}T[\d:]+Z and is not in this recovery point/,
    );
    expect((ended.body.databases as Body[]).map((d) => [d.databaseName, d.verdict])).toEqual([
      ["crm", "Succeeded"],
      ["postgres", "Succeeded"],
      ["payroll", "Failed"],
    ]);
    expect(await scratchDatabases()).toEqual([]);
  }, 180_000);
});
