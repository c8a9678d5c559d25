/**
 * Auto-protection on the local provider, through the real app on the local Functions runtime
 * with its timers running on the system clock: from a DBA's tag (`COMMENT ON DATABASE ... IS
 * '{"pgprotect-policy": "weekly"}'`, committed) to protection started (the app's
 * `PgProtect.AutoProtect.Started` line for that database), for `--runs` databases (20), tagged
 * one after the other at random moments of the resource-event poll's period.
 *
 * It also shows what the poll costs while nothing changes: the transactions the server counts
 * per second while the app idles for `--idle-seconds` (10), and the time of one poll (the
 * directory's look at the server, compared with what it saw last) taken in this process.
 *
 * Options: `--runs N` (20), `--idle-seconds N` (10).
 *
 * Run: `npm run build && node dist/bench/autoProtectLatency.bench.js`.
 * Goal: tag to protection started p95 under 5 s.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { startHost, type EventGridSettings, type RunningHost } from "@pgprotect/functions-runtime";
import { publishResourceChanges } from "../src/application/localResourceEvents.js";
import { appHostOptions, eventGridFileSchema } from "../src/cli/hostCli.js";
import { compilePolicySpec } from "../src/domain/policy/spec.js";
import { formatDatabaseId, formatVaultId, LOCAL_SCOPE } from "../src/domain/protection/ids.js";
import { createLocalProvider } from "../src/providers/local/index.js";
import {
  startPostgresCluster,
  type PostgresCluster,
} from "../src/providers/local/postgresCluster.js";
import { projectRoot } from "./support/projectRoot.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    "idle-seconds": { type: "string", default: "10" },
  },
});
const runs = Number(args.runs);
const idleSeconds = Number(args["idle-seconds"]);
if (!Number.isInteger(runs) || runs < 1 || runs > 999) {
  throw new Error("--runs must be an integer from 1 to 999");
}
if (!(idleSeconds > 0)) throw new Error("--idle-seconds must be positive");

const goalMs = 5000;
const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function databaseName(i: number): string {
  return `tagged${String(i + 1).padStart(3, "0")}`;
}

/** The value below which `p` of the sorted values fall (nearest rank). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  cluster: PostgresCluster,
  database: string,
  text: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.connectionUrl(database) });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** Transactions committed in the whole cluster so far. */
async function committed(cluster: PostgresCluster): Promise<number> {
  const [row] = await sql<{ n: string }>(
    cluster,
    "postgres",
    "SELECT sum(xact_commit)::text AS n FROM pg_stat_database",
  );
  return Number(row?.n ?? 0);
}

/** Host lines, handed to whoever waits for one that matches. */
class LineLog {
  readonly #waiting: { match: (line: string) => boolean; resolve: (at: number) => void }[] = [];

  add(line: string): void {
    const at = performance.now();
    for (const waiter of [...this.#waiting]) {
      if (waiter.match(line)) {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        waiter.resolve(at);
      }
    }
  }

  next(match: (line: string) => boolean, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const waiter = { match, resolve: (at: number | undefined) => resolve(at) };
      this.#waiting.push(waiter);
      setTimeout(() => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) {
          this.#waiting.splice(index, 1);
          resolve(undefined);
        }
      }, timeoutMs).unref();
    });
  }
}

async function main(): Promise<void> {
  const appDir = projectRoot();
  const clusterDir = await mkdtemp(path.join(tmpdir(), "pgb-"));
  const stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-bench-autoprotect-"));
  let cluster: PostgresCluster | undefined;
  let host: RunningHost | undefined;
  const lines = new LineLog();
  try {
    console.log(`Starting PostgreSQL and creating ${runs} databases...`);
    cluster = await startPostgresCluster({ folder: clusterDir });
    await sql(cluster, "postgres", "CREATE DATABASE bench_template");
    await sql(
      cluster,
      "bench_template",
      "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 100) g",
    );
    for (let i = 0; i < runs; i += 1)
      await sql(cluster, "postgres", `CREATE DATABASE ${databaseName(i)} TEMPLATE bench_template`);

    const provider = await createLocalProvider({
      stateDir,
      servers: [{ name: "local", connectionString: cluster.connectionUrl() }],
      binDir: cluster.binDir,
    });
    await provider.backup.createPolicy(
      vaultId,
      "weekly",
      compilePolicySpec({
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M" },
      }),
    );
    // The conventional secret of an auto-protected database: <server>-<database>.
    for (let i = 0; i < runs; i += 1) {
      await provider.secrets.setSecret(
        `local-${databaseName(i)}`,
        cluster.connectionUrl(databaseName(i)),
      );
    }

    const eventGrid = eventGridFileSchema.parse(
      JSON.parse(await readFile(path.join(appDir, "eventgrid.local.json"), "utf8")),
    ) as EventGridSettings;
    host = await startHost({
      ...appHostOptions,
      appDir,
      port: 0,
      stateDir: path.join(stateDir, "runtime"),
      banner: false,
      timers: true,
      log: (line) => lines.add(line),
      env: {
        PGPROTECT_STATE_DIR: stateDir,
        DATABASE_URL: cluster.connectionUrl(),
      },
      eventGrid,
    });

    // Let the first polls see the databases as they are, untagged.
    await sleep(3000);
    const idleBefore = await committed(cluster);
    const idleStarted = performance.now();
    await sleep(idleSeconds * 1000);
    const idleAfter = await committed(cluster);
    // The two reads of the counter are transactions too.
    const perSecond = (idleAfter - idleBefore - 1) / ((performance.now() - idleStarted) / 1000);

    console.log(`Tagging ${runs} databases, one at a time, at random moments...`);
    const latencies: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < runs; i += 1) {
      await sleep(Math.random() * 2000);
      const database = databaseName(i);
      const datasourceId = formatDatabaseId({
        ...LOCAL_SCOPE,
        kind: "servers",
        serverName: "local",
        databaseName: database,
      });
      const started = lines.next((line) => line.includes(`protecting ${datasourceId}`), 30_000);
      await sql(
        cluster,
        "postgres",
        `COMMENT ON DATABASE ${database} IS '{"pgprotect-policy":"weekly"}'`,
      );
      const tagged = performance.now();
      const at = await started;
      if (at === undefined) failures.push(`${database}: no protection started within 30 s`);
      else latencies.push(at - tagged);
    }

    // One poll's cost, in this process, on the same server and state.
    const pollTimes: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const t0 = performance.now();
      await publishResourceChanges({
        stateDir: path.join(stateDir, "bench-poll"),
        directory: provider.directory,
        publisher: { publish: async () => undefined },
      });
      pollTimes.push(performance.now() - t0);
    }

    const sorted = [...latencies].sort((a, b) => a - b);
    const p95 = percentile(sorted, 95);
    const polls = [...pollTimes].sort((a, b) => a - b);
    console.log(
      "auto-protection on the local runtime: tag (COMMENT ON DATABASE) to protection started",
    );
    console.log(
      `  machine: ${availableParallelism()} CPUs, load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
    );
    console.log(
      `  tag -> protection started: p50 ${Math.round(percentile(sorted, 50))} ms, p95 ${Math.round(p95)} ms, min ${Math.round(sorted[0] ?? Number.NaN)} ms, max ${Math.round(sorted.at(-1) ?? Number.NaN)} ms (n=${sorted.length})`,
    );
    console.log(
      `  idle cost: ${perSecond.toFixed(1)} transactions/s on the server while nothing changes; one poll takes p50 ${percentile(polls, 50).toFixed(1)} ms, p95 ${percentile(polls, 95).toFixed(1)} ms in this process`,
    );
    for (const failure of failures) console.log(`  FAILED ${failure}`);
    const met = failures.length === 0 && p95 < goalMs;
    console.log(`  goal: p95 under ${goalMs} ms -> ${met ? "met" : "MISSED"}`);
    if (!met) process.exitCode = 1;
  } finally {
    await host?.stop();
    await cluster?.stop();
    await rm(clusterDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
