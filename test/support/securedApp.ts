/**
 * The app on the local runtime as it runs behind App Service authentication
 * (`WEBSITE_AUTH_ENABLED=true`), over the test file's private PostgreSQL, with one database
 * protected and backed up once, and a way to see everything a request could have left behind.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import { localTopicName } from "../../src/composition.js";
import { createLocalProvider } from "../../src/providers/local/index.js";
import { startHost, type RunningHost } from "@pgprotect/functions-runtime";
import { appHostOptions } from "../../src/cli/hostCli.js";
import { clientPrincipalHeader } from "./clientPrincipal.js";
import { poll } from "./poll.js";
import type { PostgresFixture } from "./postgres.js";

const projectDir = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A local topic of the secured app whose events go to the app's notification router, so that an
 * event its door accepts ends as an email in the outbox: what a forged event would achieve. The
 * app's own topic has no subscriptions here, so the setup's events send nothing.
 */
export const notificationTopicName = "pgprotect-notifications";

/** The running app and what the setup made. */
export interface SecuredApp {
  readonly host: RunningHost;
  /** `PGPROTECT_STATE_DIR`: vaults, secrets, outbox, and the runtime's state under `runtime/`. */
  readonly stateDir: string;
  readonly secretUri: string;
  /** The backup instance of the database `ledger`, with one recovery point. */
  readonly instanceName: string;
  /** The id `POST /api/protections` answered for `ledger`. */
  readonly protectionId: string;
  /** The ad-hoc backup job of the setup. */
  readonly jobName: string;
}

/** Headers of a caller with the function key and the given app roles. */
export function callerHeaders(
  host: Pick<RunningHost, "functionKey">,
  roles: readonly string[],
): Record<string, string> {
  return {
    "x-functions-key": host.functionKey,
    "x-ms-client-principal": clientPrincipalHeader(roles),
    "content-type": "application/json",
  };
}

/** Calls `/api/{route}` as an Operator and parses the JSON answer. */
export async function asOperator(
  host: Pick<RunningHost, "url" | "functionKey">,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(route.startsWith("http") ? route : `${host.url}/api/${route}`, {
    method,
    headers: callerHeaders(host, ["Backup.Operator"]),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Starts the app with authentication on in `beforeAll` (databases `ledger` and `archive`, a
 * weekly policy, `ledger` protected and backed up once) and stops it in `afterAll`.
 */
export function useSecuredApp(postgres: PostgresFixture): { readonly app: SecuredApp } {
  let app: SecuredApp | undefined;
  let stateDir: string | undefined;
  let host: RunningHost | undefined;

  beforeAll(async () => {
    // The host runs the app from dist/ as Azure would: build first.
    expect(existsSync(path.join(projectDir, "dist", "src", "index.js"))).toBe(true);
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query("postgres", "CREATE DATABASE archive");
    await postgres.query(
      "ledger",
      "CREATE TABLE entries (id int PRIMARY KEY); INSERT INTO entries SELECT generate_series(1, 10)",
    );
    stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-e2e-secured-"));
    const provider = await createLocalProvider({
      stateDir,
      servers: [{ name: "local", connectionString: postgres.cluster.connectionUrl() }],
      binDir: postgres.cluster.binDir,
    });
    const secretUri = await provider.secrets.setSecret(
      "ledger",
      postgres.cluster.connectionUrl("ledger"),
    );
    host = await startHost({
      ...appHostOptions,
      appDir: projectDir,
      port: 0,
      stateDir: path.join(stateDir, "runtime"),
      banner: false,
      timers: false,
      log: () => undefined,
      env: {
        PGPROTECT_STATE_DIR: stateDir,
        DATABASE_URL: postgres.cluster.connectionUrl(),
        WEBSITE_AUTH_ENABLED: "true",
      },
      eventGrid: {
        topics: {
          [localTopicName]: { subscriptions: [] },
          [notificationTopicName]: {
            subscriptions: [{ function: "eventGridRouteNotifications" }],
          },
        },
      },
    });
    const running = host;
    const policy = await asOperator(running, "PUT", "vaults/pgprotect-vault/policies/weekly", {
      spec: {
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M", monthly: { vault: "P12M" } },
      },
    });
    expect(policy.status).toBe(201);
    const started = await asOperator(running, "POST", "protections", {
      serverName: "local",
      databaseName: "ledger",
      policyName: "weekly",
      secretUri,
    });
    expect(started.status).toBe(202);
    const protectionId = String(started.body.id);
    const protectedLedger = await poll(
      () => asOperator(running, "GET", `protections/${protectionId}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(protectedLedger.body.outcome).toBe("Protected");
    const instanceName = String(protectedLedger.body.backupInstanceName);
    const backup = await asOperator(running, "POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    expect(backup.status).toBe(202);
    const jobName = String(backup.body.jobName);
    const job = await poll(
      () => asOperator(running, "GET", `jobs/${jobName}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    expect(job.body.status).toBe("Completed");
    await settled(running);
    app = { host: running, stateDir, secretUri, instanceName, protectionId, jobName };
  }, 180_000);

  afterAll(async () => {
    await host?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  return {
    get app(): SecuredApp {
      if (!app) throw new Error("the app is not started yet");
      return app;
    },
  };
}

/** The Durable instances the runtime knows, each as `name id status lastUpdatedTime`. */
async function durableInstances(host: RunningHost): Promise<string[]> {
  const response = await fetch(
    `${host.url}/runtime/webhooks/durabletask/instances?taskHub=${host.taskHub}`,
    { headers: { "x-functions-key": host.keys.systemKeys.durabletask_extension } },
  );
  const instances = (await response.json()) as Array<Record<string, unknown>>;
  return instances
    .map((i) =>
      [i.name, i.instanceId, i.runtimeStatus, i.lastUpdatedTime].map((v) => String(v)).join(" "),
    )
    .sort();
}

/** Resolves once no Durable instance is pending or running. */
export async function settled(host: RunningHost): Promise<void> {
  const busy = (instances: string[]) =>
    instances.filter((i) => / (Pending|Running|ContinuedAsNew) /.test(i));
  const last = await poll(
    () => durableInstances(host),
    (instances) => busy(instances).length === 0,
  );
  expect(busy(last)).toEqual([]);
}

/**
 * Files whose churn is not a request's doing: the runtime's logs and timer status, and SQLite's
 * own journal files beside the Durable store.
 */
const incidentalFile =
  /(^|\/)(logs?|timers?)(\/|$)|\.log$|-(wal|shm|journal)$|(^|\/)\.?[^/]*\.lock$/i;

function filesUnder(root: string, relative = ""): string[] {
  const folder = path.join(root, relative);
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
    if (incidentalFile.test(child)) return [];
    return entry.isDirectory() ? [`${child}/`, ...filesUnder(root, child)] : [child];
  });
}

/** Everything a request could leave behind, as a value two snapshots can be compared by. */
export interface SideEffects {
  /** Every file and folder under the state folder (outbox, vaults, jobs, secrets, runtime). */
  readonly files: readonly string[];
  /** Every Durable instance with its status and last update. */
  readonly instances: readonly string[];
}

/** Takes a {@link SideEffects} snapshot of the running app. */
export async function sideEffects(app: SecuredApp): Promise<SideEffects> {
  return {
    files: filesUnder(app.stateDir).sort(),
    instances: await durableInstances(app.host),
  };
}
