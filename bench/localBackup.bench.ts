/**
 * The local provider's backups and restores against plain `pg_dump -Fc > file` and plain
 * single-job `pg_restore`, on the same private cluster in the same run:
 *
 * - single table: a database of one table of about `--size-mb` (1,024 by default) and one a
 *   quarter of that; the provider keeps one `pg_dump -Fc` file for it;
 * - multi-table: a database of `--tables` tables (8) of `--size-mb` in all; the provider dumps it
 *   with `pg_dump -Fd -j` (jobs bounded by the cores and LOCAL_BACKUP_PARALLEL_JOBS);
 * - restore: the multi-table database restored into a new database by the provider
 *   (its directory-format recovery point's files checked, the schema by `pg_restore`, every table's
 *   data loaded in parallel by the provider and checked as it loads, each table's own indexes and
 *   keys as soon as its data are in, the rest of the post-data by `pg_restore -j`, then large
 *   objects, sequences and structure compared: see `verifiedLoad.ts`) against plain
 *   `pg_restore -d` of the plain `pg_dump -Fc` file with one job and the server's defaults.
 *
 * The provider's backup is the whole ad-hoc backup of a protected database through
 * LocalBackupService: job bookkeeping, credentials from the secret store, `pg_dump -Fc` streamed
 * through SHA-256 into a staging file, fsync, rename into the vault and the recovery point's
 * manifest. The baseline is `sh -c 'pg_dump -Fc > file'` with the same credentials; its fsync is
 * timed apart and shown too. Runs alternate (baseline, provider, provider, baseline, ...) so that
 * drift in the machine's load falls on both alike.
 *
 * Rows are half random (base64 of random bytes) and half text, so the dump is about 35 % of the
 * data: pg_dump really compresses, and the provider really moves bytes (the pgbench data dump to
 * 2 % of their size). `--random-percent` changes the mix; fully random data make `pg_dump -Fc` run
 * below 10 MB/s here, as zlib gains nothing, and 1 GB would take minutes per dump.
 *
 * Peak memory is the resident set of this process while the provider backs up, sampled every
 * 10 ms and read from the kernel's high-water mark (reset before each backup).
 *
 * Options: `--size-mb N` (or BENCH_SIZE_MB; the large size, 1024 by default), `--small-mb N` (a
 * quarter of it by default), `--tables N` of the multi-table database (8), `--random-percent N`
 * (50), `--runs N` of each kind at the large size and of the multi-table backups and restores
 * (2), `--small-runs N` at the small one (1), and `--only backup|restore` to run one part (both by
 * default): `backup` skips the restores and their goal; `restore` skips the single-table database
 * and measures no backup (the multi-table database is still loaded and backed up once through the
 * provider, for the recovery point the restores read), and checks the restore goal alone.
 *
 * Run: `npm run bench:backup` (`npm run bench:backup -- --size-mb 100` for a quick run).
 * Goals (from the best run of each kind, the least disturbed by other load; the mean is shown
 * too): single-table throughput ratio provider/pg_dump at least 0.97 at the large size;
 * multi-table at least 1.3 (with 2 cores or more); restore time ratio plain/provider at least 1.3,
 * the provider's verification included; peak memory that does not grow with the database's size
 * (at most 32 MiB more at the large size).
 */
import { spawn } from "node:child_process";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  libpqEnvironment,
  parseConnectionString,
} from "../src/domain/protection/connectionString.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../src/domain/protection/ids.js";
import { createLocalProvider, type LocalProvider } from "../src/providers/local/index.js";
import {
  startPostgresCluster,
  type PostgresCluster,
} from "../src/providers/local/postgresCluster.js";
import { protectLocalDatabase } from "./support/localProtection.js";

const { values: args } = parseArgs({
  options: {
    "size-mb": { type: "string", default: process.env.BENCH_SIZE_MB ?? "1024" },
    "small-mb": { type: "string" },
    "random-percent": { type: "string", default: "50" },
    tables: { type: "string", default: "8" },
    runs: { type: "string", default: "2" },
    "small-runs": { type: "string", default: "1" },
    only: { type: "string" },
  },
});
const only = args.only;
if (only !== undefined && only !== "backup" && only !== "restore") {
  throw new Error("--only must be backup or restore");
}
const runBackups = only !== "restore";
const runRestores = only !== "backup";
const largeMb = Number(args["size-mb"]);
const smallMb = Number(args["small-mb"] ?? Math.round(largeMb / 4));
const randomPercent = Number(args["random-percent"]);
const runs = Number(args.runs);
const smallRuns = Number(args["small-runs"]);
const tableCount = Number(args.tables);
if (!(largeMb > 0 && smallMb > 0 && smallMb <= largeMb)) {
  throw new Error("--size-mb and --small-mb must be positive, the small size not above the large");
}
if (
  !(randomPercent >= 0 && randomPercent <= 100) ||
  ![runs, smallRuns].every((n) => Number.isInteger(n) && n >= 1) ||
  !(Number.isInteger(tableCount) && tableCount >= 2)
) {
  throw new Error(
    "--random-percent must be 0..100, --runs and --small-runs positive integers, --tables at least 2",
  );
}
const goalRatio = 0.97;
const multiGoalRatio = 1.3;
const restoreGoalRatio = 1.3;
/**
 * How much more the peak RSS may be at the large size than at the small one. Garbage chunks of
 * the stream wait for the next GC, so peaks vary by some MiB from run to run whatever the size;
 * a dump held in memory would add the difference of the dump sizes (about 300 MiB by default).
 */
const memorySlackBytes = 32 * 1024 * 1024;
const MB = 1024 * 1024;
/** Characters of text per row (random base64 first, then prose). */
const rowChars = 1000;
const database = "benchdb";
const multiDatabase = "benchmulti";

/** Runs SQL on one database of the cluster. */
async function sql(cluster: PostgresCluster, db: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: cluster.connectionUrl(db) });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function databaseBytes(cluster: PostgresCluster, db = database): Promise<number> {
  const result = await sql(cluster, db, "SELECT pg_database_size(current_database()) AS b");
  return Number((result.rows[0] as { b: string }).b);
}

async function tableBytes(cluster: PostgresCluster, db: string, table: string): Promise<number> {
  const result = await sql(cluster, db, `SELECT pg_total_relation_size('${table}') AS b`);
  return Number((result.rows[0] as { b: string }).b);
}

/**
 * Appends rows to `table` until it takes at least `targetBytes`, two connections at a time (the
 * server generates the data). Each row: id, time, amount, and `rowChars` characters of which
 * `randomPercent` are base64 of random bytes.
 */
async function growTo(
  cluster: PostgresCluster,
  targetBytes: number,
  db = database,
  table = "bench_rows",
): Promise<void> {
  const randomChars = Math.round((rowChars * randomPercent) / 100 / 4) * 4;
  const proseChars = rowChars - randomChars;
  for (;;) {
    const missing = targetBytes - (await tableBytes(cluster, db, table));
    if (missing <= 0) return;
    // About 1,070 bytes per row on disk; a little short is fine, the loop checks again.
    const rows = Math.ceil(missing / 1070);
    const chunks = Math.ceil(rows / 20_000);
    const rowsPerChunk = Math.ceil(rows / chunks);
    const insert = `INSERT INTO ${table} (created, amount, body)
      SELECT timestamptz '2026-01-01 00:00+00' + g * interval '1 second',
             (random() * 100000)::numeric(12, 2),
             translate(encode(gen_random_bytes(${(randomChars / 4) * 3}), 'base64'), E'\\n', '') ||
               substr(repeat(md5(g::text) || ' lorem ipsum dolor sit amet, consectetur adipiscing elit ', 40), 1 + g % 50, ${proseChars})
        FROM generate_series(1, ${rowsPerChunk}) AS g`;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks) {
        next += 1;
        await sql(cluster, db, insert);
      }
    };
    await Promise.all([worker(), worker()]);
  }
}

/** Sets hint bits and writes everything out, so no dump pays for the load's leftovers. */
async function settle(cluster: PostgresCluster, db = database): Promise<void> {
  await sql(cluster, db, "VACUUM (FREEZE, ANALYZE)");
  await sql(cluster, "postgres", "CHECKPOINT");
}

/** The environment a plain tool connects to `db` with. */
function toolEnv(cluster: PostgresCluster, db: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...libpqEnvironment(parseConnectionString(cluster.connectionUrl(db)), db),
  };
}

/**
 * Plain `pg_dump -Fc > file`; returns the dump's time and, apart, the fsync's time. The file is
 * removed unless `keep`.
 */
async function plainDump(
  cluster: PostgresCluster,
  file: string,
  db = database,
  keep = false,
): Promise<{ ms: number; syncMs: number; bytes: number }> {
  const env = toolEnv(cluster, db);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      "/bin/sh",
      ["-c", 'exec "$0" -Fc --no-password > "$1"', path.join(cluster.binDir, "pg_dump"), file],
      { env, stdio: ["ignore", "ignore", "inherit"] },
    );
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_dump exited with ${code}`)),
    );
  });
  const ms = performance.now() - started;
  const syncStarted = performance.now();
  const handle = await open(file, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  const syncMs = performance.now() - syncStarted;
  const { size } = await stat(file);
  if (!keep) await rm(file);
  return { ms, syncMs, bytes: size };
}

/**
 * Plain `pg_restore -d` of a dump into a new database: one job for the baseline; with `jobs`, the
 * tool's share of the provider's restore (without its verification), shown apart.
 */
async function plainRestore(
  cluster: PostgresCluster,
  file: string,
  target: string,
  jobs = 1,
): Promise<number> {
  const started = performance.now();
  await sql(cluster, "postgres", `CREATE DATABASE ${target}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      path.join(cluster.binDir, "pg_restore"),
      [
        "--no-owner",
        "--no-acl",
        "--exit-on-error",
        "--no-password",
        ...(jobs > 1 ? ["-j", String(jobs)] : []),
        "-d",
        target,
        file,
      ],
      { env: toolEnv(cluster, target), stdio: ["ignore", "ignore", "inherit"] },
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

/** A restore through the provider into a new database: `pg_restore`, then its verification. */
async function providerRestore(
  cluster: PostgresCluster,
  provider: LocalProvider,
  vaultId: string,
  instanceName: string,
  recoveryPointId: string,
  target: string,
): Promise<number> {
  const started = performance.now();
  const { jobId } = await provider.backup.triggerRestore(vaultId, instanceName, {
    recoveryPointId,
    target: {
      kind: "database",
      targetDatabaseId: formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "local",
        databaseName: target,
      }),
    },
  });
  const job = await provider.backup.waitForJob(vaultId, jobId);
  const ms = performance.now() - started;
  if (job.status !== "Completed" || !job.restoreVerification?.verified) {
    throw new Error(`the restore ended ${job.status}: ${JSON.stringify(job.errorDetails ?? [])}`);
  }
  await sql(cluster, "postgres", `DROP DATABASE ${target}`);
  return ms;
}

/** The resident set's high-water mark of this process, in bytes (Linux). */
async function peakRss(): Promise<number | undefined> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Resets the kernel's high-water mark to the current resident set (Linux). */
async function resetPeakRss(): Promise<void> {
  await writeFile("/proc/self/clear_refs", "5").catch(() => undefined);
}

interface ProviderRun {
  readonly ms: number;
  readonly bytes: number;
  readonly rssBefore: number;
  readonly rssPeakSampled: number;
  readonly rssPeakKernel: number | undefined;
  readonly recoveryPointId: string;
  /** The dump's format: `custom` or `directory`. */
  readonly format: string;
}

/** An ad-hoc backup through the provider, from the request to the recovery point. */
async function providerBackup(
  provider: LocalProvider,
  vaultId: string,
  instanceName: string,
): Promise<ProviderRun> {
  const rssBefore = process.memoryUsage.rss();
  let rssPeakSampled = rssBefore;
  await resetPeakRss();
  const sampler = setInterval(() => {
    rssPeakSampled = Math.max(rssPeakSampled, process.memoryUsage.rss());
  }, 10);
  try {
    const started = performance.now();
    const { jobId } = await provider.backup.triggerBackup(vaultId, instanceName, {
      ruleName: "BackupWeekly",
    });
    const job = await provider.backup.waitForJob(vaultId, jobId);
    const ms = performance.now() - started;
    if (job.status !== "Completed" || !job.recoveryPointId) {
      throw new Error(`the backup ended ${job.status}: ${JSON.stringify(job.errorDetails ?? [])}`);
    }
    const points = await provider.backup.listRecoveryPoints(vaultId, instanceName);
    const point = points.find((p) => p.recoveryPointId === job.recoveryPointId);
    if (!point?.files[0]?.sha256) throw new Error("the recovery point has no checksum");
    rssPeakSampled = Math.max(rssPeakSampled, process.memoryUsage.rss());
    return {
      ms,
      bytes: point.sizeBytes,
      rssBefore,
      rssPeakSampled,
      rssPeakKernel: await peakRss(),
      recoveryPointId: point.recoveryPointId,
      format: point.files[0].format ?? "custom",
    };
  } finally {
    clearInterval(sampler);
  }
}

interface SizeResult {
  readonly databaseBytes: number;
  readonly baseline: Array<{ ms: number; syncMs: number; bytes: number }>;
  readonly provider: ProviderRun[];
}

const mean = (values: readonly number[]): number =>
  values.reduce((sum, v) => sum + v, 0) / values.length;
const mib = (bytes: number): string => `${(bytes / MB).toFixed(0)} MiB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Alternates baseline and provider runs: A B B A A B ... */
async function measure(
  cluster: PostgresCluster,
  provider: LocalProvider,
  vaultId: string,
  instanceName: string,
  scratch: string,
  runs: number,
  db = database,
): Promise<SizeResult> {
  const result: SizeResult = {
    databaseBytes: await databaseBytes(cluster, db),
    baseline: [],
    provider: [],
  };
  for (let run = 0; run < runs; run += 1) {
    const order = run % 2 === 0 ? ["baseline", "provider"] : ["provider", "baseline"];
    for (const which of order) {
      if (which === "baseline") {
        result.baseline.push(await plainDump(cluster, path.join(scratch, `plain-${run}.dump`), db));
      } else {
        result.provider.push(await providerBackup(provider, vaultId, instanceName));
      }
    }
  }
  return result;
}

interface Summary {
  /** Throughput ratio provider / pg_dump from the best run of each (the least disturbed by other load). */
  readonly bestRatio: number;
  readonly meanRatio: number;
  /** Peak RSS while the provider backed up, and its rise over the RSS just before. */
  readonly peak: number;
  readonly rise: number;
}

function report(label: string, r: SizeResult): Summary {
  const baselineMs = mean(r.baseline.map((b) => b.ms));
  const syncMs = mean(r.baseline.map((b) => b.syncMs));
  const providerMs = mean(r.provider.map((p) => p.ms));
  const bestBaselineMs = Math.min(...r.baseline.map((b) => b.ms));
  const bestProviderMs = Math.min(...r.provider.map((p) => p.ms));
  const throughput = (ms: number): string =>
    `${(r.databaseBytes / MB / (ms / 1000)).toFixed(1)} MiB/s`;
  const dumpBytes = r.provider[0]?.bytes ?? 0;
  const peaks = r.provider.map((p) => Math.max(p.rssPeakSampled, p.rssPeakKernel ?? 0));
  const peak = Math.max(...peaks);
  const rise = Math.max(...r.provider.map((p, i) => (peaks[i] ?? 0) - p.rssBefore));
  const list = (values: readonly number[]): string => values.map(seconds).join(", ");
  console.log(
    `  ${label}: database ${mib(r.databaseBytes)}, dump ${mib(dumpBytes)} (${((dumpBytes / r.databaseBytes) * 100).toFixed(0)} % of the data, provider format ${r.provider[0]?.format ?? "?"}), ${r.provider.length} run(s) each`,
  );
  console.log(
    `    pg_dump -Fc > file:  mean ${seconds(baselineMs)} = ${throughput(baselineMs)}, best ${seconds(bestBaselineMs)} = ${throughput(bestBaselineMs)}  (runs ${list(r.baseline.map((b) => b.ms))}; fsync apart ${seconds(syncMs)})`,
  );
  console.log(
    `    provider backup:     mean ${seconds(providerMs)} = ${throughput(providerMs)}, best ${seconds(bestProviderMs)} = ${throughput(bestProviderMs)}  (runs ${list(r.provider.map((p) => p.ms))})`,
  );
  console.log(
    `    throughput ratio provider / pg_dump: best ${(bestBaselineMs / bestProviderMs).toFixed(3)}, mean ${(baselineMs / providerMs).toFixed(3)}  (mean vs pg_dump + fsync: ${((baselineMs + syncMs) / providerMs).toFixed(3)})`,
  );
  console.log(
    `    RSS of this process during the provider backup: peak ${mib(peak)}, at most +${mib(rise)} over the RSS just before (runs: ${r.provider.map((p, i) => `${mib(p.rssBefore)} -> ${mib(peaks[i] ?? 0)}`).join(", ")})`,
  );
  return {
    bestRatio: bestBaselineMs / bestProviderMs,
    meanRatio: baselineMs / providerMs,
    peak,
    rise,
  };
}

const scratch = await mkdtemp(path.join(tmpdir(), "pgp-bench-"));
// The cluster's own folder (handed to the server's user when this process is root), short for the socket.
const clusterFolder = await mkdtemp(path.join(tmpdir(), "pgp-"));
let cluster: PostgresCluster | undefined;
try {
  const startedAll = performance.now();
  cluster = await startPostgresCluster({ folder: clusterFolder });
  const provider = await createLocalProvider({
    stateDir: path.join(scratch, "state"),
    binDir: cluster.binDir,
    servers: [{ name: "local", connectionString: cluster.connectionUrl() }],
  });
  const vaultId = provider.backup.vaultId("bench");

  let singleTable: { small: SizeResult; large: SizeResult; loadMs: number } | undefined;
  if (runBackups) {
    await sql(cluster, "postgres", `CREATE DATABASE ${database}`);
    await sql(
      cluster,
      database,
      `CREATE EXTENSION pgcrypto;
       CREATE TABLE bench_rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created timestamptz,
         amount numeric(12, 2), body text)`,
    );
    const instance = await protectLocalDatabase(
      provider,
      vaultId,
      "local",
      database,
      cluster.connectionUrl(database),
    );

    const loadStarted = performance.now();
    await growTo(cluster, smallMb * MB);
    await settle(cluster);
    const smallLoadMs = performance.now() - loadStarted;
    const small = await measure(cluster, provider, vaultId, instance.name, scratch, smallRuns);

    const growStarted = performance.now();
    await growTo(cluster, largeMb * MB);
    await settle(cluster);
    const largeLoadMs = performance.now() - growStarted;
    const large = await measure(cluster, provider, vaultId, instance.name, scratch, runs);
    // The single-table database has been measured: its space goes to the multi-table one.
    await sql(cluster, "postgres", `DROP DATABASE ${database}`);
    singleTable = { small, large, loadMs: smallLoadMs + largeLoadMs };
  }

  // Multi-table: `--tables` tables sharing the large size.
  const multiStarted = performance.now();
  await sql(cluster, "postgres", `CREATE DATABASE ${multiDatabase}`);
  await sql(cluster, multiDatabase, "CREATE EXTENSION pgcrypto");
  for (let t = 1; t <= tableCount; t += 1) {
    await sql(
      cluster,
      multiDatabase,
      `CREATE TABLE bench_t${t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created timestamptz,
         amount numeric(12, 2), body text)`,
    );
    await growTo(cluster, (largeMb * MB) / tableCount, multiDatabase, `bench_t${t}`);
  }
  await settle(cluster, multiDatabase);
  const multiLoadMs = performance.now() - multiStarted;
  const multiInstance = await protectLocalDatabase(
    provider,
    vaultId,
    "local",
    multiDatabase,
    cluster.connectionUrl(multiDatabase),
  );
  // Without the backups measured, one provider backup still makes the recovery point to restore.
  const multi = runBackups
    ? await measure(cluster, provider, vaultId, multiInstance.name, scratch, runs, multiDatabase)
    : undefined;
  const point = multi
    ? multi.provider.at(-1)
    : await providerBackup(provider, vaultId, multiInstance.name);
  if (!point) throw new Error("no multi-table recovery point to restore");

  // Restore: the provider's last multi-table recovery point against plain pg_restore of a plain dump.
  const restores = { baseline: [] as number[], provider: [] as number[], tool: [] as number[] };
  const pointFile = (await provider.backup.listRecoveryPoints(vaultId, multiInstance.name)).find(
    (p) => p.recoveryPointId === point.recoveryPointId,
  )?.files[0]?.fileName;
  const pointDump = path.join(
    scratch,
    "state",
    "vaults",
    "bench",
    "VaultStore",
    multiInstance.name,
    point.recoveryPointId,
    pointFile ?? "",
  );
  const plainFile = path.join(scratch, "restore-baseline.dump");
  if (runRestores) await plainDump(cluster, plainFile, multiDatabase, true);
  for (let run = 0; runRestores && run < runs; run += 1) {
    const order = run % 2 === 0 ? ["baseline", "provider"] : ["provider", "baseline"];
    for (const which of order) {
      if (which === "baseline") {
        restores.baseline.push(await plainRestore(cluster, plainFile, `restored_plain_${run}`));
      } else {
        restores.provider.push(
          await providerRestore(
            cluster,
            provider,
            vaultId,
            multiInstance.name,
            point.recoveryPointId,
            `restored_provider_${run}`,
          ),
        );
      }
    }
    restores.tool.push(
      await plainRestore(cluster, pointDump, `restored_tool_${run}`, availableParallelism()),
    );
  }

  console.log(
    `local backup: provider (LocalBackupService) vs plain pg_dump -Fc and pg_restore, ${randomPercent} % random text per row${only ? ` (--only ${only})` : ""}`,
  );
  console.log(
    `  machine: ${availableParallelism()} CPUs, load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end; data loaded in ${seconds((singleTable?.loadMs ?? 0) + multiLoadMs)}, whole run ${seconds(performance.now() - startedAll)}`,
  );
  const goalsMet: boolean[] = [];
  if (singleTable && multi) {
    const smallResult = report("single table, small", singleTable.small);
    const largeResult = report("single table, large", singleTable.large);
    const multiResult = report(`multi-table (${tableCount} tables)`, multi);
    const ratioMet = largeResult.bestRatio >= goalRatio;
    const multiMet = multiResult.bestRatio >= multiGoalRatio;
    const peakGrowth = largeResult.peak - smallResult.peak;
    const memoryMet = peakGrowth <= memorySlackBytes;
    const { small, large } = singleTable;
    console.log(
      `  goal: single-table throughput ratio at least ${goalRatio} at the large size (best runs) -> ${ratioMet ? "met" : "MISSED"} (${largeResult.bestRatio.toFixed(3)}; mean runs ${largeResult.meanRatio.toFixed(3)})`,
    );
    console.log(
      `  goal: multi-table throughput ratio at least ${multiGoalRatio} (best runs) -> ${multiMet ? "met" : "MISSED"} (${multiResult.bestRatio.toFixed(3)}; mean runs ${multiResult.meanRatio.toFixed(3)})`,
    );
    console.log(
      `  goal: peak memory independent of size -> ${memoryMet ? "met" : "MISSED"} (peak ${mib(smallResult.peak)} -> ${mib(largeResult.peak)} for ${(large.databaseBytes / small.databaseBytes).toFixed(1)}x the data and +${mib((large.provider[0]?.bytes ?? 0) - (small.provider[0]?.bytes ?? 0))} of dump; rise during the backup +${mib(smallResult.rise)} -> +${mib(largeResult.rise)}; allowed +${mib(memorySlackBytes)})`,
    );
    goalsMet.push(ratioMet, multiMet, memoryMet);
  }
  if (runRestores) {
    const bestRestoreRatio = Math.min(...restores.baseline) / Math.min(...restores.provider);
    const meanRestoreRatio = mean(restores.baseline) / mean(restores.provider);
    const list = (values: readonly number[]): string => values.map(seconds).join(", ");
    console.log(`  restore of the multi-table database into a new database, ${runs} run(s) each`);
    console.log(
      `    plain pg_restore -d (1 job) of pg_dump -Fc:  best ${seconds(Math.min(...restores.baseline))}, mean ${seconds(mean(restores.baseline))}  (runs ${list(restores.baseline)})`,
    );
    console.log(
      `    provider restore (verified as it loads):     best ${seconds(Math.min(...restores.provider))}, mean ${seconds(mean(restores.provider))}  (runs ${list(restores.provider)})`,
    );
    console.log(
      `    pg_restore -j ${availableParallelism()} of the provider's dump alone (no verification):  best ${seconds(Math.min(...restores.tool))}, mean ${seconds(mean(restores.tool))}  (runs ${list(restores.tool)}; ratio to plain, best ${(Math.min(...restores.baseline) / Math.min(...restores.tool)).toFixed(3)})`,
    );
    console.log(
      `    time ratio plain / provider: best ${bestRestoreRatio.toFixed(3)}, mean ${meanRestoreRatio.toFixed(3)}`,
    );
    const restoreMet = bestRestoreRatio >= restoreGoalRatio;
    console.log(
      `  goal: restore time ratio at least ${restoreGoalRatio}, verification included (best runs) -> ${restoreMet ? "met" : "MISSED"} (${bestRestoreRatio.toFixed(3)}; mean runs ${meanRestoreRatio.toFixed(3)})`,
    );
    goalsMet.push(restoreMet);
  }
  if (goalsMet.includes(false)) process.exitCode = 1;
} finally {
  await cluster?.stop();
  await rm(clusterFolder, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
}
