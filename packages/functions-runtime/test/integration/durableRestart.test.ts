import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { openDurableStore } from "../../src/durable/store.js";
import { startHost } from "../../src/host.js";

const appDir = fileURLToPath(new URL("../fixtures/runtime-app", import.meta.url));
const hostScript = fileURLToPath(new URL("./durableHostProcess.ts", import.meta.url));
const stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-durable-restart-"));
const runsFile = path.join(stateDir, "activity-runs.log");
// Fan-out activities past the fourth wait for this file: they are in flight when the host dies.
const gateFile = path.join(stateDir, "activities-may-finish");
const runsBeforeGate = 4;
const launched: ChildProcess[] = [];
const workerPids: number[] = [];

// Node strips the types of the sources; this hook maps their `.js` import specifiers to `.ts`.
const resolveHook = `export async function resolve(s, c, next) {
  try { return await next(s, c); } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND" && /^(\\.|file:)/.test(s) && s.endsWith(".js")) return next(s.slice(0, -3) + ".ts", c);
    throw error;
  }
}`;
const registerHook = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolveHook)}`)});`;

interface LaunchedHost {
  readonly url: string;
  readonly child: ChildProcess;
  readonly workerPid: number;
}

/** Starts the host in a child process on the shared state folder. */
async function launchHost(): Promise<LaunchedHost> {
  const child = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      "--import",
      `data:text/javascript,${encodeURIComponent(registerHook)}`,
      hostScript,
    ],
    {
      env: {
        ...process.env,
        DURABLE_TEST_APP_DIR: appDir,
        DURABLE_TEST_STATE_DIR: stateDir,
        FIXTURE_DURABLE_RUNS: runsFile,
        FIXTURE_DURABLE_GATE: gateFile,
        FIXTURE_DURABLE_GATE_ABOVE: String(runsBeforeGate),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  launched.push(child);
  const errors: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => errors.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`host exited with ${code}: ${errors.join("")}`)));
    lines.on("line", (line) => {
      if (!line.startsWith("READY ")) return;
      const ready = JSON.parse(line.slice("READY ".length)) as { url: string; workerPid: number };
      workerPids.push(ready.workerPid);
      resolve({ url: ready.url, child, workerPid: ready.workerPid });
    });
  });
}

function completedRuns(): number[] {
  return readFileSync(runsFile, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map(Number);
}

/** Resolves once the activities have recorded at least `count` runs. */
function activityRuns(count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      if (completedRuns().length < count) return false;
      watcher.close();
      resolve();
      return true;
    };
    const watcher = watch(runsFile, () => void check());
    check();
  });
}

async function startOrchestration(url: string, name: string, input: unknown): Promise<string> {
  return (await startOrchestrationWithStatus(url, name, input)).id;
}

/** Starts an orchestration; answers its id and the management API's status URL. */
async function startOrchestrationWithStatus(
  url: string,
  name: string,
  input: unknown,
): Promise<{ id: string; statusQueryGetUri: string }> {
  const response = await fetch(`${url}/api/durable/start/${name}`, {
    method: "POST",
    body: JSON.stringify(input),
  });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string; statusQueryGetUri: string };
}

/** The instance's history as the management API shows it, asked of the host at `url`. */
async function historyOf(
  statusQueryGetUri: string,
  url: string,
): Promise<Array<{ EventType: string; FireAt?: string }>> {
  const status = new URL(statusQueryGetUri);
  const target = new URL(`${status.pathname}${status.search}`, url);
  target.searchParams.set("showHistory", "true");
  const response = await fetch(target);
  expect(response.status).toBe(200);
  return (
    (await response.json()) as { historyEvents: Array<{ EventType: string; FireAt?: string }> }
  ).historyEvents;
}

/** Waits for completion with the DurableClient's own long poll (`waitForCompletionOrCreateCheckStatusResponse`). */
async function completion(url: string, instanceId: string): Promise<unknown> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/api/durable/ops/wait/${instanceId}`);
    if (response.status === 200) return response.json();
    expect([202]).toContain(response.status);
  }
  throw new Error(`${instanceId} did not complete`);
}

function killAll(host: LaunchedHost): Promise<void> {
  const exited = new Promise<void>((resolve) => host.child.once("exit", () => resolve()));
  host.child.kill("SIGKILL");
  // A crash takes the language worker with it.
  try {
    process.kill(host.workerPid, "SIGKILL");
  } catch {
    // already gone
  }
  return exited;
}

afterAll(() => {
  for (const child of launched)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const pid of workerPids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
});

it("resumes a fan-out of 20 activities and a 10-second durable timer after the runtime is killed with SIGKILL", async () => {
  writeFileSync(runsFile, "");
  rmSync(gateFile, { force: true });
  const first = await launchHost();
  const fanOutId = await startOrchestration(first.url, "durableFanOut", {
    count: 20,
    delayMs: 100,
  });
  const timer = await startOrchestrationWithStatus(first.url, "durableTimer", { seconds: 10 });

  await activityRuns(runsBeforeGate);
  await killAll(first);
  const runsBeforeKill = completedRuns().length;
  writeFileSync(gateFile, "");
  const second = await launchHost();
  const [fanOut, timerOutput] = await Promise.all([
    completion(second.url, fanOutId),
    completion(second.url, timer.id),
  ]);

  // The other sixteen were in flight when the host died; the restarted host ran them.
  expect(runsBeforeKill).toBe(runsBeforeGate);
  expect(fanOut).toBe(420);
  expect(new Set(completedRuns())).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i + 1)));
  const { startedAt: timerStart, resumedAt } = timerOutput as {
    startedAt: string;
    resumedAt: string;
  };
  expect(Date.parse(resumedAt) - Date.parse(timerStart)).toBeGreaterThanOrEqual(10_000);
  // Persisted by due time, the timer is neither armed again by the restart nor fired twice: one
  // timer, created once, fired once at the time it was first due.
  const history = await historyOf(timer.statusQueryGetUri, second.url);
  const due = new Date(Date.parse(timerStart) + 10_000).toISOString();
  const timers = history.filter(
    (e) => e.EventType === "TimerCreated" || e.EventType === "TimerFired",
  );
  expect(timers.map((e) => [e.EventType, new Date(String(e.FireAt)).toISOString()])).toEqual([
    ["TimerCreated", due],
    ["TimerFired", due],
  ]);
  await killAll(second);
}, 45_000);

/** The statuses of the given instances, read straight from the Durable store's file. */
async function storedStatuses(ids: readonly string[]): Promise<string[]> {
  const durableDir = path.join(stateDir, "durable");
  const file = readdirSync(durableDir).find((name) => name.endsWith(".sqlite"));
  if (!file) throw new Error(`no Durable store in ${durableDir}`);
  const store = await openDurableStore(
    durableDir,
    file.slice("durable-".length, -".sqlite".length),
  );
  try {
    return ids.map((id) => store.getInstance(id)?.status ?? "missing");
  } finally {
    store.close();
  }
}

it("finishes every sequence after a SIGKILL that lands amid their group commits, each activity's result recorded once", async () => {
  const first = await launchHost();
  const ids = Array.from({ length: 200 }, (_, i) => `kill-sequence-${i}`);
  const started = await Promise.all(
    ids.map(async (id) => {
      const response = await fetch(`${first.url}/api/durable/start/durableSequence/${id}`, {
        method: "POST",
      });
      expect(response.status).toBe(202);
      return (await response.json()) as { statusQueryGetUri: string };
    }),
  );
  // Killed as soon as the first sequence has finished: the others are mid-way, their episodes
  // and activity results pending or being written in group commits.
  await completion(first.url, ids[0] ?? "");
  await killAll(first);
  const atKill = await storedStatuses(ids);

  const second = await launchHost();
  const outputs = await Promise.all(ids.map((id) => completion(second.url, id)));
  const histories = await Promise.all(
    started.map((s) => historyOf(s.statusQueryGetUri, second.url)),
  );
  await killAll(second);

  expect(atKill.filter((status) => status !== "Completed").length).toBeGreaterThan(0);
  for (const output of outputs) {
    expect(output).toEqual(["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);
  }
  for (const history of histories) {
    const kinds = history.map((e) => e.EventType);
    // As in Azure, the status API folds each answered TaskScheduled into its TaskCompleted.
    expect(kinds.filter((kind) => kind === "TaskCompleted")).toHaveLength(3);
    expect(kinds.filter((kind) => kind === "TaskScheduled")).toHaveLength(0);
    expect(kinds.filter((kind) => kind === "ExecutionCompleted")).toHaveLength(1);
  }
}, 120_000);

it("runs an activity again at the next start when a graceful stop did not wait for it", async () => {
  const gracefulState = mkdtempSync(path.join(tmpdir(), "pgprotect-durable-graceful-"));
  const runs = path.join(gracefulState, "runs.log");
  writeFileSync(runs, "");
  let activityStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (activityStarted = resolve));
  const hostOptions = {
    appDir,
    stateDir: gracefulState,
    port: 0,
    banner: false,
    timers: false,
    env: { FIXTURE_DURABLE_RUNS: runs },
  };
  try {
    const first = await startHost({
      ...hostOptions,
      logLevel: "debug",
      log: (line: string) => {
        if (line.includes("Executing 'Functions.durableSlowDouble'")) activityStarted();
      },
    });
    const instanceId = await startOrchestration(first.url, "durableFanOut", {
      count: 1,
      delayMs: 3000,
    });
    await started;
    await first.stop();
    // The activity takes three seconds: had the stop waited for it, its run would be recorded.
    const runsWhenStopped = readFileSync(runs, "utf8");

    const second = await startHost({ ...hostOptions, log: () => undefined });
    try {
      const output = await completion(second.url, instanceId);

      expect(runsWhenStopped).toBe("");
      expect(output).toBe(2);
      expect(readFileSync(runs, "utf8").trim().split("\n")).toContain("1");
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(gracefulState, { recursive: true, force: true });
  }
}, 30_000);
