import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance, RecoveryPoint } from "../../../src/domain/protection/types.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";
import { poll } from "../../support/poll.js";
import { usePostgresCluster } from "../../support/postgres.js";

/** Three tables of some hundreds of kilobytes each, a small one, a sequence and a large object. */
const MULTI_TABLE_SQL = `
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), note text);
INSERT INTO sales.orders SELECT g, 'customer ' || g || ' – Zoë', g * 1.25, repeat(md5(g::text), 3)
  FROM generate_series(1, 8000) AS g;
CREATE TABLE public.events (id serial PRIMARY KEY, at timestamptz, what jsonb);
INSERT INTO public.events (at, what)
  SELECT timestamptz '2026-01-01 00:00+00' + g * interval '1 minute', jsonb_build_object('n', g, 'tag', md5(g::text))
  FROM generate_series(1, 8000) AS g;
CREATE TABLE public.readings (sensor int, value double precision, note text);
INSERT INTO public.readings SELECT g % 17, g / 7.0, repeat('x', g % 200) FROM generate_series(1, 8000) AS g;
CREATE INDEX readings_sensor ON public.readings (sensor);
CREATE TABLE public.settings (key text PRIMARY KEY, value text);
INSERT INTO public.settings VALUES ('a', '1'), ('b', NULL);
CREATE TABLE public.documents (id int PRIMARY KEY, content oid);
INSERT INTO public.documents VALUES (1, lo_from_bytea(0, convert_to(repeat('Lorem ipsum ✓ ', 2000), 'UTF8')));
ANALYZE;
`;

/** Tables of at least this size count towards a parallel dump in these tests. */
const minTableBytes = 64 * 1024;

describe("local provider: parallel directory-format backups", () => {
  const pgFixture = usePostgresCluster();
  let env: Awaited<ReturnType<typeof createTestProvider>>;
  let instance: BackupInstance;

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE warehouse");
    await pgFixture.query("warehouse", MULTI_TABLE_SQL);
    env = await createTestProvider(pgFixture.cluster, {
      parallelJobs: 2,
      parallelTableMinBytes: minTableBytes,
      cpuCount: 2,
    });
    ({ instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "warehouse",
    ));
  });

  afterAll(async () => {
    await env?.dispose();
  });

  const pointFolder = (point: RecoveryPoint) =>
    VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
      "VaultStore",
      instance.name,
      point.recoveryPointId,
    );

  /** Every user table's row count and content digest. */
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
    return content;
  }

  const restoreInto = async (point: RecoveryPoint, databaseName: string) => {
    const targetDatabaseId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName,
    });
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point.recoveryPointId,
      target: { kind: "database", targetDatabaseId },
    });
    return env.provider.backup.waitForJob(env.vaultId, jobId);
  };

  const databaseExists = async (name: string) =>
    (await pgFixture.query("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", [name]))
      .length > 0;

  let point: RecoveryPoint;

  it("backs up a database of several large tables as one recovery point of pg_dump -Fd files, each recorded with its size and SHA-256", async () => {
    // Act
    const job = await backupNow(env.provider, env.vaultId, instance.name);
    const points = await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name);

    // Assert
    expect(job.status).toBe("Completed");
    expect(points).toHaveLength(1);
    point = points[0]!;
    const [file] = point.files;
    expect(file).toMatchObject({ databaseName: "warehouse", format: "directory" });
    const folder = path.join(pointFolder(point), file!.fileName);
    const onDisk = (await readdir(folder)).sort();
    expect(file!.parts!.map((p) => p.fileName)).toEqual(onDisk);
    expect(onDisk).toContain("toc.dat");
    // One data file per table with rows, at least.
    expect(onDisk.filter((name) => name.endsWith(".dat.gz")).length).toBeGreaterThanOrEqual(4);
    for (const part of file!.parts!) {
      const bytes = await readFile(path.join(folder, part.fileName));
      expect(part.sizeBytes).toBe(bytes.length);
      expect(part.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    }
    expect(point.sizeBytes).toBe(file!.parts!.reduce((sum, p) => sum + p.sizeBytes, 0));
  });

  it("restores the directory-format recovery point with parallel jobs into a new database, verified row for row", async () => {
    // Act
    const job = await restoreInto(point, "warehouse_restored");

    // Assert
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification).toMatchObject({
      verified: true,
      tables: 5,
      largeObjects: 1,
      mismatches: [],
    });
    expect(job.restoreVerification?.rows).toBe(8000 * 3 + 2 + 1);
    expect(await contentOf("warehouse_restored")).toEqual(await contentOf("warehouse"));
  });

  it("refuses to restore a directory-format recovery point one of whose files changed, naming the file, and creates no database", async () => {
    // Arrange: one byte of one table's data file flipped, its size unchanged
    const [file] = point.files;
    const folder = path.join(pointFolder(point), file!.fileName);
    const victim = file!.parts!.find((p) => p.fileName.endsWith(".dat.gz"))!;
    const bytes = await readFile(path.join(folder, victim.fileName));
    const original = Buffer.from(bytes);
    const middle = bytes.length >> 1;
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(path.join(folder, victim.fileName), bytes);

    try {
      // Act
      const job = await restoreInto(point, "warehouse_from_corrupt");

      // Assert
      expect(job.status).toBe("Failed");
      expect(job.errorDetails?.[0]).toMatchObject({ code: "RECOVERY_POINT_CORRUPT" });
      expect(job.errorDetails?.[0]?.message).toContain(victim.fileName);
      expect(await databaseExists("warehouse_from_corrupt")).toBe(false);
    } finally {
      await writeFile(path.join(folder, victim.fileName), original);
    }
  });

  it("copies a directory-format recovery point to ArchiveStore and restores it as files, every file intact", async () => {
    // Act
    await env.provider.backup.copyRecoveryPoint(env.vaultId, instance.name, point.recoveryPointId);
    const destination = path.join(env.stateDir, "restores", "warehouse-files");
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point.recoveryPointId,
      sourceDataStoreType: "ArchiveStore",
      target: { kind: "files", url: destination, filePrefix: "r-" },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert: the archive copy and the restored folder hold the files the manifest lists
    expect(job.status).toBe("Completed");
    const [file] = point.files;
    const archived = path.join(
      VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
        "ArchiveStore",
        instance.name,
        point.recoveryPointId,
      ),
      file!.fileName,
    );
    for (const folder of [archived, path.join(destination, `r-${file!.fileName}`)]) {
      expect((await readdir(folder)).sort()).toEqual(file!.parts!.map((p) => p.fileName));
      for (const part of file!.parts!) {
        const bytes = await readFile(path.join(folder, part.fileName));
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(part.sha256);
      }
    }
  });

  it("keeps one pg_dump -Fc file for a database with a single large table", async () => {
    // Arrange
    await pgFixture.query("postgres", "CREATE DATABASE ledger");
    await pgFixture.query(
      "ledger",
      "CREATE TABLE entries (id int PRIMARY KEY, memo text); INSERT INTO entries SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 8000) g; ANALYZE",
    );
    const ledger = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "ledger");

    // Act
    const job = await backupNow(env.provider, env.vaultId, ledger.instance.name);
    const [ledgerPoint] = await env.provider.backup.listRecoveryPoints(
      env.vaultId,
      ledger.instance.name,
    );

    // Assert
    expect(job.status).toBe("Completed");
    expect(ledgerPoint?.files[0]).toMatchObject({ format: "custom" });
    expect(ledgerPoint?.files[0]?.parts).toBeUndefined();
  });

  it("leaves no recovery point and no staging folder when pg_dump is killed in the middle of a parallel dump", async () => {
    // Arrange: a database whose dump takes a while, and pg_dump killed once it writes table data
    await pgFixture.query("postgres", "CREATE DATABASE bulky");
    await pgFixture.query(
      "bulky",
      `CREATE TABLE a (id int, body text); CREATE TABLE b (id int, body text); CREATE TABLE c (id int, body text);
       INSERT INTO a SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) FROM generate_series(1, 150000) g;
       INSERT INTO b SELECT * FROM a; INSERT INTO c SELECT * FROM a; ANALYZE`,
    );
    const started: number[] = [];
    const killing = await createTestProvider(pgFixture.cluster, {
      parallelJobs: 2,
      parallelTableMinBytes: minTableBytes,
      cpuCount: 2,
      compressionLevel: 9,
      onDumpStarted: (_jobId, pid) => started.push(pid),
    });
    try {
      const bulky = await protectDatabase(
        killing.provider,
        killing.vaultId,
        pgFixture.cluster,
        "bulky",
      );
      const staging = path.join(VaultFolder.of(killing.stateDir, "vault1").root, ".staging");
      const { jobId } = await killing.provider.backup.triggerBackup(
        killing.vaultId,
        bulky.instance.name,
        { ruleName: "BackupWeekly" },
      );
      const dataFiles = async () => {
        const written: string[] = [];
        for (const job of await readdir(staging).catch(() => [] as string[]))
          for (const dump of await readdir(path.join(staging, job)).catch(() => [] as string[]))
            for (const file of await readdir(path.join(staging, job, dump)).catch(
              () => [] as string[],
            ))
              if (file.endsWith(".dat.gz")) written.push(file);
        return written;
      };
      const writing = await poll(dataFiles, (files) => files.length > 0);
      expect(writing.length).toBeGreaterThan(0);

      // Act
      process.kill(started[0]!, "SIGKILL");
      const job = await killing.provider.backup.waitForJob(killing.vaultId, jobId);

      // Assert
      expect(job.status).toBe("Failed");
      expect(job.errorDetails?.[0]?.message).toMatch(/pg_dump/);
      expect(
        await killing.provider.backup.listRecoveryPoints(killing.vaultId, bulky.instance.name),
      ).toEqual([]);
      expect(await readdir(staging).catch(() => [])).toEqual([]);
    } finally {
      await killing.dispose();
    }
  });
});
