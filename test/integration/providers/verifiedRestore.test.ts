import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance, RecoveryPoint } from "../../../src/domain/protection/types.js";
import { directoryDigest } from "../../../src/providers/local/recoveryPointIntegrity.js";
import {
  VaultFolder,
  type RecoveryPointManifest,
} from "../../../src/providers/local/vaultStore.js";
import { usePostgresCluster } from "../../support/postgres.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";

const LEDGER_SQL = `
CREATE TABLE public.entries (id serial PRIMARY KEY, booked timestamptz, amount numeric(12, 2), memo text);
INSERT INTO public.entries (booked, amount, memo)
  SELECT timestamptz '2026-01-01 00:00+00' + g * interval '1 minute', g / 3.0, repeat(md5(g::text), 3)
  FROM generate_series(1, 6000) AS g;
CREATE INDEX entries_booked ON public.entries (booked);
CREATE TABLE public.accounts (code int PRIMARY KEY, name text NOT NULL);
INSERT INTO public.accounts SELECT g, 'account ' || g || E' \\\\ tab\\there' FROM generate_series(1, 5000) AS g;
ALTER TABLE public.entries ADD COLUMN account int REFERENCES public.accounts (code);
ANALYZE;
`;

describe("local provider: restores of directory-format recovery points checked as they load", () => {
  const pgFixture = usePostgresCluster();
  let env: Awaited<ReturnType<typeof createTestProvider>>;
  let instance: BackupInstance;
  let point: RecoveryPoint;

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE ledger");
    await pgFixture.query("ledger", LEDGER_SQL);
    env = await createTestProvider(pgFixture.cluster, {
      parallelJobs: 2,
      parallelTableMinBytes: 64 * 1024,
      cpuCount: 2,
    });
    ({ instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "ledger"));
    const job = await backupNow(env.provider, env.vaultId, instance.name);
    [point] = (await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).filter(
      (p) => p.recoveryPointId === job.recoveryPointId,
    ) as [RecoveryPoint];
  });

  afterAll(async () => {
    await env?.dispose();
  });

  const restoreInto = async (databaseName: string) => {
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

  it("says what it checked: each table's rows as COPY stored them and its data file's bytes against the backup's record", async () => {
    // Act
    const job = await restoreInto("ledger_a");

    // Assert
    expect(point.files[0]?.format).toBe("directory");
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification).toMatchObject({ verified: true, tables: 2, rows: 11000 });
    expect(job.restoreVerification?.checked).toEqual(
      expect.arrayContaining([
        "rows of 2 tables (11000 rows) as the server's COPY stored them while they loaded",
        "content of 2 tables: every byte of their data files as loaded, against the SHA-256 the backup recorded",
      ]),
    );
  });

  it("builds indexes and constraints after the data and keeps every row, backslashes and tabs included", async () => {
    // Act
    await restoreInto("ledger_b");

    // Assert
    const digest = (database: string) =>
      pgFixture.query<{ entries: string; accounts: string; indexes: string; next: string }>(
        database,
        `SELECT (SELECT md5(string_agg(e::text, ',' ORDER BY id)) FROM entries e) AS entries,
                (SELECT md5(string_agg(a::text, ',' ORDER BY code)) FROM accounts a) AS accounts,
                (SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public') AS indexes,
                (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conname) FROM pg_constraint WHERE connamespace = 'public'::regnamespace)
                  || ' / ' || (SELECT last_value::text FROM entries_id_seq) AS next`,
      );
    expect(await digest("ledger_b")).toEqual(await digest("ledger"));
  });

  it("fails the restore and leaves no database when the server refuses a table's recorded data", async () => {
    // Arrange: a data file whose last row the server cannot take, recorded as the backup's own
    // (the manifest rewritten), so that only loading can find it.
    const folder = VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
      "VaultStore",
      instance.name,
      point.recoveryPointId,
    );
    const manifestPath = path.join(folder, "manifest.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as RecoveryPointManifest;
    const entry = manifest.files[0]!;
    const largest = [...(entry.parts ?? [])]
      .filter((p) => p.fileName.endsWith(".dat.gz"))
      .sort((a, b) => b.sizeBytes - a.sizeBytes)[0]!;
    const file = path.join(folder, entry.fileName, largest.fileName);
    const text = gunzipSync(await readFile(file)).toString("utf8");
    const broken = gzipSync(
      Buffer.from(text.replace(/\n\\\.\n/, "\nnot-a-number\t\\N\t\\N\t\\N\t\\N\n\\.\n")),
    );
    await writeFile(file, broken);
    const parts = (entry.parts ?? []).map((p) =>
      p.fileName === largest.fileName
        ? {
            ...p,
            sizeBytes: broken.length,
            sha256: createHash("sha256").update(broken).digest("hex"),
          }
        : p,
    );
    await writeFile(
      manifestPath,
      JSON.stringify({ ...manifest, files: [{ ...entry, parts, sha256: directoryDigest(parts) }] }),
    );

    // Act
    const job = await restoreInto("ledger_c");

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.message).toMatch(/not-a-number|invalid input syntax/);
    expect(
      await pgFixture.query("postgres", "SELECT 1 FROM pg_database WHERE datname = 'ledger_c'"),
    ).toEqual([]);
  });
});
