import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance, RecoveryPoint } from "../../../src/domain/protection/types.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import { usePostgresCluster } from "../../support/postgres.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";

const LEDGER_SQL = `
CREATE TABLE public.entries (id serial PRIMARY KEY, amount numeric(12, 2), memo text);
INSERT INTO public.entries (amount, memo)
  SELECT g / 3.0, repeat(md5(g::text), 3) FROM generate_series(1, 6000) AS g;
CREATE TABLE public.accounts (code int PRIMARY KEY, name text NOT NULL);
INSERT INTO public.accounts SELECT g, 'account ' || g FROM generate_series(1, 5000) AS g;
ANALYZE;
`;

/** Forty tables of about the same size, `many_00` the largest by a few rows, with a key each. */
const MANY_SQL = `
DO $$
BEGIN
  FOR t IN 0..39 LOOP
    EXECUTE format('CREATE TABLE public.many_%s (id int PRIMARY KEY, memo text)', lpad(t::text, 2, '0'));
    EXECUTE format(
      'INSERT INTO public.many_%s SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, %s) AS g',
      lpad(t::text, 2, '0'), CASE WHEN t = 0 THEN 2100 ELSE 2000 END);
  END LOOP;
END $$;
ANALYZE;
`;

/**
 * A directory-format point's table data files are hashed while they load, not read beforehand:
 * a changed one must still fail the restore with RECOVERY_POINT_CORRUPT and leave no database.
 */
describe("local provider: a directory-format recovery point whose table data changed on disk", () => {
  const pgFixture = usePostgresCluster();
  const disposers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE ledger");
    await pgFixture.query("ledger", LEDGER_SQL);
    await pgFixture.query("postgres", "CREATE DATABASE many");
    await pgFixture.query("many", MANY_SQL);
  });

  afterAll(async () => {
    for (const dispose of disposers) await dispose();
  });

  /** A fresh provider with a directory-format point of `database` at `compression`. */
  async function directoryPoint(compression: number, database = "ledger") {
    const env = await createTestProvider(pgFixture.cluster, {
      parallelJobs: 2,
      parallelTableMinBytes: 64 * 1024,
      cpuCount: 2,
      compressionLevel: compression,
    });
    disposers.push(env.dispose);
    const { instance } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      database,
    );
    const job = await backupNow(env.provider, env.vaultId, instance.name);
    const point = (await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).find(
      (p) => p.recoveryPointId === job.recoveryPointId,
    ) as RecoveryPoint;
    const entry = point.files[0]!;
    const dumpFolder = path.join(
      VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
        "VaultStore",
        instance.name,
        point.recoveryPointId,
      ),
      entry.fileName,
    );
    const largest = [...(entry.parts ?? [])]
      .filter((p) => /^\d+\.dat(\.gz)?$/.test(p.fileName))
      .sort((a, b) => b.sizeBytes - a.sizeBytes)[0]!;
    return { env, instance, point, dumpFolder, largest };
  }

  async function restoreInto(
    env: Awaited<ReturnType<typeof createTestProvider>>,
    instance: BackupInstance,
    point: RecoveryPoint,
    databaseName: string,
  ) {
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
  }

  async function databaseExists(name: string): Promise<boolean> {
    const rows = await pgFixture.query("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", [
      name,
    ]);
    return rows.length > 0;
  }

  it("fails with RECOVERY_POINT_CORRUPT naming the file and leaves no database when a compressed data file has one byte flipped", async () => {
    // Arrange
    const { env, instance, point, dumpFolder, largest } = await directoryPoint(6);
    const file = path.join(dumpFolder, largest.fileName);
    const bytes = await readFile(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0xff;
    await writeFile(file, bytes);

    // Act
    const job = await restoreInto(env, instance, point, "ledger_flipped_gz");

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RECOVERY_POINT_CORRUPT");
    expect(job.errorDetails?.[0]?.message).toContain(point.recoveryPointId);
    expect(job.errorDetails?.[0]?.message).toContain(largest.sha256);
    expect(await databaseExists("ledger_flipped_gz")).toBe(false);
  });

  it("fails with RECOVERY_POINT_CORRUPT and leaves no database when an uncompressed data file has a changed value that COPY would take", async () => {
    // Arrange: one character of the first row's memo changed, same size, so that the server accepts every row.
    const { env, instance, point, dumpFolder, largest } = await directoryPoint(0);
    const file = path.join(dumpFolder, largest.fileName);
    const text = await readFile(file, "latin1");
    const changed = text.replace("\tc4ca4238", "\tc4ca4239");
    expect(changed).not.toBe(text);
    await writeFile(file, changed, "latin1");

    // Act
    const job = await restoreInto(env, instance, point, "ledger_changed");

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RECOVERY_POINT_CORRUPT");
    expect(job.errorDetails?.[0]?.message).toContain(largest.sha256);
    expect(await databaseExists("ledger_changed")).toBe(false);
  });

  it("stops loading the other tables once one table's data file is found changed, and leaves no database", async () => {
    // Arrange: the largest table, loaded first, has a changed value; the server logs each COPY.
    const { env, instance, point, dumpFolder, largest } = await directoryPoint(0, "many");
    const file = path.join(dumpFolder, largest.fileName);
    const text = await readFile(file, "latin1");
    const changed = text.replace("\tc4ca4238", "\tc4ca4239");
    expect(changed).not.toBe(text);
    await writeFile(file, changed, "latin1");
    const serverLog = path.join(path.dirname(pgFixture.cluster.dataDir), "postgres.log");
    const logBefore = (await readFile(serverLog, "utf8")).length;
    await pgFixture.query("postgres", "ALTER SYSTEM SET log_statement = 'all'");
    await pgFixture.query("postgres", "SELECT pg_reload_conf()");

    // Act
    let job: Awaited<ReturnType<typeof restoreInto>>;
    try {
      job = await restoreInto(env, instance, point, "many_changed");
    } finally {
      await pgFixture.query("postgres", "ALTER SYSTEM RESET log_statement");
      await pgFixture.query("postgres", "SELECT pg_reload_conf()");
    }

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RECOVERY_POINT_CORRUPT");
    expect(job.errorDetails?.[0]?.message).toContain(largest.sha256);
    expect(await databaseExists("many_changed")).toBe(false);
    const log = (await readFile(serverLog, "utf8")).slice(logBefore);
    const copies = log.match(/statement: COPY public\.many_\d\d /g) ?? [];
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.length).toBeLessThan(40);
  });

  it("still restores and verifies an intact directory-format point", async () => {
    // Arrange
    const { env, instance, point } = await directoryPoint(6);

    // Act
    const job = await restoreInto(env, instance, point, "ledger_intact");

    // Assert
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification?.verified).toBe(true);
    expect(
      await pgFixture.query<{ n: number }>(
        "ledger_intact",
        "SELECT count(*)::int AS n FROM entries",
      ),
    ).toEqual([{ n: 6000 }]);
  });
});
