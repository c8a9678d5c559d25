/**
 * No secret where it should not be: a whole scenario on `pgprotect host` (the real process, as
 * `npm start` runs it), then a scan of everything it left for the secret values it was given.
 *
 * Scanned: every line the host printed (its own, the worker's output, the app's logs), every HTTP
 * answer of the scenario, the Durable instances' inputs, outputs, custom statuses and histories
 * (through the management API), and every file under the state folder — job records, events,
 * the notification outbox and delivery log, timer status, dead letters, the Durable store. Not
 * scanned: the secret store (it holds the secrets), the runtime's key file (it holds the keys),
 * and the dumps, which hold the database's content.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  readHostKeys,
  runPgprotect as runCli,
  startHostProcess,
  stopHostProcess,
  type HostProcess,
} from "../support/hostProcess.js";
import { usePostgresCluster } from "../support/postgres.js";
import { weeklyPolicy } from "../support/localApp.js";
import { poll } from "../support/poll.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

/** A password no code path produces by chance, with characters a URL must encode. */
const databasePassword = "Canary:Pw#4f9e-noLeak";
/** The password of a secret that does not open the database (failure paths log the most). */
const wrongPassword = "Canary:Wrong#b71c-noLeak";
/** A secret that is no connection string at all, which error messages might be tempted to quote. */
const malformedSecret = "Canary-Malformed-5a0d host:127.0.0.1 pw:noLeak";

/** A secret value and the forms it may take on the way out (URL-encoded in a connection string). */
interface SecretValue {
  readonly name: string;
  readonly value: string;
}

/** Where a secret value was found. */
interface Finding {
  readonly secret: string;
  readonly where: string;
  readonly excerpt: string;
}

/** Every form of each secret worth looking for: as given, URL-encoded, JSON-escaped. */
function formsOf(secrets: readonly SecretValue[]): SecretValue[] {
  return secrets.flatMap((secret) =>
    [
      ...new Set([
        secret.value,
        encodeURIComponent(secret.value),
        JSON.stringify(secret.value).slice(1, -1),
      ]),
    ].map((value) => ({ name: secret.name, value })),
  );
}

/** The findings of the secrets in one text. */
function scanText(
  text: string,
  where: string,
  secrets: readonly SecretValue[],
  allowed: (secret: SecretValue, line: string) => boolean = () => false,
): Finding[] {
  const findings: Finding[] = [];
  for (const secret of secrets) {
    let at = text.indexOf(secret.value);
    while (at !== -1) {
      const lineStart = text.lastIndexOf("\n", at) + 1;
      const lineEnd = text.indexOf("\n", at);
      const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
      if (!allowed(secret, line)) {
        findings.push({
          secret: secret.name,
          where,
          excerpt: text.slice(Math.max(0, at - 80), at + secret.value.length + 40),
        });
      }
      at = text.indexOf(secret.value, at + 1);
    }
  }
  return findings;
}

/** Every file under `folder`, relative paths. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" }).filter((entry) =>
    statSync(path.join(folder, entry)).isFile(),
  );
}

describe("secrets on the local runtime", () => {
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  let host: HostProcess | undefined;
  /** Every HTTP answer of the scenario: where, and the body as received. */
  const answers: { where: string; body: string }[] = [];
  /** Everything the CLI commands printed. */
  let cliOutput = "";

  beforeAll(() => {
    stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-e2e-secrets-"));
  });

  afterAll(async () => {
    if (host) await stopHostProcess(host);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  async function call(
    method: string,
    route: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; body: Body }> {
    const url = route.startsWith("http") ? route : `${host?.url}/api/${route}`;
    const response = await fetch(url, {
      method,
      headers: { "content-type": "application/json", ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const headerText = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
    answers.push({
      where: `${method} ${url.replace(/code=[^&]+/, "code=…")}`,
      body: `${headerText}\n\n${text}`,
    });
    return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Body) };
  }

  it("leaves none of them in logs, HTTP answers, Durable history or state files after protect, back up, notify and restore", async () => {
    // Arrange: a database owned by a role with a distinctive password, and secrets that hold it.
    const port = new URL(postgres.cluster.connectionUrl()).port;
    await postgres.query("postgres", "CREATE DATABASE crm");
    await postgres.query(
      "postgres",
      `CREATE ROLE crm_owner LOGIN CREATEDB PASSWORD '${databasePassword.replace(/'/g, "''")}'`,
    );
    await postgres.query("postgres", "ALTER DATABASE crm OWNER TO crm_owner");
    await postgres.query("postgres", "CREATE DATABASE ledger OWNER crm_owner");
    await postgres.query("postgres", "CREATE DATABASE archive OWNER crm_owner");
    await postgres.query(
      "crm",
      `SET ROLE crm_owner;
       CREATE TABLE customers (id int PRIMARY KEY, name text);
       INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g`,
    );
    const connectionString = `postgresql://crm_owner:${encodeURIComponent(databasePassword)}@127.0.0.1:${port}/crm`;
    const wrongConnectionString = `postgresql://crm_owner:${encodeURIComponent(wrongPassword)}@127.0.0.1:${port}/ledger`;
    const serverUrl = postgres.cluster.connectionUrl();
    env = {
      ...process.env,
      PGPROTECT_PROVIDER: "local",
      PGPROTECT_STATE_DIR: stateDir,
      DATABASE_URL: serverUrl,
      LOCAL_POSTGRES_SERVERS: "",
      // The default notification path of `npm start`: the outbox, no SMTP settings at all.
      NOTIFICATION_SETTINGS: "",
      EMAIL_PROVIDER: "",
      SMTP_HOST: "",
    };
    const stored = await runCli(["local", "secret", "set", "crm"], env, connectionString);
    const storedWrong = await runCli(
      ["local", "secret", "set", "ledger"],
      env,
      connectionString.replace(/\/crm$/, "/ledger"),
    );
    const storedMalformed = await runCli(
      ["local", "secret", "set", "broken"],
      env,
      malformedSecret,
    );
    cliOutput += stored.output + storedWrong.output + storedMalformed.output;
    expect(stored.code, stored.output).toBe(0);
    expect(storedWrong.code, storedWrong.output).toBe(0);
    const secretUri = /(https:\/\/\S+)/.exec(stored.output)?.[1];
    const wrongSecretUri = /(https:\/\/\S+)/.exec(storedWrong.output)?.[1];
    const malformedSecretUri = /(https:\/\/\S+)/.exec(storedMalformed.output)?.[1];
    expect(secretUri).toBeDefined();
    expect(malformedSecretUri).toBeDefined();
    host = await startHostProcess(env, { waitHealthy: false });
    const keys = readHostKeys(stateDir);
    const asCaller = { "x-functions-key": keys.functionKey };

    // Act: protect (one good secret, one that cannot log in), back up, restore.
    const policy = await call("PUT", "vaults/pgprotect-vault/policies/crm-weekly", asCaller, {
      spec: weeklyPolicy,
    });
    const protection = await call("POST", "protections", asCaller, {
      serverName: "local",
      databaseName: "crm",
      policyName: "crm-weekly",
      secretUri,
    });
    const ledgerProtection = await call("POST", "protections", asCaller, {
      serverName: "local",
      databaseName: "ledger",
      policyName: "crm-weekly",
      secretUri: wrongSecretUri,
    });
    const protectedDone = await poll(
      () => call("GET", String(protection.body.statusUrl), asCaller),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const ledgerDone = await poll(
      () => call("GET", String(ledgerProtection.body.statusUrl), asCaller),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const malformedProtection = await call("POST", "protections", asCaller, {
      serverName: "local",
      databaseName: "archive",
      policyName: "crm-weekly",
      secretUri: malformedSecretUri,
    });
    const malformedDone =
      malformedProtection.status === 202
        ? await poll(
            () => call("GET", String(malformedProtection.body.statusUrl), asCaller),
            (r) => r.body.status === "Completed" || r.body.status === "Failed",
          )
        : malformedProtection;
    const instanceName = String(protectedDone.body.backupInstanceName);
    const backup = await call("POST", `backup-instances/${instanceName}/backups`, asCaller, {
      ruleName: "BackupWeekly",
    });
    const jobId = String(backup.body.jobId);
    await poll(
      () => call("GET", "jobs?status=Completed&operation=OnDemandBackup", asCaller),
      (r) => ((r.body.value as Body[] | undefined) ?? []).some((job) => job.id === jobId),
    );
    // A password rotated in the database but not in the secret fails at the dump: a failed job,
    // its error, its notification.
    const rotated = await runCli(["local", "secret", "set", "ledger"], env, wrongConnectionString);
    cliOutput += rotated.output;
    expect(rotated.code, rotated.output).toBe(0);
    const failingBackup = await call(
      "POST",
      `backup-instances/${String(ledgerDone.body.backupInstanceName)}/backups`,
      asCaller,
      { ruleName: "BackupWeekly" },
    );
    expect(failingBackup.status, JSON.stringify([ledgerDone.body, failingBackup.body])).toBe(202);
    const failedJobId = String(failingBackup.body.jobId);
    const failedJobs = await poll(
      () => call("GET", "jobs?status=Failed", asCaller),
      (r) => ((r.body.value as Body[] | undefined) ?? []).some((job) => job.id === failedJobId),
    );
    const failedJob = await call(
      "GET",
      `jobs/${encodeURIComponent(failedJobId.split("/").pop() ?? "")}`,
      asCaller,
    );
    const restore = await call("POST", `backup-instances/${instanceName}/restores`, asCaller, {
      targetDatabaseName: "crm_restored",
    });
    const restoreDone = await poll(
      () => call("GET", String(restore.body.statusUrl), asCaller),
      (r) => r.status !== 200 || r.body.status !== "InProgress",
    );
    await call("GET", "backup-instances", asCaller);
    await call("GET", "jobs", asCaller);
    await call("GET", `backup-instances/${instanceName}`, asCaller);
    // The notifications of both finished jobs reach the outbox (`npm start`'s default channels).
    const outbox = path.join(stateDir, "notifications", "outbox");
    const outboxFiles = await poll(
      () => Promise.resolve(existsSync(outbox) ? readdirSync(outbox) : []),
      (files) => files.filter((file) => file.endsWith(".eml")).length >= 2,
    );
    // The Durable history of every instance, through the management API.
    const durableKey = { "x-functions-key": keys.systemKeys["durabletask_extension"] ?? "" };
    const taskHub = "pgprotect";
    const instances = await call(
      "GET",
      `${host.url}/runtime/webhooks/durabletask/instances?taskHub=${taskHub}&showInput=true`,
      durableKey,
    );
    const listed = (Array.isArray(instances.body) ? instances.body : []) as Body[];
    for (const instance of listed) {
      await call(
        "GET",
        `${host.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(String(instance.instanceId))}?taskHub=${taskHub}&showHistory=true&showHistoryOutput=true&showInput=true`,
        durableKey,
      );
    }
    await stopHostProcess(host);

    // Assert: the scenario did what it says.
    expect(policy.status).toBe(201);
    expect(protectedDone.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    expect(ledgerDone.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    expect(failedJobs.body.value).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: failedJobId, status: "Failed" })]),
    );
    // The one that cannot log in failed at the dump, as a refused login.
    expect(JSON.stringify(failedJob.body)).toContain("MISSING_DB_PERMISSIONS");
    // The malformed secret is refused, whether at once or by the orchestration.
    expect(malformedDone.body.outcome ?? malformedDone.status).not.toBe("Protected");
    expect(JSON.stringify(malformedDone.body)).toContain("CONNECTION_STRING_INVALID");
    expect(outboxFiles.filter((file) => file.endsWith(".eml")).length).toBeGreaterThanOrEqual(2);
    expect(backup.status).toBe(202);
    expect(restoreDone.body.status, JSON.stringify(restoreDone.body)).toBe("Completed");
    expect(listed.length).toBeGreaterThanOrEqual(4);

    // Assert: the scan.
    const superuserPassword = postgres.cluster.password ?? "";
    const secrets = formsOf([
      { name: "database password", value: databasePassword },
      { name: "wrong database password", value: wrongPassword },
      { name: "connection string", value: connectionString },
      { name: "wrong connection string", value: wrongConnectionString },
      { name: "malformed secret", value: malformedSecret },
      { name: "server superuser password", value: superuserPassword },
    ]);
    const hostKeys = formsOf([
      { name: "function key", value: keys.functionKey },
      { name: "master key", value: keys.masterKey },
      { name: "local topic key", value: keys.eventGridTopicKey },
      ...Object.entries(keys.systemKeys).map(([name, value]) => ({ name, value })),
    ]);
    const findings: Finding[] = [
      // The host prints the function key once, in its banner, for the user to call the API with.
      ...scanText(
        host.output(),
        "host output",
        [...secrets, ...hostKeys],
        (secret, line) =>
          secret.name === "function key" && line.startsWith("Function key (x-functions-key"),
      ),
      ...scanText(cliOutput, "CLI output", [...secrets, ...hostKeys]),
      // Status URLs carry the Durable key, as Azure's statusQueryGetUri does: nothing else may.
      ...answers.flatMap((answer) =>
        scanText(
          answer.body,
          `HTTP answer of ${answer.where}`,
          [...secrets, ...hostKeys],
          (secret) => secret.name === "durabletask_extension",
        ),
      ),
    ];
    const scannedFiles: string[] = [];
    for (const file of filesUnder(stateDir)) {
      const name = path.basename(file);
      if (file === "secrets.json" || name.endsWith(".dump")) continue;
      const text = readFileSync(path.join(stateDir, file)).toString("latin1");
      scannedFiles.push(file);
      findings.push(
        ...scanText(
          text,
          `state file ${file}`,
          file === path.join("runtime", "host-keys.json") ? secrets : [...secrets, ...hostKeys],
        ),
      );
    }
    expect(scannedFiles.some((file) => file.includes("outbox") && file.endsWith(".eml"))).toBe(
      true,
    );
    expect(scannedFiles.some((file) => /\.(db|sqlite)/.test(file))).toBe(true);
    expect(findings).toEqual([]);
  }, 180_000);
});
