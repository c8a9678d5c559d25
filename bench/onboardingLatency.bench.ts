/**
 * Latency of the core flows on the local provider, through the real app on the local Functions
 * runtime (HTTP triggers, the Durable engine, the local Event Grid topic and the notification
 * handler) with a private PostgreSQL cluster:
 *
 * - Onboarding: from `POST /api/protections` to ProtectionConfigured, for `--runs` databases
 *   (100 by default), one after the other. ProtectionConfigured is when `GET
 *   /api/protections/{id}`, polled every `--poll-ms` (10 ms), first shows the `waitForProtection`
 *   step done; the backup instance's own creation time and the arrival of the "Protection
 *   configured" notification at the webhook are shown too.
 * - Notification: from a job's completion (its `endTime`) to the arrival of its "Backup completed"
 *   notification, for one ad-hoc backup (`POST /api/backup-instances/{name}/backups`) of each
 *   protected database, one after the other. The notification goes to a real HTTP webhook (as a
 *   Teams Adaptive Card) and to a real SMTP server, both started here, which stamp arrivals.
 *
 * The runtime's timers are off, as in the end-to-end tests: only the flows measured publish. The
 * Event Grid retry schedule is the real one, so a failed delivery would show as a 10 s outlier.
 *
 * Options: `--runs N` (100), `--poll-ms N` (10).
 *
 * Run: `npm run bench:onboarding` (`npm run bench:onboarding -- --runs 10` for a quick run).
 * Goals: onboarding p95 under 2 s, notification p95 under 1 s.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { appHostOptions, eventGridFileSchema } from "../src/cli/hostCli.js";
import { compilePolicySpec } from "../src/domain/policy/spec.js";
import { formatVaultId, LOCAL_SCOPE } from "../src/domain/protection/ids.js";
import { createLocalProvider } from "../src/providers/local/index.js";
import {
  startPostgresCluster,
  type PostgresCluster,
} from "../src/providers/local/postgresCluster.js";
import { startHost, type EventGridSettings, type RunningHost } from "@pgprotect/functions-runtime";
import {
  startSmtpServer,
  startWebhookServer,
  type TestSmtpServer,
  type TestWebhookServer,
} from "../test/support/notificationServers.js";
import { projectRoot } from "./support/projectRoot.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "100" },
    "poll-ms": { type: "string", default: "10" },
  },
});
const runs = Number(args.runs);
const pollMs = Number(args["poll-ms"]);
if (!Number.isInteger(runs) || runs < 1 || runs > 999) {
  throw new Error("--runs must be an integer from 1 to 999");
}
if (!(pollMs > 0)) throw new Error("--poll-ms must be positive");

const onboardingGoalMs = 2000;
const notificationGoalMs = 1000;
const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const policyName = "weekly";
const ruleName = "BackupWeekly";

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the app's timestamps. */
const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function databaseName(i: number): string {
  return `bench_${String(i + 1).padStart(3, "0")}`;
}

/** The value below which `p` of the sorted values fall (nearest rank). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

interface Summary {
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly n: number;
}

function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length),
    n: sorted.length,
  };
}

const ms = (value: number) => `${Math.round(value)} ms`.padStart(8);

function line(label: string, summary: Summary): string {
  return `${label.padEnd(44)} p50 ${ms(summary.p50)}  p95 ${ms(summary.p95)}  min ${ms(summary.min)}  max ${ms(summary.max)}  (n=${summary.n})`;
}

async function sql(cluster: PostgresCluster, database: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.connectionUrl(database) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A message that arrived at one of the notification servers. */
interface Arrival {
  readonly at: number;
  readonly text: string;
}

/**
 * Collects the arrivals at one server with their wall-clock times, and hands out the first one
 * matching a predicate, whether it arrived already or is still to come.
 */
class ArrivalLog {
  readonly #arrivals: Arrival[] = [];
  readonly #waiting: { match: (a: Arrival) => boolean; resolve: (a: Arrival) => void }[] = [];

  add(arrival: Arrival): void {
    this.#arrivals.push(arrival);
    for (const waiter of [...this.#waiting]) {
      if (waiter.match(arrival)) {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        waiter.resolve(arrival);
      }
    }
  }

  first(match: (a: Arrival) => boolean, timeoutMs: number): Promise<Arrival | undefined> {
    const found = this.#arrivals.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter = { match, resolve: (a: Arrival | undefined) => resolve(a) };
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

/** Takes every message the SMTP server receives, stamped when it was handed over. */
function followSmtp(smtp: TestSmtpServer, log: ArrivalLog): void {
  const loop = async (): Promise<void> => {
    for (;;) {
      const mail = await smtp.next();
      log.add({ at: wallNow(), text: `${mail.subject}\n${mail.text}` });
    }
  };
  void loop();
}

/** Takes every request the webhook receives, with its arrival time. */
function followWebhook(webhook: TestWebhookServer, log: ArrivalLog): void {
  const loop = async (): Promise<void> => {
    for (;;) {
      const request = await webhook.next();
      log.add({ at: performance.timeOrigin + request.at, text: request.body });
    }
  };
  void loop();
}

/** Whether a notification is about `title` for `database` (names are zero-padded: no prefix clash). */
const about = (title: string, database: string) => (arrival: Arrival) =>
  arrival.text.includes(title) && new RegExp(`\\b${database}\\b`).test(arrival.text);

interface StepState {
  readonly name: string;
  readonly status: string;
  readonly at: string;
  readonly detail?: string;
}

interface ProtectionStatus {
  readonly status: string;
  readonly outcome: string | null;
  readonly backupInstanceName: string | null;
  readonly steps: readonly StepState[];
  readonly error: unknown;
}

interface OnboardingRun {
  readonly database: string;
  /** POST sent to ProtectionConfigured seen through GET. */
  readonly seenMs: number;
  /** POST sent to the 202 answer. */
  readonly acceptedMs: number;
  /** POST sent to the backup instance's creation time (the provider's clock). */
  readonly createdMs: number;
  /** POST sent to the "Protection configured" notification at the webhook. */
  readonly notifiedMs: number | undefined;
  /** Per step: the time from the previous step's end (or the POST) to this step's end. */
  readonly steps: ReadonlyMap<string, number>;
  readonly backupInstanceName: string;
}

interface NotificationRun {
  readonly database: string;
  /** Request sent to the job's end. */
  readonly jobMs: number;
  /** Job's end to the Teams card's arrival. */
  readonly webhookMs: number | undefined;
  /** Job's end to the email's arrival. */
  readonly emailMs: number | undefined;
  /** Job's end to the start of the orchestration's read that saw it completed. */
  readonly seenMs: number | undefined;
  /** Job's end to the completed event's publication (the publishing activity's end). */
  readonly publishedMs: number | undefined;
}

/** From the Durable status API's history: when the last job read started and the last publication ended. */
interface FollowHistory {
  readonly lastReadAt: number | undefined;
  readonly publishedAt: number | undefined;
}

function followHistory(history: readonly Record<string, unknown>[]): FollowHistory {
  const completed = history.filter((e) => e["EventType"] === "TaskCompleted");
  const reads = completed.filter((e) => e["FunctionName"] === "getJob");
  const publications = completed.filter((e) => e["FunctionName"] === "publishEvents");
  const time = (value: unknown) => (typeof value === "string" ? Date.parse(value) : undefined);
  return {
    lastReadAt: time(reads.at(-1)?.["ScheduledTime"]),
    publishedAt: time(publications.at(-1)?.["Timestamp"]),
  };
}

async function main(): Promise<void> {
  const appDir = projectRoot();
  // Short path: the server's Unix socket lives in this folder.
  const clusterDir = await mkdtemp(path.join(tmpdir(), "pgb-"));
  const stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-bench-onboarding-"));
  let cluster: PostgresCluster | undefined;
  let host: RunningHost | undefined;
  let smtp: TestSmtpServer | undefined;
  let webhook: TestWebhookServer | undefined;
  const hostLog: string[] = [];
  try {
    console.log(`Starting PostgreSQL and creating ${runs} databases...`);
    cluster = await startPostgresCluster({ folder: clusterDir });
    await sql(cluster, "postgres", "CREATE DATABASE bench_template");
    await sql(
      cluster,
      "bench_template",
      "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 100) g",
    );
    for (let i = 0; i < runs; i += 1) {
      await sql(cluster, "postgres", `CREATE DATABASE ${databaseName(i)} TEMPLATE bench_template`);
    }

    const provider = await createLocalProvider({
      stateDir,
      servers: [{ name: "local", connectionString: cluster.connectionUrl() }],
      binDir: cluster.binDir,
    });
    await provider.backup.createPolicy(
      vaultId,
      policyName,
      compilePolicySpec({
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M" },
      }),
    );
    const secretUris: string[] = [];
    for (let i = 0; i < runs; i += 1) {
      secretUris.push(
        await provider.secrets.setSecret(
          databaseName(i).replace(/_/g, "-"),
          cluster.connectionUrl(databaseName(i)),
        ),
      );
    }

    const cards = new ArrivalLog();
    const mails = new ArrivalLog();
    smtp = await startSmtpServer();
    webhook = await startWebhookServer();
    followSmtp(smtp, mails);
    followWebhook(webhook, cards);

    // The committed wiring that `npm start` uses, with Event Grid's real retry schedule.
    const eventGrid = eventGridFileSchema.parse(
      JSON.parse(await readFile(path.join(appDir, "eventgrid.local.json"), "utf8")),
    ) as EventGridSettings;
    host = await startHost({
      ...appHostOptions,
      appDir,
      port: 0,
      stateDir: path.join(stateDir, "runtime"),
      banner: false,
      timers: false,
      log: (entry) => hostLog.push(entry),
      env: {
        PGPROTECT_STATE_DIR: stateDir,
        DATABASE_URL: cluster.connectionUrl(),
        NOTIFICATION_SETTINGS: JSON.stringify({
          channels: [
            { id: "dba-email", type: "email", to: ["dba@contoso.example"] },
            { id: "ops-teams", type: "teams", webhookUrlSetting: "TEAMS_WEBHOOK_URL" },
          ],
          rules: [
            {
              name: "protections",
              match: { eventTypes: ["PgProtect.Protection.Configured"] },
              channels: ["dba-email", "ops-teams"],
            },
            {
              name: "finished-backups",
              match: {
                eventTypes: ["PgProtect.Backup.JobStateChanged"],
                jobStatuses: ["Completed", "Failed"],
              },
              channels: ["dba-email", "ops-teams"],
            },
          ],
        }),
        TEAMS_WEBHOOK_URL: webhook.url,
        EMAIL_PROVIDER: "smtp",
        SMTP_HOST: "127.0.0.1",
        SMTP_PORT: String(smtp.port),
        SMTP_ALLOW_PLAINTEXT: "true",
        EMAIL_SENDER_ADDRESS: "pgprotect@contoso.example",
      },
      eventGrid,
    });
    const running = host;
    const api = async <T>(method: string, route: string, body?: unknown) => {
      const response = await fetch(`${running.url}/api/${route}`, {
        method,
        headers: { "x-functions-key": running.functionKey, "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as T };
    };

    // One protection first, not measured: the worker loads the app's modules on first use.
    console.log("Warming up...");
    await sql(cluster, "postgres", "CREATE DATABASE bench_warmup TEMPLATE bench_template");
    const warmup = await api<{ id: string }>("POST", "protections", {
      serverName: "local",
      databaseName: "bench_warmup",
      policyName,
      secretUri: await provider.secrets.setSecret(
        "bench-warmup",
        cluster.connectionUrl("bench_warmup"),
      ),
    });
    for (;;) {
      const status = await api<ProtectionStatus>("GET", `protections/${warmup.body.id}`);
      if (status.body.status === "Completed" || status.body.status === "Failed") {
        if (status.body.backupInstanceName) {
          await api("POST", `backup-instances/${status.body.backupInstanceName}/backups`, {
            ruleName,
          });
          await cards.first(about("Backup completed", "bench_warmup"), 30_000);
        }
        break;
      }
      await sleep(50);
    }
    await running.topics.whenIdle();

    console.log(`Onboarding ${runs} databases, one at a time (GET polled every ${pollMs} ms)...`);
    const onboarding: OnboardingRun[] = [];
    const failures: string[] = [];
    for (let i = 0; i < runs; i += 1) {
      const database = databaseName(i);
      const sent = wallNow();
      const started = await api<{ id: string }>("POST", "protections", {
        serverName: "local",
        databaseName: database,
        policyName,
        secretUri: secretUris[i],
      });
      const accepted = wallNow();
      if (started.status !== 202) {
        failures.push(`${database}: POST answered ${started.status}`);
        continue;
      }
      let seen: number | undefined;
      let last: ProtectionStatus | undefined;
      const deadline = sent + 60_000;
      while (wallNow() < deadline) {
        const status = await api<ProtectionStatus>("GET", `protections/${started.body.id}`);
        last = status.body;
        const configured = last.steps.some(
          (s) => s.name === "waitForProtection" && s.status === "done",
        );
        if (configured && seen === undefined) seen = wallNow();
        if (last.status === "Completed" || last.status === "Failed") break;
        await sleep(pollMs);
      }
      if (seen === undefined || last?.outcome !== "Protected" || !last.backupInstanceName) {
        failures.push(
          `${database}: ${last?.status} ${last?.outcome} ${JSON.stringify(last?.error)}`,
        );
        continue;
      }
      const notified = await cards.first(about("Protection configured", database), 30_000);
      const instance = await provider.backup.getBackupInstance(vaultId, last.backupInstanceName);
      const steps = new Map<string, number>();
      let previous = sent;
      for (const step of last.steps) {
        const at = Date.parse(step.at);
        steps.set(step.name, at - previous);
        previous = at;
      }
      onboarding.push({
        database,
        seenMs: seen - sent,
        acceptedMs: accepted - sent,
        createdMs: Date.parse(instance.createdAt) - sent,
        notifiedMs: notified ? notified.at - sent : undefined,
        steps,
        backupInstanceName: last.backupInstanceName,
      });
    }
    await running.topics.whenIdle();

    console.log(`Backing up each of the ${onboarding.length} databases, one at a time...`);
    const notifications: NotificationRun[] = [];
    for (const run of onboarding) {
      const sent = wallNow();
      const started = await api<{ jobName: string; operationId: string | null }>(
        "POST",
        `backup-instances/${run.backupInstanceName}/backups`,
        { ruleName },
      );
      if (started.status !== 202) {
        failures.push(`${run.database} backup: POST answered ${started.status}`);
        continue;
      }
      const [card, mail] = await Promise.all([
        cards.first(about("Backup completed", run.database), 60_000),
        mails.first(about("Backup completed", run.database), 60_000),
      ]);
      const job = await api<{ status: string; endTime?: string }>(
        "GET",
        `jobs/${started.body.jobName}`,
      );
      const end = job.body.endTime ? Date.parse(job.body.endTime) : Number.NaN;
      if (job.body.status !== "Completed" || Number.isNaN(end)) {
        failures.push(`${run.database} backup: job ${job.body.status}`);
        continue;
      }
      let history: FollowHistory = { lastReadAt: undefined, publishedAt: undefined };
      if (started.body.operationId) {
        const response = await fetch(
          `${running.url}/runtime/webhooks/durabletask/instances/${started.body.operationId}?taskHub=${running.taskHub}&showHistory=true`,
          { headers: { "x-functions-key": running.keys.systemKeys.durabletask_extension } },
        );
        const status = (await response.json()) as { historyEvents?: Record<string, unknown>[] };
        history = followHistory(status.historyEvents ?? []);
      }
      notifications.push({
        database: run.database,
        jobMs: end - sent,
        webhookMs: card ? card.at - end : undefined,
        emailMs: mail ? mail.at - end : undefined,
        seenMs: history.lastReadAt !== undefined ? history.lastReadAt - end : undefined,
        publishedMs: history.publishedAt !== undefined ? history.publishedAt - end : undefined,
      });
    }
    await running.topics.whenIdle();

    report(onboarding, notifications, failures, hostLog);
  } finally {
    await host?.stop();
    await smtp?.close();
    await webhook?.close();
    await cluster?.stop();
    await rm(clusterDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}

function report(
  onboarding: readonly OnboardingRun[],
  notifications: readonly NotificationRun[],
  failures: readonly string[],
  hostLog: readonly string[],
): void {
  const defined = (values: (number | undefined)[]) =>
    values.filter((v): v is number => v !== undefined);
  console.log(
    `\nMachine: ${availableParallelism()} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(`\nOnboarding (${onboarding.length} of ${runs} databases protected)`);
  const seen = summarize(onboarding.map((r) => r.seenMs));
  console.log(line("POST to ProtectionConfigured (GET)", seen));
  console.log(line("  POST to 202 answer", summarize(onboarding.map((r) => r.acceptedMs))));
  console.log(
    line("  POST to backup instance created", summarize(onboarding.map((r) => r.createdMs))),
  );
  console.log(
    line(
      "  POST to notification at the webhook",
      summarize(defined(onboarding.map((r) => r.notifiedMs))),
    ),
  );
  console.log("  Where the time goes (step end minus previous step end, orchestration clock):");
  const stepNames = [...new Set(onboarding.flatMap((r) => [...r.steps.keys()]))];
  for (const name of stepNames) {
    const values = defined(onboarding.map((r) => r.steps.get(name)));
    console.log(line(`    ${name}`, summarize(values)));
  }

  console.log(`\nNotifications (${notifications.length} backups completed)`);
  const webhook = summarize(defined(notifications.map((r) => r.webhookMs)));
  const email = summarize(defined(notifications.map((r) => r.emailMs)));
  console.log(line("Job end to Teams card at the webhook", webhook));
  console.log(line("Job end to email at the SMTP server", email));
  console.log("  Where the time goes (from the job's end; the orchestration's history):");
  console.log(
    line(
      "    to the read that saw it completed",
      summarize(defined(notifications.map((r) => r.seenMs))),
    ),
  );
  console.log(
    line(
      "    to the completed event published",
      summarize(defined(notifications.map((r) => r.publishedMs))),
    ),
  );
  console.log(
    line(
      "    publication to Teams card",
      summarize(
        defined(
          notifications.map((r) =>
            r.webhookMs !== undefined && r.publishedMs !== undefined
              ? r.webhookMs - r.publishedMs
              : undefined,
          ),
        ),
      ),
    ),
  );
  console.log(line("  (request to job end)", summarize(notifications.map((r) => r.jobMs))));

  const missing =
    onboarding.filter((r) => r.notifiedMs === undefined).length +
    notifications.filter((r) => r.webhookMs === undefined || r.emailMs === undefined).length;
  if (missing > 0) console.log(`\nNotifications that never arrived: ${missing}`);
  for (const failure of failures.slice(0, 10)) console.log(`Failed: ${failure}`);
  const problems = hostLog.filter((entry) => /retry|dead.?letter|fail/i.test(entry));
  if (problems.length > 0) {
    console.log(`\nHost lines about retries or failures (${problems.length}), first ones:`);
    for (const entry of problems.slice(0, 5)) console.log(`  ${entry}`);
  }

  const notificationP95 = Math.max(webhook.p95, email.p95);
  const goals = [
    {
      name: `onboarding p95 ${Math.round(seen.p95)} ms under ${onboardingGoalMs} ms`,
      met: seen.p95 < onboardingGoalMs && onboarding.length === runs,
    },
    {
      name: `notification p95 ${Math.round(notificationP95)} ms under ${notificationGoalMs} ms`,
      met: notificationP95 < notificationGoalMs && notifications.length === onboarding.length,
    },
    { name: "no failures", met: failures.length === 0 && missing === 0 },
  ];
  console.log("");
  for (const goal of goals) console.log(`${goal.met ? "MET   " : "MISSED"} ${goal.name}`);
}

await main();
