import { readdir, readFile, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConnectionString } from "../../../src/domain/protection/connectionString.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type {
  BackupInstance,
  BackupJob,
  RecoveryPoint,
} from "../../../src/domain/protection/types.js";
import { describeDatabaseStructure } from "../../../src/providers/local/databaseStructure.js";
import { clientConfig } from "../../../src/providers/local/pgConnection.js";
import { verifyRestoredDatabase } from "../../../src/providers/local/restoreVerification.js";
import {
  VaultFolder,
  type RecoveryPointManifest,
} from "../../../src/providers/local/vaultStore.js";
import { backupNow, createTestProvider, protectDatabase } from "../../support/localProvider.js";
import { usePostgresCluster } from "../../support/postgres.js";

/**
 * A database with structure beyond tables: an enum, a domain, identity and serial columns, a
 * standalone sequence moved on, a foreign key, a check, a partial index, a view, a materialized
 * view, a trigger function and its trigger, a partitioned table, an extension; owned in part by
 * another role, with a grant.
 */
const SOURCE_SQL = `
CREATE ROLE app_owner;
CREATE ROLE reader;
CREATE EXTENSION pgcrypto;
CREATE SCHEMA shop AUTHORIZATION app_owner;
CREATE TYPE shop.status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN shop.positive AS numeric(12,2) CHECK (VALUE > 0);
CREATE SEQUENCE shop.invoice_no START 1000 INCREMENT 5;
CREATE TABLE shop.customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
  name text COLLATE "C", created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE shop.orders (
  id serial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES shop.customers(id) ON DELETE CASCADE,
  amount shop.positive, status shop.status NOT NULL DEFAULT 'new',
  invoice int DEFAULT nextval('shop.invoice_no'), placed date DEFAULT '2026-01-01',
  CHECK (amount < 100000)
);
CREATE INDEX orders_customer ON shop.orders (customer_id) WHERE status <> 'shipped';
CREATE VIEW shop.big_orders AS
  SELECT o.id, c.email, o.amount FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id WHERE o.amount > 100;
CREATE MATERIALIZED VIEW shop.totals AS SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY customer_id;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.amount := coalesce(NEW.amount, 1); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.touch();
CREATE TABLE shop.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2026 PARTITION OF shop.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX ON shop.events (at);
ALTER TABLE shop.orders OWNER TO app_owner;
GRANT SELECT ON shop.big_orders TO reader;
INSERT INTO shop.customers (email) VALUES ('a@example.org'), ('b@example.org');
INSERT INTO shop.orders (customer_id, amount) VALUES (1, 10), (2, 500), (1, NULL);
INSERT INTO shop.events VALUES ('2026-03-01', 'opened');
SELECT nextval('shop.invoice_no') FROM generate_series(1, 7);
CREATE SEQUENCE shop."Odd's ""seq""";
SELECT setval('shop."Odd''s ""seq"""', 42, false);
`;

describe("local provider: recovery point integrity and what a restore verifies", () => {
  const pgFixture = usePostgresCluster();
  let env: Awaited<ReturnType<typeof createTestProvider>>;
  let instance: BackupInstance;
  /** The recovery point restored into `shop_restored`, with its dump. */
  let restoredShop: { point: RecoveryPoint; dumpPath: string } | undefined;

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE shop");
    await pgFixture.query("shop", SOURCE_SQL);
    env = await createTestProvider(pgFixture.cluster);
    ({ instance } = await protectDatabase(env.provider, env.vaultId, pgFixture.cluster, "shop"));
  });

  afterAll(async () => {
    await env?.dispose();
  });

  const vault = () => VaultFolder.of(env.stateDir, "vault1");
  const databaseId = (databaseName: string) =>
    formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local", databaseName });

  /** A fresh recovery point of `shop`, and the path of its dump in VaultStore. */
  async function freshPoint(): Promise<{ point: RecoveryPoint; dumpPath: string }> {
    const job = await backupNow(env.provider, env.vaultId, instance.name);
    expect(job.status).toBe("Completed");
    const point = (await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).find(
      (p) => p.recoveryPointId === job.recoveryPointId,
    ) as RecoveryPoint;
    const folder = vault().recoveryPointFolder("VaultStore", instance.name, point.recoveryPointId);
    return { point, dumpPath: path.join(folder, point.files[0]!.fileName) };
  }

  async function restoreToDatabase(point: RecoveryPoint, databaseName: string): Promise<BackupJob> {
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point.recoveryPointId,
      target: { kind: "database", targetDatabaseId: databaseId(databaseName) },
    });
    return env.provider.backup.waitForJob(env.vaultId, jobId);
  }

  async function databaseExists(name: string): Promise<boolean> {
    const rows = await pgFixture.query("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", [
      name,
    ]);
    return rows.length > 0;
  }

  /** Rewrites the VaultStore manifest of a recovery point (what its backup recorded). */
  async function editManifest(
    point: RecoveryPoint,
    edit: (manifest: RecoveryPointManifest) => RecoveryPointManifest,
  ): Promise<void> {
    const file = path.join(
      vault().recoveryPointFolder("VaultStore", instance.name, point.recoveryPointId),
      "manifest.json",
    );
    const manifest = JSON.parse(await readFile(file, "utf8")) as RecoveryPointManifest;
    await writeFile(file, JSON.stringify(edit(manifest)));
  }

  it("fails a restore of a recovery point with one byte flipped with RecoveryPointCorrupt, naming the point and its recorded SHA-256, and creates no database", async () => {
    // Arrange
    const { point, dumpPath } = await freshPoint();
    const bytes = await readFile(dumpPath);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0xff;
    await writeFile(dumpPath, bytes);

    // Act
    const job = await restoreToDatabase(point, "shop_flipped");

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RECOVERY_POINT_CORRUPT");
    expect(job.errorDetails?.[0]?.message).toContain(point.recoveryPointId);
    expect(job.errorDetails?.[0]?.message).toContain(point.files[0]!.sha256);
    expect(job.restoreVerification).toBeUndefined();
    expect(await databaseExists("shop_flipped")).toBe(false);
  });

  it("fails a restore of a truncated recovery point with RecoveryPointCorrupt, saying how many bytes the backup wrote, and creates no database", async () => {
    // Arrange
    const { point, dumpPath } = await freshPoint();
    await truncate(dumpPath, Math.floor(point.files[0]!.sizeBytes / 2));

    // Act
    const job = await restoreToDatabase(point, "shop_cut");

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RECOVERY_POINT_CORRUPT");
    expect(job.errorDetails?.[0]?.message).toContain(
      `has ${Math.floor(point.files[0]!.sizeBytes / 2)} bytes where the backup wrote ${point.files[0]!.sizeBytes}`,
    );
    expect(await databaseExists("shop_cut")).toBe(false);
  });

  it("refuses to restore a corrupt recovery point as files and writes nothing to the folder", async () => {
    // Arrange
    const { point, dumpPath } = await freshPoint();
    await truncate(dumpPath, 100);
    const folder = path.join(env.stateDir, "restores", "corrupt-files");

    // Act
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point.recoveryPointId,
      target: { kind: "files", url: `file://${folder}` },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RECOVERY_POINT_CORRUPT");
    expect(await readdir(folder).catch(() => [])).toEqual([]);
  });

  it("refuses to copy a corrupt recovery point to ArchiveStore and leaves no archive copy or staging folder", async () => {
    // Arrange
    const { point, dumpPath } = await freshPoint();
    const bytes = await readFile(dumpPath);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
    await writeFile(dumpPath, bytes);

    // Act
    const copied = env.provider.backup.copyRecoveryPoint(
      env.vaultId,
      instance.name,
      point.recoveryPointId,
      "ArchiveStore",
      "VaultStore",
    );

    // Assert
    await expect(copied).rejects.toMatchObject({
      code: "RECOVERY_POINT_CORRUPT",
      message: expect.stringContaining(`'${point.recoveryPointId}'`),
    });
    const listed = (await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).find(
      (p) => p.recoveryPointId === point.recoveryPointId,
    );
    expect(listed?.dataStores.map((d) => d.type)).toEqual(["VaultStore"]);
    expect(await readdir(path.join(vault().root, ".staging")).catch(() => [])).toEqual([]);
  });

  it("copies an intact recovery point to ArchiveStore", async () => {
    // Arrange
    const { point } = await freshPoint();

    // Act
    await env.provider.backup.copyRecoveryPoint(
      env.vaultId,
      instance.name,
      point.recoveryPointId,
      "ArchiveStore",
      "VaultStore",
    );

    // Assert
    const listed = (await env.provider.backup.listRecoveryPoints(env.vaultId, instance.name)).find(
      (p) => p.recoveryPointId === point.recoveryPointId,
    );
    expect(listed?.dataStores.map((d) => d.type)).toEqual(["VaultStore", "ArchiveStore"]);
  });

  it("restores from the ArchiveStore copy when the VaultStore copy is corrupt: each store's files are checked on their own", async () => {
    // Arrange
    const { point, dumpPath } = await freshPoint();
    await env.provider.backup.copyRecoveryPoint(
      env.vaultId,
      instance.name,
      point.recoveryPointId,
      "ArchiveStore",
      "VaultStore",
    );
    await truncate(dumpPath, 10);

    // Act
    const { jobId } = await env.provider.backup.triggerRestore(env.vaultId, instance.name, {
      recoveryPointId: point.recoveryPointId,
      sourceDataStoreType: "ArchiveStore",
      target: { kind: "database", targetDatabaseId: databaseId("shop_from_archive") },
    });
    const job = await env.provider.backup.waitForJob(env.vaultId, jobId);

    // Assert
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification?.verified).toBe(true);
  });

  it("records the structure with the backup and verifies a restore against it: indexes, constraints, views, functions, triggers and sequences with their values", async () => {
    // Arrange
    restoredShop = await freshPoint();
    const { point } = restoredShop;
    const recorded = point.files[0]!.structure;

    // Act
    const job = await restoreToDatabase(point, "shop_restored");

    // Assert: the backup recorded each kind of object
    expect(Object.keys(recorded?.objects ?? {})).toEqual(
      expect.arrayContaining([
        "table shop.orders",
        "column shop.orders.status",
        "index shop.orders_customer",
        "constraint shop.orders.orders_customer_id_fkey",
        "constraint shop.orders.orders_amount_check",
        "view shop.big_orders",
        "materialized view shop.totals",
        "function shop.touch()",
        "trigger shop.orders.orders_touch",
        "sequence shop.invoice_no",
        "type shop.status",
        "domain shop.positive",
        "extension pgcrypto",
      ]),
    );
    expect(recorded?.objects["column shop.orders.status"]).toBe(
      "shop.status not null default 'new'::shop.status",
    );
    // Assert: the job verified structure and sequence values, and says what it did not restore
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification).toMatchObject({
      verified: true,
      mismatches: [],
      notChecked: [],
    });
    expect(job.restoreVerification?.checked).toEqual(
      expect.arrayContaining([
        "values of 4 sequences",
        expect.stringMatching(/^structure: \d+ objects/),
      ]),
    );
    expect(job.restoreVerification?.notRestored).toEqual([
      "ownership: pg_restore runs with --no-owner, so every restored object belongs to 'postgres'; in the backup they belonged to 'app_owner', 'postgres'",
      "privileges: pg_restore runs with --no-acl, so no GRANT, REVOKE or default privilege of the backup was applied; the backup granted privileges to 'reader'",
    ]);
    // Assert: an independent look agrees
    const config = (database: string) =>
      clientConfig(parseConnectionString(pgFixture.cluster.connectionUrl()), database);
    const source = await describeDatabaseStructure(config("shop"), "source");
    const restored = await describeDatabaseStructure(config("shop_restored"), "restored");
    expect(restored.objects).toEqual(source.objects);
    const sequencesSql = `SELECT (SELECT last_value FROM shop.invoice_no) AS invoice,
      (SELECT last_value FROM shop.orders_id_seq) AS orders, (SELECT last_value FROM shop.customers_id_seq) AS customers,
      (SELECT last_value || ' ' || is_called FROM shop."Odd's ""seq""") AS odd`;
    expect(await pgFixture.query("shop_restored", sequencesSql)).toEqual(
      await pgFixture.query("shop", sequencesSql),
    );
    expect(
      await pgFixture.query(
        "shop_restored",
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'shop' AND tablename = 'orders'",
      ),
    ).toEqual([{ tableowner: "postgres" }]);
  });

  it("finds a dropped index, a changed default and a moved sequence in a restored database", async () => {
    // Arrange
    const { point, dumpPath } = restoredShop!;
    await pgFixture.query("shop_restored", "DROP INDEX shop.orders_customer");
    await pgFixture.query(
      "shop_restored",
      "ALTER TABLE shop.orders ALTER COLUMN placed SET DEFAULT '2027-01-01'",
    );
    await pgFixture.query("shop_restored", "SELECT setval('shop.invoice_no', 99999)");
    await pgFixture.query("shop_restored", `SELECT nextval('shop."Odd''s ""seq"""')`);

    // Act
    const report = await verifyRestoredDatabase(
      pgFixture.cluster.binDir,
      dumpPath,
      parseConnectionString(pgFixture.cluster.connectionUrl()),
      "shop_restored",
      { structure: point.files[0]!.structure },
    );

    // Assert
    expect(report.verified).toBe(false);
    expect(report.mismatches).toEqual([
      `sequence shop."Odd's ""seq""": next value 42 expected, last value 42 found`,
      "sequence shop.invoice_no: last value 1045 expected, last value 99999 found",
      "column shop.orders.placed: differs (backup: date default '2026-01-01'::date; restored: date default '2027-01-01'::date)",
      "index shop.orders_customer: missing in the restored database",
    ]);
  });

  it("fails the restore job with UserErrorRestoreVerificationFailed when the restored structure differs from what the backup recorded", async () => {
    // Arrange: the backup's record lacks the trigger the restored database will have
    const { point } = await freshPoint();
    await editManifest(point, (manifest) => ({
      ...manifest,
      files: manifest.files.map((file) => {
        const { ["trigger shop.orders.orders_touch"]: _trigger, ...objects } =
          file.structure!.objects;
        return { ...file, structure: { ...file.structure!, objects } };
      }),
    }));

    // Act
    const job = await restoreToDatabase(point, "shop_differs");

    // Assert
    expect(job.status).toBe("Failed");
    expect(job.errorDetails?.[0]?.code).toBe("RESTORE_VERIFICATION_FAILED");
    expect(job.errorDetails?.[0]?.message).toContain(
      "trigger shop.orders.orders_touch: in the restored database but not in the backup",
    );
    expect(job.errorDetails?.[0]?.message).toContain(
      "The restored database 'shop_differs' differs from the recovery point",
    );
    expect(await databaseExists("shop_differs")).toBe(true);
    expect(job.restoreVerification).toMatchObject({
      verified: false,
      mismatches: [
        "trigger shop.orders.orders_touch: in the restored database but not in the backup",
      ],
    });
  });

  it("records the structure in the snapshot pg_dump dumps: a table created just as the dump starts is in neither, and the restore verifies", async () => {
    // Arrange: pg_dump is held the moment it is spawned, before it can connect, while a table is created
    let created: Promise<unknown> | undefined;
    const held = await createTestProvider(pgFixture.cluster, {
      onDumpStarted: (_jobId, pid) => {
        process.kill(pid, "SIGSTOP");
        created = pgFixture
          .query("shop", "CREATE TABLE shop.late_arrival (id int)")
          .finally(() => process.kill(pid, "SIGCONT"));
      },
    });
    const { instance: heldInstance } = await protectDatabase(
      held.provider,
      held.vaultId,
      pgFixture.cluster,
      "shop",
    );
    try {
      // Act
      const backup = await backupNow(held.provider, held.vaultId, heldInstance.name);
      await created;
      const [point] = await held.provider.backup.listRecoveryPoints(
        held.vaultId,
        heldInstance.name,
      );
      const { jobId } = await held.provider.backup.triggerRestore(held.vaultId, heldInstance.name, {
        recoveryPointId: point!.recoveryPointId,
        target: { kind: "database", targetDatabaseId: databaseId("shop_in_snapshot") },
      });
      const restore = await held.provider.backup.waitForJob(held.vaultId, jobId);

      // Assert
      expect(backup.status).toBe("Completed");
      expect(Object.keys(point!.files[0]!.structure!.objects)).not.toContain(
        "table shop.late_arrival",
      );
      expect(restore.status).toBe("Completed");
      expect(restore.restoreVerification).toMatchObject({ verified: true, mismatches: [] });
      expect(
        await pgFixture.query("shop_in_snapshot", "SELECT to_regclass('shop.late_arrival') AS t"),
      ).toEqual([{ t: null }]);
    } finally {
      await pgFixture.query("shop", "DROP TABLE IF EXISTS shop.late_arrival");
      await held.dispose();
    }
  });

  it("restores a recovery point made before structure was recorded, saying structure was not compared", async () => {
    // Arrange
    const { point } = await freshPoint();
    await editManifest(point, (manifest) => ({
      ...manifest,
      files: manifest.files.map(({ structure: _structure, ...file }) => file),
    }));

    // Act
    const job = await restoreToDatabase(point, "shop_old_point");

    // Assert
    expect(job.status).toBe("Completed");
    expect(job.restoreVerification?.verified).toBe(true);
    expect(job.restoreVerification?.checked).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^structure/)]),
    );
    expect(job.restoreVerification?.notChecked).toEqual([
      "structure: the recovery point was made before backups recorded it, so only data, large objects and sequence values were compared",
    ]);
    expect(job.restoreVerification?.notRestored?.[0]).toBe(
      "ownership: pg_restore runs with --no-owner, so every restored object belongs to 'postgres'",
    );
  });
});
