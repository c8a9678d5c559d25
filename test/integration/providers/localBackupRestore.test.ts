import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance } from "../../../src/domain/protection/types.js";
import { parseConnectionString } from "../../../src/domain/protection/connectionString.js";
import { verifyRestoredDatabase } from "../../../src/providers/local/restoreVerification.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { usePostgresCluster } from "../../support/postgres.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";

/** A database with data of many types in several schemas, and large objects. */
const SOURCE_SQL = `
CREATE SCHEMA sales;
CREATE SCHEMA "Inventory Ünïcode";
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE public.kinds (
  id serial PRIMARY KEY, n numeric(30,10), i8 bigint, f4 real, f8 double precision, t text, j jsonb,
  arr int[], tarr text[], b bytea, ts timestamptz, d date, tm time, iv interval, u uuid, flag boolean,
  m public.mood, addr inet, p point, r int4range, total numeric GENERATED ALWAYS AS (n * 2) STORED
);
INSERT INTO public.kinds (n, i8, f4, f8, t, j, arr, tarr, b, ts, d, tm, iv, u, flag, m, addr, p, r) VALUES
  (12345678901234567890.0123456789, 9223372036854775807, 3.14, 2.718281828459045, 'héllo wörld ✓ 日本語 🐘',
   '{"k": [1, 2.5, null, "ß"], "nested": {"ok": true}}', '{1,2,3}', '{"a b","c,d","é"}', '\\x00ff10',
   '2024-02-29 23:59:59.999999+05:30', '2024-02-29', '12:34:56', '1 year 2 mons 3 days 04:05:06', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   true, 'happy', '192.168.0.1/24', '(1.5,-2)', '[1,10)'),
  (-0.0000000001, -9223372036854775808, 'NaN', 'Infinity', E'tab\\there\\nnewline and back\\\\slash', '[]', '{}', '{}', '\\x',
   '1999-12-31 23:59:59+00', '0001-01-01', '00:00:00', '-1 days', 'ffffffff-ffff-ffff-ffff-ffffffffffff', false, 'sad', '::1', '(0,0)', 'empty'),
  (NULL, NULL, NULL, '-Infinity', NULL, 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE sales.orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), placed timestamptz, lines jsonb
);
INSERT INTO sales.orders (customer, amount, placed, lines)
  SELECT 'customer ' || g || ' – Zoë', (g * 1.25)::numeric(12,2), timestamptz '2026-01-01 00:00+00' + g * interval '37 minutes',
         jsonb_build_object('sku', 'SKU-' || g, 'qty', g % 7, 'tags', jsonb_build_array('x', g))
  FROM generate_series(1, 5000) AS g;
CREATE TABLE "Inventory Ünïcode"."Stock Ítem" (sku text PRIMARY KEY, qty int, note text);
INSERT INTO "Inventory Ünïcode"."Stock Ítem" VALUES ('A-1', 3, 'Ærøskøbing'), ('B-2', 0, NULL), ('C-3', -1, 'Ελληνικά');
CREATE TABLE public.documents (id int PRIMARY KEY, content oid);
INSERT INTO public.documents VALUES
  (1, lo_from_bytea(0, convert_to(repeat('Lorem ipsum ✓ ', 20000), 'UTF8'))),
  (2, lo_from_bytea(0, decode(md5('a') || md5('b') || md5('c'), 'hex')));
CREATE TABLE public.empty_table (id int);
`;

describe("local provider: back up a database and restore it", () => {
  const pgFixture = usePostgresCluster();
  let env: Awaited<ReturnType<typeof createTestProvider>>;
  let instance: BackupInstance;
  const scratch: string[] = [];

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE shop");
    await pgFixture.query("shop", SOURCE_SQL);
    env = await createTestProvider(pgFixture.cluster);
    ({ instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "shop"));
  });

  afterAll(async () => {
    await env?.dispose();
    for (const folder of scratch) await rm(folder, { recursive: true, force: true });
  });

  /** Every user table's row count and a content digest, plus large objects, as one comparable object. */
  async function contentOf(database: string): Promise<Record<string, string>> {
    const tables = await pgFixture.query<{ name: string }>(
      database,
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    const content: Record<string, string> = {};
    for (const { name } of tables) {
      const [row] = await pgFixture.query<{ rows: string; digest: string | null }>(
        database,
        `SELECT count(*)::text AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest FROM ${name} t`,
      );
      content[name] = `${row?.rows}:${row?.digest}`;
    }
    const objects = await pgFixture.query<{ oid: string; digest: string }>(
      database,
      "SELECT oid::text, md5(lo_get(oid)) AS digest FROM pg_largeobject_metadata ORDER BY oid",
    );
    for (const { oid, digest } of objects) content[`lo:${oid}`] = digest;
    const [sequence] = await pgFixture.query<{ last: string }>(
      database,
      "SELECT last_value::text AS last FROM sales.orders_id_seq",
    );
    content["sequence:sales.orders_id_seq"] = sequence?.last ?? "";
    return content;
  }

  it("backs up with pg_dump into a checksummed recovery point and restores it to a new database with every row equal", async () => {
    // Act: back up
    const backupJob = await backupNow(env.provider, env.vaultId, instance.name);
    const points = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);

    // Assert: the job and the recovery point
    expect(backupJob).toMatchObject({
      status: "Completed",
      operation: "OnDemandBackup",
      operationCategory: "Backup",
      isUserTriggered: true,
    });
    expect(points).toHaveLength(1);
    const point = points[0]!;
    expect(point).toMatchObject({
      recoveryPointId: backupJob.recoveryPointId,
      retentionTagName: "Default",
      ruleName: "BackupWeekly",
      policyName: "OssPolicy1",
      jobId: backupJob.id,
      dataStores: [expect.objectContaining({ type: "VaultStore" })],
    });
    expect(point.serverVersion).toMatch(/^15\.\d+$/);
    expect(Date.parse(point.endTime)).toBeGreaterThanOrEqual(Date.parse(point.startTime));
    const dumpPath = path.join(
      VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
        "VaultStore",
        instance.name,
        point.recoveryPointId,
      ),
      point.files[0]!.fileName,
    );
    const dumpBytes = await readFile(dumpPath);
    expect(dumpBytes.subarray(0, 5).toString("latin1")).toBe("PGDMP");
    expect(point.sizeBytes).toBe(dumpBytes.length);
    expect(point.files[0]!.sha256).toBe(createHash("sha256").update(dumpBytes).digest("hex"));

    // Act: restore into a new database
    const targetDatabaseId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "shop_restored",
    });
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point.recoveryPointId,
      target: { kind: "database", targetDatabaseId },
    });
    const restoreJob = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert: the restore job verified itself, and an independent comparison agrees
    expect(restoreJob).toMatchObject({
      status: "Completed",
      operation: "Restore",
      recoveryDestination: targetDatabaseId,
    });
    expect(restoreJob.restoreVerification).toMatchObject({
      verified: true,
      tables: 5,
      largeObjects: 2,
      mismatches: [],
    });
    expect(restoreJob.restoreVerification?.rows).toBe(3 + 5000 + 3 + 2);
    const source = await contentOf("shop");
    expect(Object.keys(source)).toHaveLength(5 + 2 + 1);
    expect(await contentOf("shop_restored")).toEqual(source);
  });

  it("finds a changed row when verifying a tampered restored database", async () => {
    // Arrange
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    const dumpPath = path.join(
      VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
        "VaultStore",
        instance.name,
        point!.recoveryPointId,
      ),
      point!.files[0]!.fileName,
    );
    await pgFixture.query(
      "shop_restored",
      `UPDATE "Inventory Ünïcode"."Stock Ítem" SET qty = qty + 1 WHERE sku = 'A-1'`,
    );
    await pgFixture.query("shop_restored", "DELETE FROM sales.orders WHERE id = 42");

    // Act
    const report = await verifyRestoredDatabase(
      pgFixture.cluster.binDir,
      dumpPath,
      parseConnectionString(pgFixture.cluster.connectionUrl()),
      "shop_restored",
    );

    // Assert
    expect(report.verified).toBe(false);
    expect(report.mismatches).toEqual([
      '"Inventory Ünïcode"."Stock Ítem": same row count (3) but different content',
      "sales.orders: 5000 rows expected, 4999 found",
    ]);
  });

  it("refuses to restore over an existing database and leaves it untouched", async () => {
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    const before = await pgFixture.query(
      "shop_restored",
      "SELECT count(*)::int AS n FROM sales.orders",
    );

    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point!.id,
      target: {
        kind: "database",
        targetDatabaseId: formatDatabaseId({
          ...LOCAL_SCOPE,
          kind: "servers",
          serverName: "local",
          databaseName: "shop_restored",
        }),
      },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RESTORE_TARGET_INVALID");
    expect(
      await pgFixture.query("shop_restored", "SELECT count(*)::int AS n FROM sales.orders"),
    ).toEqual(before);
  });

  it("fails a restore whose user may not create databases with UserErrorMissingDBPermissions and a recommended action, leaving no database", async () => {
    // Arrange: a user without CREATEDB, given as the restore's secret
    await pgFixture.query(
      "postgres",
      "CREATE ROLE restorer LOGIN NOCREATEDB PASSWORD 'restorer-password'",
    );
    const url = new URL(pgFixture.cluster.connectionUrl("postgres"));
    url.username = "restorer";
    url.password = "restorer-password";
    const secretUri = await env.provider.secrets.setSecret("restorer", url.toString());
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);

    // Act
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point!.id,
      target: {
        kind: "database",
        targetDatabaseId: formatDatabaseId({
          ...LOCAL_SCOPE,
          kind: "servers",
          serverName: "local",
          databaseName: "shop_no_createdb",
        }),
        secretUri,
      },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]).toMatchObject({
      code: "MISSING_DB_PERMISSIONS",
      isUserError: true,
      message: expect.stringContaining("permission denied to create database"),
      recommendedAction: [expect.stringContaining('ALTER ROLE "restorer" CREATEDB')],
    });
    expect(
      await pgFixture.query("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", [
        "shop_no_createdb",
      ]),
    ).toEqual([]);
  });

  it("restores as files: the dump lands in the folder with the recovery point's checksum", async () => {
    // Arrange
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    const folder = path.join(env.stateDir, "restores", "shop-files");

    // Act
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point!.recoveryPointId,
      target: { kind: "files", url: `file://${folder}`, filePrefix: "shop-" },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(job.status).toBe("Completed");
    const names = (await readdir(folder)).sort();
    expect(names).toEqual([`shop-${point!.files[0]!.fileName}`, "shop-recovery-point.json"]);
    const restored = await readFile(path.join(folder, names[0]!));
    expect(createHash("sha256").update(restored).digest("hex")).toBe(point!.files[0]!.sha256);
  });

  it("refuses to restore as files outside the allowed folders, naming them, before any job starts", async () => {
    // Arrange
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    const outside = await mkdtemp(path.join(tmpdir(), "pgprotect-outside-"));
    scratch.push(outside);
    const jobsBefore = await env.provider.backup.listJobs(env.vaultId);

    // Act
    const error = await env.provider.backup
      .triggerRestore(env.vaultId, instance.name, {
        recoveryPointId: point!.recoveryPointId,
        target: { kind: "files", url: path.join(outside, "x") },
      })
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: "RESTORE_TARGET_INVALID", httpStatus: 400 });
    expect((error as Error).message).toContain(path.join(env.stateDir, "restores"));
    expect(await readdir(outside)).toEqual([]);
    expect(await env.provider.backup.listJobs(env.vaultId)).toHaveLength(jobsBefore.length);
  });

  it("fails a restore as files whose folder leads outside through a link, writing nothing there", async () => {
    // Arrange
    const [point] = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);
    const outside = await mkdtemp(path.join(tmpdir(), "pgprotect-outside-"));
    scratch.push(outside);
    const restores = path.join(env.stateDir, "restores");
    await mkdir(restores, { recursive: true });
    await symlink(outside, path.join(restores, "escape"));

    // Act
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point!.recoveryPointId,
      target: { kind: "files", url: path.join(restores, "escape", "deeper") },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RESTORE_TARGET_INVALID");
    expect(await readdir(outside)).toEqual([]);
  });
});
