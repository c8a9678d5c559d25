/**
 * The real `pgprotect host` in child processes on one state folder, as a user runs it: restarts,
 * a second host, a crash, PostgreSQL going down, and a fresh state folder.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresBinDir } from "../../src/providers/local/postgresCluster.js";
import {
  runPgprotect,
  startHostProcess,
  stopHostProcess,
  type CliRun,
  type HostProcess,
  readHostKeys,
} from "../support/hostProcess.js";
import { functionsApi } from "../support/functionsApi.js";
import { projectDir, weeklyPolicy } from "../support/localApp.js";
import { poll } from "../support/poll.js";
import { listenOn } from "../support/ports.js";

type Body = Record<string, unknown>;

function environment(stateDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGPROTECT_PROVIDER: "local",
    PGPROTECT_STATE_DIR: stateDir,
    DATABASE_URL: "",
    LOCAL_POSTGRES_SERVERS: "",
  };
}

/** Starts `pgprotect host` on a state folder and (unless told not to) waits until its health says ok. */
function startHost(stateDir: string, waitHealthy = true): Promise<HostProcess> {
  return startHostProcess(environment(stateDir), { waitHealthy });
}

/** Runs one `pgprotect` command on a state folder to its end. */
function runCli(args: string[], stateDir: string): Promise<CliRun> {
  return runPgprotect(args, environment(stateDir));
}

/** Runs a PostgreSQL server tool as the cluster's owner (`postgres` when this is root). */
async function runServerTool(tool: string, args: string[]): Promise<void> {
  const postgresBin = await postgresBinDir();
  const [file, fullArgs] =
    process.getuid?.() === 0
      ? ["runuser", ["-u", "postgres", "--", path.join(postgresBin, tool), ...args]]
      : [path.join(postgresBin, tool), args];
  return new Promise((resolve, reject) =>
    execFile(file, fullArgs, (error) => (error ? reject(error) : resolve())),
  );
}

function api(stateDir: string, url: string) {
  const key = readHostKeys(stateDir).functionKey;
  return functionsApi(() => ({ url, functionKey: key }));
}

/** The walkthrough's demo, policy and protection on a running host; returns the instance name. */
async function protectDemo(
  stateDir: string,
  host: HostProcess,
): Promise<{ started: Body; name: string }> {
  const call = api(stateDir, host.url);
  const demo = await runCli(["local", "demo"], stateDir);
  expect(demo.code, demo.stderr).toBe(0);
  const policy = await call("PUT", "vaults/pgprotect-vault/policies/weekly", {
    spec: weeklyPolicy,
  });
  expect(policy.status, JSON.stringify(policy.body)).toBeLessThan(300);
  const started = await call("POST", "protections", {
    serverName: "local",
    databaseName: "demo",
    policyName: "weekly",
    secretUri: "https://pgprotect-local.vault.azure.net/secrets/demo",
  });
  expect(started.status).toBe(202);
  const done = await poll(
    () => call("GET", `protections/${String(started.body.id)}`),
    (r) => r.body.status === "Completed" || r.body.status === "Failed",
  );
  expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected" });
  return { started: started.body, name: String(done.body.backupInstanceName) };
}

/** Starts an ad-hoc backup and follows its job to the end. */
async function backUp(stateDir: string, host: HostProcess, name: string): Promise<Body> {
  const call = api(stateDir, host.url);
  const started = await call("POST", `backup-instances/${name}/backups`, {
    ruleName: "BackupWeekly",
  });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const done = await poll(
    () => call("GET", String(started.body.statusUrl)),
    (r) => r.body.status === "Completed" || r.body.status === "Failed",
  );
  return done.body;
}

const stopHost = stopHostProcess;

function newStateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "pgr-"));
  // Open to the server's user, who runs the private PostgreSQL when the tests run as root.
  chmodSync(dir, 0o755);
  return dir;
}

describe("the host on one state folder across restarts, a second host and a crash", () => {
  const stateDir = newStateDir();
  const hosts: HostProcess[] = [];
  let host: HostProcess;
  let instanceName: string;

  beforeAll(async () => {
    // The command runs the compiled project (bin -> dist), as `npm start` does; `npm test` builds it first.
    expect(existsSync(path.join(projectDir, "dist", "src", "cli", "main.js"))).toBe(true);
    host = await startHost(stateDir);
    hosts.push(host);
  }, 120_000);

  afterAll(async () => {
    for (const running of hosts) await stopHostProcess(running);
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it("answers health 200 naming the local provider, and keeps the runtime's state in the state folder", async () => {
    const response = await fetch(`${host.url}/api/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", provider: "local" });
    expect(existsSync(path.join(stateDir, "runtime", "host-keys.json"))).toBe(true);
    expect(existsSync(path.join(stateDir, "runtime", "durable"))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(stateDir, "host.lock"), "utf8"))).toMatchObject({
      pid: host.child.pid,
      url: host.url,
    });
  });

  it("protects the walkthrough's demo database as a new operation", async () => {
    const { started, name } = await protectDemo(stateDir, host);

    expect(started.existing).toBe(false);
    instanceName = name;
  }, 120_000);

  it("refuses a second host on the same state folder in one line naming the first one's PID and port, and the first keeps serving", async () => {
    const port = new URL(host.url).port;

    const onAnotherPort = await runCli(["host", "--port", "0"], stateDir);
    const onTheSamePort = await runCli(["host", "--port", port], stateDir);

    for (const refused of [onAnotherPort, onTheSamePort]) {
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim().split("\n")).toHaveLength(1);
      expect(refused.stderr).toContain(`PID ${host.child.pid}, port ${port}`);
      expect(refused.stderr).toContain("RUNTIME_STATE_LOCKED");
    }
    const health = await fetch(`${host.url}/api/health`);
    expect(health.status).toBe(200);
    const instances = await api(stateDir, host.url)("GET", "backup-instances");
    expect(instances.status).toBe(200);
    const backup = await backUp(stateDir, host, instanceName);
    expect(backup.status).toBe("Completed");
  }, 180_000);

  it("backs up the demo database after the host was stopped and started twice", async () => {
    const portBefore = readFileSync(path.join(stateDir, "postgres", "port"), "utf8");
    for (let restart = 0; restart < 2; restart += 1) {
      expect(await stopHost(host)).toBe(0);
      host = await startHost(stateDir);
      hosts.push(host);
    }

    const backup = await backUp(stateDir, host, instanceName);

    expect(backup).toMatchObject({ status: "Completed", operation: "OnDemandBackup" });
    expect(readFileSync(path.join(stateDir, "postgres", "port"), "utf8")).toBe(portBefore);
  }, 240_000);

  it("after the host and its worker are killed, the next host takes over the stale lock and the private PostgreSQL", async () => {
    const lock = JSON.parse(readFileSync(path.join(stateDir, "host.lock"), "utf8")) as {
      pid: number;
      workerPid: number;
    };
    expect(lock.pid).toBe(host.child.pid);
    process.kill(lock.workerPid, "SIGKILL");
    host.child.kill("SIGKILL");
    await host.exited;

    host = await startHost(stateDir);
    hosts.push(host);
    const backup = await backUp(stateDir, host, instanceName);

    expect(JSON.parse(readFileSync(path.join(stateDir, "host.lock"), "utf8"))).toMatchObject({
      pid: host.child.pid,
    });
    expect(backup.status).toBe("Completed");
  }, 240_000);

  it("answers health 503 naming the provider and the reason while PostgreSQL is down, and 200 once it is back", async () => {
    const dataDir = path.join(stateDir, "postgres", "data");
    const port = readFileSync(path.join(stateDir, "postgres", "port"), "utf8").trim();
    await runServerTool("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "stop"]);

    const down = await fetch(`${host.url}/api/health`);
    const downBody = (await down.json()) as Body;
    await runServerTool("pg_ctl", [
      "-D",
      dataDir,
      "-o",
      `-p ${port} -k ${path.join(stateDir, "postgres")} -c listen_addresses=127.0.0.1`,
      "-l",
      path.join(stateDir, "postgres", "postgres.log"),
      "-w",
      "start",
    ]);
    const up = await fetch(`${host.url}/api/health`);

    expect(down.status).toBe(503);
    expect(down.headers.get("content-type")).toContain("application/problem+json");
    expect(downBody).toMatchObject({
      status: 503,
      code: "LOCAL_POSTGRES_UNAVAILABLE",
      provider: "local",
    });
    expect(String(downBody.detail)).toContain(`PostgreSQL server 'local' (127.0.0.1:${port})`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: "ok", provider: "local" });
  }, 120_000);

  it("says in one line that the private PostgreSQL's port is taken and what to do, answers 503 meanwhile, and recovers once it is free", async () => {
    const port = Number(readFileSync(path.join(stateDir, "postgres", "port"), "utf8"));
    expect(await stopHost(host)).toBe(0);
    const squatter = await listenOn(port);
    let taken: { status: number; body: Body };
    try {
      host = await startHost(stateDir, false);
      hosts.push(host);
      taken = await poll(
        async () => {
          const response = await fetch(`${host.url}/api/health`);
          return { status: response.status, body: (await response.json()) as Body };
        },
        (r) => r.body.code === "LOCAL_POSTGRES_PORT_TAKEN",
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    const recovered = await poll(
      () => fetch(`${host.url}/api/health`).then((r) => r.status),
      (status) => status === 200,
    );

    expect(taken.status).toBe(503);
    expect(taken.body).toMatchObject({ provider: "local" });
    expect(String(taken.body.recommendedAction)).toContain("LOCAL_POSTGRES_PORT");
    const said = host
      .output()
      .split("\n")
      .filter((line) => line.includes(`Port ${port} of the private PostgreSQL`));
    expect(said.length).toBeGreaterThanOrEqual(1);
    expect(said[0]).toContain("set LOCAL_POSTGRES_PORT");
    expect(recovered).toBe(200);
  }, 120_000);
});

describe("a host on a fresh state folder", () => {
  const first = newStateDir();
  const fresh = newStateDir();

  afterAll(() => {
    rmSync(first, { recursive: true, force: true });
    rmSync(fresh, { recursive: true, force: true });
  });

  it("remembers nothing of another folder's work: protecting answers a new operation", async () => {
    const before = await startHost(first);
    try {
      await protectDemo(first, before);
    } finally {
      await stopHost(before);
    }

    const after = await startHost(fresh);
    let protectedAgain: { started: Body; name: string };
    let instances: Body;
    try {
      protectedAgain = await protectDemo(fresh, after);
      instances = (await api(fresh, after.url)("GET", "backup-instances")).body;
    } finally {
      await stopHost(after);
    }

    expect(protectedAgain.started.existing).toBe(false);
    expect((instances.value as unknown[]).length).toBe(1);
  }, 300_000);
});
