/**
 * The `pgprotect` client commands as a person and a script use them: the real command in child
 * processes against a running host, on pipes and on a pseudo-terminal (util-linux `script`).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupJob } from "../../src/domain/protection/types.js";
import { cliEntry, runPgprotect, type CliRun } from "../support/hostProcess.js";
import { projectDir, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

/** What a person saw on the terminal, colours and cursor moves removed, and how it ended. */
interface TerminalRun {
  readonly code: number | null;
  readonly screen: string;
}

/**
 * Runs `pgprotect <args>` on a pseudo-terminal, as in a person's shell; `typeWhen` types keys
 * (e.g. Ctrl+C) once the screen shows a text.
 */
function runOnTerminal(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  typeWhen?: { readonly shown: string; readonly keys: string },
): Promise<TerminalRun> {
  // `exec`: the command is the terminal's foreground process itself, as in a person's shell (a
  // non-interactive sh in between would die of Ctrl+C on its own).
  const quoted = `exec ${[process.execPath, cliEntry, ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ")}`;
  return new Promise((resolve) => {
    const child = spawn("script", ["-qfec", quoted, "/dev/null"], {
      cwd: projectDir,
      env: { ...env, TERM: "xterm-256color" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let raw = "";
    let typed = false;
    child.stdout.on("data", (chunk: Buffer) => {
      raw += chunk.toString();
      if (typeWhen && !typed && stripVTControlCharacters(raw).includes(typeWhen.shown)) {
        typed = true;
        child.stdin.write(typeWhen.keys);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    child.once("close", (code) =>
      resolve({ code, screen: stripVTControlCharacters(raw).replace(/\r/g, "") }),
    );
  });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function json<T>(run: CliRun): T {
  expect(run.code, run.output).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe("the pgprotect client commands against a running host", () => {
  let app: LocalApp;
  /** The environment of a person in the project: only the state folder names the local host. */
  let env: NodeJS.ProcessEnv;
  let instanceName: string;
  let operationId: string;

  beforeAll(async () => {
    for (const database of ["shop", "sales", "hr"]) {
      await postgres.query("postgres", `CREATE DATABASE ${database}`);
      await postgres.query(
        database,
        "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 200) g",
      );
    }
    app = await startLocalApp({
      postgres,
      name: "cli-client",
      policies: { weekly: weeklyPolicy },
      secrets: {
        shop: postgres.cluster.connectionUrl("shop"),
        sales: postgres.cluster.connectionUrl("sales"),
        // The database refuses these credentials: protection fails in its orchestration.
        refused: Object.assign(new URL(postgres.cluster.connectionUrl("hr")), {
          username: "nobody",
          password: "wrong",
        }).toString(),
      },
    });
    env = { PATH: process.env.PATH, PGPROTECT_STATE_DIR: app.stateDir };
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("protects a database with --wait, a line per step on a pipe, and exits 0 with the outcome", async () => {
    const run = await runPgprotect(
      [
        "protect",
        "--server",
        "local",
        "--database",
        "shop",
        "--policy",
        "weekly",
        "--secret-uri",
        app.secretUris.shop ?? "",
        "--wait",
      ],
      env,
    );

    expect(run.code, run.output).toBe(0);
    expect(run.stderr).toMatch(/: step resolve done/);
    expect(run.stderr).toMatch(/: step createBackupInstance done/);
    expect(run.stderr).toMatch(/: Completed, outcome Protected/);
    expect(run.stdout).toMatch(/outcome\s+Protected/);
    instanceName = /backup instance\s+(\S+)/.exec(run.stdout)?.[1] ?? "";
    operationId = /operation\s+(protect-\S+)/.exec(run.stdout)?.[1] ?? "";
    expect(instanceName).not.toBe("");
    expect(operationId).not.toBe("");
  });

  it("lists the protected item and the vault's policy as tables and as the API's JSON", async () => {
    const table = await runPgprotect(["instances"], env);
    const list = json<{ value: Array<{ name: string; friendlyName: string }> }>(
      await runPgprotect(["instances", "--output", "json"], env),
    );
    const policies = await runPgprotect(["policies"], env);

    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+DATASOURCE\s+VAULT\s+STATE/);
    expect(table.stdout).toContain("local/shop");
    expect(list.value.map((i) => i.friendlyName)).toEqual(["local/shop"]);
    expect(list.value[0]?.name).toBe(instanceName);
    expect(policies.code, policies.output).toBe(0);
    expect(policies.stdout).toMatch(
      /weekly\s+Microsoft.DBforPostgreSQL\/servers\/databases\s+R\/\S+\/P1W\s+Default P3M/,
    );
  });

  it("backs up with --wait and answers the completed job as JSON", async () => {
    const job = json<BackupJob>(
      await runPgprotect(["backup", instanceName, "--wait", "--output", "json"], env),
    );

    expect(job).toMatchObject({ status: "Completed", operation: "OnDemandBackup" });
    expect(job.recoveryPointId).toBeTruthy();
  });

  it("restores into a new database with --wait and shows that it was verified", async () => {
    const run = await runPgprotect(
      ["restore", instanceName, "--target-database", "shop_copy", "--wait"],
      env,
    );

    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/status\s+Completed/);
    expect(run.stdout).toMatch(/verification\s+verified: 1 tables, 200 rows/);
    expect(await postgres.query("shop_copy", "SELECT count(*)::int AS n FROM orders")).toEqual([
      { n: 200 },
    ]);
  });

  it("lists jobs with filters and shows one job and one protection by id", async () => {
    const jobs = json<{ value: BackupJob[] }>(
      await runPgprotect(["jobs", "--output", "json"], env),
    );
    const restores = await runPgprotect(["jobs", "--operation", "Restore"], env);
    const restore = jobs.value.find((job) => job.operation === "Restore");
    const shown = await runPgprotect(["status", restore?.name ?? "?"], env);
    const protection = await runPgprotect(["status", operationId, "--output", "json"], env);

    expect(jobs.value.map((job) => job.operation).sort()).toEqual(["OnDemandBackup", "Restore"]);
    expect(restores.stdout).toMatch(/^JOB\s+OPERATION\s+STATUS/);
    expect(restores.stdout).toContain("Restore");
    expect(restores.stdout).not.toContain("OnDemandBackup");
    expect(shown.code, shown.output).toBe(0);
    expect(shown.stdout).toMatch(/restored to\s+\S*shop_copy/);
    expect(json<{ outcome: string; backupInstanceName: string }>(protection)).toMatchObject({
      outcome: "Protected",
      backupInstanceName: instanceName,
    });
  });

  it("draws a protection's steps in place on a terminal and ends on its outcome", async () => {
    const run = await runOnTerminal(
      [
        "protect",
        "--server",
        "local",
        "--database",
        "sales",
        "--policy",
        "weekly",
        "--secret-uri",
        app.secretUris.sales ?? "",
        "--wait",
      ],
      env,
    );

    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toContain("Protecting local/sales");
    expect(run.screen).toContain("✔ Find the datasource");
    expect(run.screen).toContain("✔ Create the backup instance");
    expect(run.screen).toMatch(/✔ Protecting local\/sales · Protected/);
    // Plain log lines are for pipes only.
    expect(run.screen).not.toContain(": step resolve done");
  });

  it("watches jobs on a terminal until none is in progress, showing the new job's final state", async () => {
    const started = json<{ jobName: string }>(
      await runPgprotect(["backup", instanceName, "--output", "json"], env),
    );

    const run = await runOnTerminal(["jobs", "--watch", "--until-done", "--interval", "0.2"], env);

    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toMatch(/✔ Jobs · 0 in progress/);
    expect(run.screen).toMatch(new RegExp(`${started.jobName}\\s+OnDemandBackup\\s+Completed`));
  });

  it("stops watching jobs on Ctrl+C, leaving the last list on screen, and exits 0", async () => {
    const run = await runOnTerminal(["jobs", "--watch", "--interval", "0.2"], env, {
      shown: "Ctrl+C to stop",
      keys: "\u0003",
    });

    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toMatch(/■ Jobs · 0 in progress · updated .* · stopped/);
    expect(run.screen).toMatch(/OnDemandBackup\s+Completed/);
  });

  it("prints a problem document from the API as one line with its code, and exits 3", async () => {
    const run = await runPgprotect(["backup", "no-such-instance"], env);

    expect(run.code).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^pgprotect: Not found: .*no-such-instance.*\[[A-Z_]+\]/);
  });

  it("exits 1 when the work it waited for fails, saying why in one line", async () => {
    const run = await runPgprotect(
      [
        "protect",
        "--server",
        "local",
        "--database",
        "hr",
        "--policy",
        "weekly",
        "--secret-uri",
        app.secretUris.refused ?? "",
        "--wait",
      ],
      env,
    );

    expect(run.code, run.output).toBe(1);
    expect(run.stdout).toMatch(/outcome\s+Failed/);
    expect(run.stderr).toMatch(/^pgprotect: protect-\S+ failed: .+\[[A-Z_]+\]/m);
  });

  it("exits 4 when the API refuses the key, and prints no key", async () => {
    const wrongKey = "not-the-key-0123456789";
    const run = await runPgprotect(["instances"], { ...env, PGPROTECT_KEY: wrongKey });

    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^pgprotect: Unauthorized: .+ \[UNAUTHORIZED\]\n$/);
    expect(run.output).not.toContain(wrongKey);
    expect(run.output).not.toContain(app.host.functionKey);
  });

  it("sends the local host's key to the local host only: an API named elsewhere gets PGPROTECT_KEY or none", async () => {
    const byUrl = await runPgprotect(["instances", "--api", app.host.url], env);
    const byKey = await runPgprotect(["instances"], {
      PATH: process.env.PATH,
      PGPROTECT_API_URL: `${app.host.url}/api`,
      PGPROTECT_KEY: app.host.functionKey,
    });

    expect(byUrl.code, byUrl.output).toBe(0);
    expect(byKey.code, byKey.output).toBe(0);
    expect(byKey.stdout).toContain("local/shop");
  });

  it("exits 5 when nothing answers at the API, naming the URL", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api`;
    const run = await runPgprotect(["jobs"], { ...env, PGPROTECT_API_URL: url });

    expect(run.code).toBe(5);
    expect(run.stderr).toBe(`pgprotect: cannot reach the API at ${url} (ECONNREFUSED)\n`);
  });

  it("exits 5 with what to do when no API is named and no local host runs", async () => {
    const emptyState = mkdtempSync(path.join(tmpdir(), "pgprotect-cli-empty-"));
    try {
      const run = await runPgprotect(["instances"], {
        PATH: process.env.PATH,
        PGPROTECT_STATE_DIR: emptyState,
      });

      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(
        /^pgprotect: no API to talk to: give --api URL or set PGPROTECT_API_URL, or start the local host/,
      );
    } finally {
      rmSync(emptyState, { recursive: true, force: true });
    }
  });

  it("exits 2 on a wrong command line, before calling the API", async () => {
    const noTarget = await runPgprotect(["restore", instanceName], env);
    const badStatus = await runPgprotect(["jobs", "--status", "Sleeping"], env);
    const unknown = await runPgprotect(["instances", "--colour"], env);

    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/^pgprotect: name exactly one target/);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/Sleeping/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^pgprotect: unknown option '--colour'/);
  });

  it("draws a bar of the databases done while it protects every database of a server", async () => {
    const run = await runOnTerminal(
      [
        "protect",
        "--server",
        "local",
        "--all-databases",
        "--max-concurrency",
        "2",
        "--policy",
        "weekly",
        "--secret-uri",
        app.secretUris.shop ?? "",
        "--wait",
        "--interval",
        "0.2",
      ],
      env,
    );

    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toMatch(/[█░]{24} \d+\/\d+ databases/);
    expect(run.screen).toMatch(/✔ Protecting every database of local · Protected/);
    expect(run.screen).toMatch(/already protected\s+.*\bshop\b/);
  });
});
