import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance, RecoveryPoint } from "../../../src/domain/protection/types.js";
import { VaultFolder } from "../../../src/providers/local/vaultStore.js";
import {
  copyHeaders,
  dumpContents,
  type DumpContents,
} from "../../../src/providers/local/verifiedLoad.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";
import { usePostgresCluster } from "../../support/postgres.js";

/**
 * Tables with their own indexes and keys, foreign keys between them, a quoted schema and table,
 * a NOT VALID check, and a partitioned table with an index on the parent.
 */
const SHOP_SQL = `
CREATE SCHEMA "Odd Schema";
CREATE TABLE public.customers (id int PRIMARY KEY, email text UNIQUE, name text NOT NULL);
INSERT INTO public.customers SELECT g, 'c' || g || '@example.com', repeat(md5(g::text), 4)
  FROM generate_series(1, 3000) AS g;
CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id int REFERENCES public.customers (id),
  placed date, total numeric(12, 2));
INSERT INTO public.orders SELECT g, 1 + g % 3000, date '2026-01-01' + g % 300, g * 0.5
  FROM generate_series(1, 6000) AS g;
CREATE INDEX orders_placed ON public.orders (placed);
ALTER TABLE public.orders ADD CONSTRAINT total_not_negative CHECK (total >= 0) NOT VALID;
CREATE TABLE "Odd Schema"."Line Items" (order_id bigint REFERENCES public.orders (id), "Qty" int, note text);
INSERT INTO "Odd Schema"."Line Items" SELECT 1 + g % 6000, g % 7, repeat('n', g % 90)
  FROM generate_series(1, 9000) AS g;
CREATE INDEX "Line Items by order" ON "Odd Schema"."Line Items" (order_id);
CREATE TABLE public.readings (at date NOT NULL, value int) PARTITION BY RANGE (at);
CREATE TABLE public.readings_2026 PARTITION OF public.readings
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX readings_at ON public.readings (at);
INSERT INTO public.readings SELECT date '2026-01-01' + g % 365, g FROM generate_series(1, 4000) AS g;
ANALYZE;
`;

/**
 * A partitioned table with a primary key (its parent's key is attached to each partition's) and a
 * materialized view with an index: keys and indexes of relations no COPY loads.
 */
const LEDGER_SQL = `
CREATE TABLE public.entries (id bigint NOT NULL, at date NOT NULL, amount int, PRIMARY KEY (id, at))
  PARTITION BY RANGE (at);
CREATE TABLE public.entries_2026 PARTITION OF public.entries
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.entries_2027 PARTITION OF public.entries
  FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO public.entries SELECT g, date '2026-01-01' + g % 700, g % 1000
  FROM generate_series(1, 20000) AS g;
CREATE MATERIALIZED VIEW public.daily AS SELECT at, sum(amount) AS total FROM public.entries GROUP BY at;
CREATE UNIQUE INDEX daily_at ON public.daily (at);
ANALYZE;
`;

describe("local provider: a directory-format restore loads its tables verified and frozen, then builds every index and key", () => {
  const pgFixture = usePostgresCluster();
  let env: Awaited<ReturnType<typeof createTestProvider>>;
  let instance: BackupInstance;
  let point: RecoveryPoint;
  let dumpFolder: string;
  let contents: DumpContents;
  let scratch: string;

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE shop");
    await pgFixture.query("shop", SHOP_SQL);
    env = await createTestProvider(pgFixture.cluster, {
      parallelJobs: 2,
      parallelTableMinBytes: 64 * 1024,
      cpuCount: 2,
    });
    ({ instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "shop"));
    const job = await backupNow(env.provider, env.vaultId, instance.name);
    point = (await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).find(
      (p) => p.recoveryPointId === job.recoveryPointId,
    ) as RecoveryPoint;
    dumpFolder = path.join(
      VaultFolder.of(env.stateDir, "vault1").recoveryPointFolder(
        "VaultStore",
        instance.name,
        point.recoveryPointId,
      ),
      point.files[0]!.fileName,
    );
    contents = await dumpContents(pgFixture.cluster.binDir, dumpFolder);
    scratch = await mkdtemp(path.join(tmpdir(), "pgprotect-headers-"));
  });

  afterAll(async () => {
    await env?.dispose();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("reads every table's COPY statement, quoted names and column lists as the dump wrote them", async () => {
    // Act
    const headers = copyHeaders(pgFixture.cluster.binDir, dumpFolder, scratch, contents.tables, 2);
    const read = await Promise.all(contents.tables.map((t) => headers.get(t.dumpId)!));

    // Assert
    expect(read.map((h) => h.table).sort()).toEqual(
      [
        '"Odd Schema"."Line Items"',
        "public.customers",
        "public.orders",
        "public.readings_2026",
      ].sort(),
    );
    const lineItems = read.find((h) => h.table === '"Odd Schema"."Line Items"')!;
    expect(lineItems.copyStatement).toBe(
      'COPY "Odd Schema"."Line Items" (order_id, "Qty", note) FROM stdin;',
    );
    for (const header of read) {
      expect(header.settings).toContain("SET client_encoding = 'UTF8';");
      expect(header.settings).toContain("SELECT pg_catalog.set_config('search_path', '', false);");
    }
  });

  it("restores it verified, with every key, index and foreign key, and the tables' rows already frozen", async () => {
    // Act
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
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification).toMatchObject({ verified: true, tables: 4, mismatches: [] });
    expect(job.restoreVerification?.checked?.join(" ")).toMatch(/structure: \d+ objects/);
    const constraints = await pgFixture.query<{ name: string }>(
      "shop_restored",
      "SELECT conname AS name FROM pg_constraint WHERE contype IN ('p', 'u', 'f', 'c') AND connamespace <> 'pg_catalog'::regnamespace ORDER BY 1",
    );
    expect(constraints.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "customers_email_key",
        "customers_pkey",
        "orders_customer_id_fkey",
        "orders_pkey",
        "total_not_negative",
        "Line Items_order_id_fkey",
      ]),
    );
    await pgFixture.query("shop_restored", "CREATE EXTENSION pg_visibility");
    for (const table of ["public.customers", "public.orders", '"Odd Schema"."Line Items"']) {
      const [frozen] = await pgFixture.query<{ pages: number; all_frozen: string }>(
        "shop_restored",
        `SELECT pg_relation_size($1::regclass)::int / current_setting('block_size')::int AS pages,
                (pg_visibility_map_summary($1::regclass)).all_frozen::text AS all_frozen`,
        [table],
      );
      expect(frozen!.pages, table).toBeGreaterThan(0);
      expect(Number(frozen!.all_frozen), table).toBe(frozen!.pages);
    }
  });

  it("restores the keys of a partitioned table and the indexes of a materialized view, which no COPY loads", async () => {
    // Arrange
    await pgFixture.query("postgres", "CREATE DATABASE ledger");
    await pgFixture.query("ledger", LEDGER_SQL);
    const { instance: ledger } = await protectDatabase(
      env.provider,
      env.vaultId,
      pgFixture.cluster,
      "ledger",
    );
    const backup = await backupNow(env.provider, env.vaultId, ledger.name);
    const ledgerPoint = (
      await env.provider.backup.listRecoveryPoints(env.vaultId, ledger.name)
    ).find((p) => p.recoveryPointId === backup.recoveryPointId) as RecoveryPoint;
    expect(ledgerPoint.files[0]!.format).toBe("directory");

    // Act
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, ledger.name, {
      recoveryPointId: ledgerPoint.recoveryPointId,
      target: {
        kind: "database",
        targetDatabaseId: formatDatabaseId({
          ...LOCAL_SCOPE,
          kind: "servers",
          serverName: "local",
          databaseName: "ledger_restored",
        }),
      },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(job.errorDetails).toBeUndefined();
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification).toMatchObject({ verified: true, mismatches: [] });
    const indexes = await pgFixture.query<{ name: string }>(
      "ledger_restored",
      "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    );
    expect(indexes.map((i) => i.name)).toEqual([
      "daily_at",
      "entries_2026_pkey",
      "entries_2027_pkey",
      "entries_pkey",
    ]);
  });
});
