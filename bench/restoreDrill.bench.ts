/**
 * A restore drill's time to restore against plain `pg_restore` of the same dump, on the same
 * private cluster in the same run.
 *
 * The database is the multi-table benchmark database of `localBackup.bench.ts`: `--tables` tables
 * (8) of `--size-mb` in all (1,024), rows half random and half text. It is protected and backed up
 * once by the local provider; then, alternating (plain, drill, drill, plain, ...):
 *
 * - plain: `pg_restore -d` with one job of that recovery point's dump into a new database, which
 *   is dropped afterwards (not timed);
 * - drill: the drill's steps as the `restoreDrill` orchestration runs them (begin, the scratch
 *   restore and its verification of every row, structure and sequence against the dump, removal
 *   of the scratch database, the verdict recorded and published); the time to restore is the one
 *   the drill records (the restore job's start until its data were verified), and the whole
 *   drill's wall time is shown beside.
 *
 * Run: `npm run bench:drill` (`-- --size-mb 100` for a quick
 * run). Goal: plain/drill time ratio at least 0.9 (the best run of each, the least disturbed by
 * other load; the mean is shown too), the drill's verification included. Exits 1 when missed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  beginDrill,
  finishDrill,
  removeScratchTarget,
  startScratchRestore,
  type DrillStepDependencies,
} from "../src/application/drillsSteps.js";
import { onDemandDrillId } from "../src/domain/drills/drill.js";
import {
  libpqEnvironment,
  parseConnectionString,
} from "../src/domain/protection/connectionString.js";
import { formatVaultId, LOCAL_SCOPE } from "../src/domain/protection/ids.js";
import { createLocalProvider } from "../src/providers/local/index.js";
import {
  startPostgresCluster,
  type PostgresCluster,
} from "../src/providers/local/postgresCluster.js";
import { protectLocalDatabase } from "./support/localProtection.js";

const { values: args } = parseArgs({
  options: {
    "size-mb": { type: "string", default: process.env.BENCH_SIZE_MB ?? "1024" },
    tables: { type: "string", default: "8" },
    runs: { type: "string", default: "2" },
  },
});
const sizeMb = Number(args["size-mb"]);
const tableCount = Number(args.tables);
const runs = Number(args.runs);
if (!(sizeMb > 0) || !(Number.isInteger(tableCount) && tableCount >= 1) || !(runs >= 1)) {
  throw new Error("--size-mb must be positive, --tables and --runs positive integers");
}
const goalRatio = 0.9;
const MB = 1024 * 1024;
const database = "drillbench";

async function sql(cluster: PostgresCluster, db: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: cluster.connectionUrl(db) });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** Fills `tables` tables to `bytes` in all, half random and half text, two connections at a time. */
async function build(cluster: PostgresCluster, bytes: number): Promise<void> {
  await sql(cluster, "postgres", `CREATE DATABASE ${database}`);
  await sql(cluster, database, "CREATE EXTENSION pgcrypto");
  const perTable = bytes / tableCount;
  const rows = Math.ceil(perTable / 1070);
  const chunks: string[] = [];
  for (let t = 0; t < tableCount; t += 1) {
    await sql(
      cluster,
      database,
      `CREATE TABLE rows_${t} (id bigserial PRIMARY KEY, created timestamptz, amount numeric(12,2), body text)`,
    );
    for (let done = 0; done < rows; done += 20_000) {
      chunks.push(`INSERT INTO rows_${t} (created, amount, body)
        SELECT timestamptz '2026-01-01 00:00+00' + g * interval '1 second',
               (random() * 100000)::numeric(12, 2),
               translate(encode(gen_random_bytes(375), 'base64'), E'\\n', '') ||
                 substr(repeat(md5(g::text) || ' lorem ipsum dolor sit amet ', 40), 1 + g % 50, 500)
          FROM generate_series(1, ${Math.min(20_000, rows - done)}) AS g`);
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next];
      next += 1;
      if (chunk) await sql(cluster, database, chunk);
    }
  };
  await Promise.all([worker(), worker()]);
  await sql(cluster, database, "VACUUM (FREEZE, ANALYZE)");
  await sql(cluster, "postgres", "CHECKPOINT");
}

/** Plain single-job `pg_restore -d` of `dump` into a new database; the drop is not timed. */
async function plainRestore(cluster: PostgresCluster, dump: string, run: number): Promise<number> {
  const target = `plain_${run}`;
  const env = {
    ...process.env,
    ...libpqEnvironment(parseConnectionString(cluster.connectionUrl(target)), target),
  };
  const started = performance.now();
  await sql(cluster, "postgres", `CREATE DATABASE ${target}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      path.join(cluster.binDir, "pg_restore"),
      ["--no-owner", "--no-acl", "--exit-on-error", "--no-password", "-d", target, dump],
      { env, stdio: ["ignore", "ignore", "inherit"] },
    );
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_restore exited with ${code}`)),
    );
  });
  const ms = performance.now() - started;
  await sql(cluster, "postgres", `DROP DATABASE ${target}`);
  return ms;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-drill-bench-"));
  // The cluster's own folder (handed to the server's user when this process is root).
  const clusterFolder = await mkdtemp(path.join(tmpdir(), "pgp-"));
  const cluster = await startPostgresCluster({ folder: clusterFolder });
  try {
    console.log(`Building ${tableCount} tables of ${sizeMb} MiB in all ...`);
    await build(cluster, sizeMb * MB);
    const provider = await createLocalProvider({
      stateDir,
      servers: [{ name: "local", connectionString: cluster.connectionUrl() }],
      binDir: cluster.binDir,
    });
    const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
    const instance = await protectLocalDatabase(
      provider,
      vaultId,
      "local",
      database,
      cluster.connectionUrl(database),
    );
    const backup = await provider.backup.triggerBackup(vaultId, instance.name, {
      ruleName: "BackupWeekly",
    });
    const backedUp = await provider.backup.waitForJob(vaultId, backup.jobId);
    if (backedUp.status !== "Completed") throw new Error(`the backup ended ${backedUp.status}`);
    const point = (await provider.backup.listRecoveryPoints(vaultId, instance.name)).at(-1);
    const file = point?.files[0];
    if (!point || !file) throw new Error("no recovery point");
    const dump = path.join(
      stateDir,
      "vaults",
      "pgprotect-vault",
      "VaultStore",
      instance.name,
      point.recoveryPointId,
      file.fileName,
    );
    console.log(
      `Recovery point: ${file.format ?? "custom"} dump of ${(point.sizeBytes / MB).toFixed(0)} MiB`,
    );

    const deps: DrillStepDependencies = {
      provider,
      events: { publish: async () => undefined },
      eventSource: "/pgprotect/bench",
    };
    const plain: number[] = [];
    const drills: { timeToRestoreMs: number; wallMs: number }[] = [];
    const drill = async (run: number) => {
      const started = performance.now();
      const drillId = onDemandDrillId(instance.name, new Date(), `bench${run}xxxx`);
      const { drill: begun } = await beginDrill(deps, {
        drillId,
        vaultId,
        backupInstanceName: instance.name,
        at: new Date().toISOString(),
      });
      const restore = await startScratchRestore(deps, {
        vaultId,
        backupInstanceName: instance.name,
        recoveryPointId: point.recoveryPointId,
        scratchTarget: begun.scratchTarget,
      });
      if (!("jobId" in restore)) throw new Error("the bench drills one database, not a server");
      const { jobId } = restore;
      const job = await provider.backup.waitForJob(vaultId, jobId);
      const { removed } = await removeScratchTarget(deps, begun.scratchTarget);
      const ended = await finishDrill(deps, {
        drill: begun,
        job,
        scratchRemoved: removed,
        at: new Date().toISOString(),
      });
      const wallMs = performance.now() - started;
      if (ended.verdict !== "Succeeded" || ended.timeToRestoreMs === undefined)
        throw new Error(`the drill ended ${ended.verdict}: ${JSON.stringify(ended.error)}`);
      drills.push({ timeToRestoreMs: ended.timeToRestoreMs, wallMs });
      console.log(
        `  drill ${run}: time to restore ${seconds(ended.timeToRestoreMs)} (${ended.verification?.tables ?? 0} tables, ${ended.verification?.rows ?? 0} rows verified), whole drill ${seconds(wallMs)}`,
      );
    };
    for (let run = 0; run < runs; run += 1) {
      const order = run % 2 === 0 ? ["plain", "drill"] : ["drill", "plain"];
      for (const kind of order) {
        if (kind === "plain") {
          const ms = await plainRestore(cluster, dump, run);
          plain.push(ms);
          console.log(`  plain pg_restore ${run}: ${seconds(ms)}`);
        } else await drill(run);
      }
    }
    const bestPlain = Math.min(...plain);
    const bestDrill = Math.min(...drills.map((d) => d.timeToRestoreMs));
    const ratio = bestPlain / bestDrill;
    const meanRatio = mean(plain) / mean(drills.map((d) => d.timeToRestoreMs));
    console.log(
      `Restore of ${sizeMb} MiB in ${tableCount} tables: plain pg_restore best ${seconds(bestPlain)}, drill time to restore best ${seconds(bestDrill)} (verification included; whole drill best ${seconds(Math.min(...drills.map((d) => d.wallMs)))})`,
    );
    console.log(
      `Ratio plain/drill: ${ratio.toFixed(2)} best, ${meanRatio.toFixed(2)} mean (goal at least ${goalRatio})`,
    );
    if (ratio < goalRatio) {
      console.error(`Goal missed: ${ratio.toFixed(2)} < ${goalRatio}`);
      process.exitCode = 1;
    }
  } finally {
    await cluster.stop();
    await rm(stateDir, { recursive: true, force: true });
    await rm(clusterFolder, { recursive: true, force: true });
  }
}

await main();
