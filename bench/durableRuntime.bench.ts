/**
 * The local runtime's Durable engine under load: the host runs the function app in
 * `bench/fixtures/durable-app` (its own worker process, as in Azure) and the engine drives
 *
 * 1. 1,000 orchestrations of three no-op activities each, all started at once (three runs, the
 *    median counts);
 * 2. one orchestration fanning out to 1,000 no-op activities (three runs, the median counts);
 * 3. single episodes over histories of about 10, 100, 1,000 (and 10,000) events, to show that
 *    replay cost grows linearly with history length: a fixed cost per episode plus a constant
 *    cost per event.
 *
 * Orchestrations are started through the engine (what the HTTP management API calls), so HTTP
 * does not count. The baseline calls the same async activity function directly in this process,
 * in the same shape (three awaits per orchestration, all orchestrations at once; one
 * `Promise.all` of 1,000 calls), measured in the same run.
 *
 * Beside the wall-clock rates it reports the CPU time the engine spends per activity, host and
 * language worker together (Linux only: the worker's share comes from `/proc`): on a machine shared
 * with other work, wall-clock rates swing with the load while CPU time per activity does not.
 *
 * Run: `npm run bench:runtime`. Goal: at least 1,500 activities per second in the sequences
 * (the fan-out is reported beside it).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { startHost, type RunningHost } from "@pgprotect/functions-runtime";
import {
  createDurableExtension,
  type DurableEngine,
  type LocalDurableExtension,
} from "@pgprotect/functions-runtime/durable";
import { projectRoot } from "./support/projectRoot.js";

const orchestrations = 1000;
const activitiesPerOrchestration = 3;
const fanOutWidth = 1000;
/**
 * Measured runs of each shape; the median counts. One run on a machine shared with other work
 * can land on a burst of someone else's load.
 */
const engineRuns = 3;
const goalSequenceActivitiesPerSecond = 1500;
/**
 * Histories of about 10, 100 and 1,000 events made by activities in sequence, and of about
 * 1,000 and 10,000 made by a fan-out (a sequence that long would take minutes to build: every
 * step replays the history so far). Sizes are compared with the previous one of the same shape. `samples` episodes are measured per size; the median counts.
 */
const replaySizes = [
  { activities: 2, parallel: false, samples: 7 },
  { activities: 24, parallel: false, samples: 7 },
  { activities: 249, parallel: false, samples: 7 },
  { activities: 499, parallel: true, samples: 3 },
  { activities: 4990, parallel: true, samples: 3 },
] as const;

const appDir = path.join(projectRoot(), "bench", "fixtures", "durable-app");
const activitiesModule = pathToFileURL(path.join(appDir, "src", "activities.js")).href;
const { noop } = (await import(activitiesModule)) as {
  noop: (input: unknown) => Promise<unknown>;
};

const format = (ms: number): string => `${ms.toFixed(1)} ms`;
const rate = (count: number, ms: number): string => `${Math.round((count * 1000) / ms)}/s`;
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** CPU milliseconds a process has used, from `/proc/<pid>/stat`; undefined where there is none. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks
    // (100 per second on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time used by this process (host and engine) and by the worker, in milliseconds. */
interface CpuSample {
  readonly hostMs: number;
  readonly workerMs: number | undefined;
}

function cpuSample(workerPid: number | undefined): CpuSample {
  const usage = process.cpuUsage();
  return { hostMs: (usage.user + usage.system) / 1000, workerMs: processCpuMs(workerPid) };
}

/** CPU microseconds per activity between two samples, as "host + worker" text. */
function cpuPerActivity(before: CpuSample, after: CpuSample, activities: number): string {
  const host = ((after.hostMs - before.hostMs) * 1000) / activities;
  if (before.workerMs === undefined || after.workerMs === undefined) {
    return `${host.toFixed(0)} µs in the host (the worker's share is not measured here)`;
  }
  const worker = ((after.workerMs - before.workerMs) * 1000) / activities;
  return `${(host + worker).toFixed(0)} µs (host ${host.toFixed(0)} + worker ${worker.toFixed(0)})`;
}

/** The orchestration's output, or an error when it did not complete. */
function outputOf(engine: DurableEngine, instanceId: string): unknown {
  const row = engine.getInstance(instanceId);
  if (row?.status !== "Completed") {
    throw new Error(
      `orchestration ${instanceId} ended ${row?.status ?? "missing"}: ${row?.output}`,
    );
  }
  return row.output === null ? null : JSON.parse(row.output);
}

/** Starts `count` sequences of three activities at once and waits until all completed. */
async function runSequences(engine: DurableEngine, count: number, prefix: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    engine.startNew("benchSequence3", `${prefix}-${i}`, JSON.stringify(i));
  }
  await engine.whenIdle();
  const ms = performance.now() - started;
  for (let i = 0; i < count; i += 1) {
    const output = outputOf(engine, `${prefix}-${i}`);
    if (output !== i + 2) throw new Error(`sequence ${i} returned ${String(output)}`);
  }
  return ms;
}

/** Runs one fan-out of `width` activities and waits until it completed. */
async function runFanOut(engine: DurableEngine, width: number, id: string): Promise<number> {
  const started = performance.now();
  engine.startNew("benchFanOut", id, JSON.stringify({ count: width }));
  await engine.whenIdle();
  const ms = performance.now() - started;
  const output = outputOf(engine, id);
  if (output !== (width * (width - 1)) / 2) throw new Error(`fan-out returned ${String(output)}`);
  return ms;
}

/** The same activity function awaited directly: three in a row per orchestration, all at once. */
async function directSequences(count: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      await noop(i);
      await noop(i + 1);
      return noop(i + 2);
    }),
  );
  return performance.now() - started;
}

async function directFanOut(width: number): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: width }, (_, i) => noop(i)));
  return performance.now() - started;
}

interface ReplaySample {
  readonly activities: number;
  readonly parallel: boolean;
  readonly samples: number;
  /** History events the measured episode replays (its own new events included). */
  readonly events: number;
  readonly medianMs: number;
}

/**
 * Builds instances that ran `activities` activities (in sequence, or all at once) and now wait
 * for an event, then raises the event on one instance at a time and times each episode: one
 * orchestrator invocation over the whole history, the replay check, and the commit.
 */
async function measureReplay(
  engine: DurableEngine,
  size: (typeof replaySizes)[number],
): Promise<ReplaySample> {
  const { activities, parallel, samples } = size;
  const ids = Array.from({ length: samples }, (_, i) => `replay-${activities}-${i}`);
  for (const id of ids) {
    engine.startNew("benchReplay", id, JSON.stringify({ activities, parallel, waits: 1 }));
  }
  await engine.whenIdle();
  const times: number[] = [];
  let events = 0;
  for (const id of ids) {
    const started = performance.now();
    engine.raiseEvent(id, "next", null);
    await engine.whenIdle();
    times.push(performance.now() - started);
    if (outputOf(engine, id) !== activities) throw new Error(`replay ${id} returned a wrong value`);
    // The replayed history is everything before the final OrchestratorCompleted/ExecutionCompleted.
    events = engine.history(id).length - 2;
  }
  return { activities, parallel, samples, events, medianMs: median(times) };
}

const stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-bench-durable-"));
const hostLines: string[] = [];
let durable: LocalDurableExtension | undefined;
let host: RunningHost | undefined;
try {
  host = await startHost({
    appDir,
    port: 0,
    stateDir,
    banner: false,
    timers: false,
    log: (line) => {
      hostLines.push(line);
      if (hostLines.length > 200) hostLines.splice(0, 100);
    },
    durable: (options) => {
      durable = createDurableExtension(options);
      return durable;
    },
  });
  if (!durable) throw new Error("the host did not attach the Durable extension");
  const engine = durable.engine;

  // Warm-up: worker modules, JIT on both sides, SQLite pages.
  await runSequences(engine, 50, "warm");
  await runFanOut(engine, 100, "warm-fan");
  await directSequences(orchestrations);
  await directFanOut(fanOutWidth);

  const workerPid = host.workerPid;
  const beforeSequences = cpuSample(workerPid);
  const sequenceRuns: number[] = [];
  for (let run = 0; run < engineRuns; run += 1) {
    sequenceRuns.push(await runSequences(engine, orchestrations, `seq-${run}`));
  }
  const afterSequences = cpuSample(workerPid);
  const fanOutRuns: number[] = [];
  for (let run = 0; run < engineRuns; run += 1) {
    fanOutRuns.push(await runFanOut(engine, fanOutWidth, `fan-${run}`));
  }
  const afterFanOut = cpuSample(workerPid);
  const sequencesMs = median(sequenceRuns);
  const fanOutMs = median(fanOutRuns);
  const directSequenceRuns: number[] = [];
  const directFanOutRuns: number[] = [];
  for (let run = 0; run < 5; run += 1) {
    directSequenceRuns.push(await directSequences(orchestrations));
    directFanOutRuns.push(await directFanOut(fanOutWidth));
  }
  const directSequenceMs = median(directSequenceRuns);
  const directFanOutMs = median(directFanOutRuns);

  const replays: ReplaySample[] = [];
  for (const size of replaySizes) replays.push(await measureReplay(engine, size));

  const sequenceActivities = orchestrations * activitiesPerOrchestration;
  const sequenceActivityRate = (sequenceActivities * 1000) / sequencesMs;
  const fanOutActivityRate = (fanOutWidth * 1000) / fanOutMs;

  console.log("durable runtime: local host + Durable engine, no-op activities");
  console.log(
    `  machine: ${availableParallelism()} CPUs, load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
  );
  console.log(
    `  ${orchestrations} orchestrations x ${activitiesPerOrchestration} activities: ${format(sequencesMs)}` +
      ` -> ${rate(orchestrations, sequencesMs)} orchestrations, ${rate(sequenceActivities, sequencesMs)} activities` +
      ` (median of ${sequenceRuns.map(format).join(", ")})`,
  );
  console.log(
    `  fan-out of ${fanOutWidth} activities:           ${format(fanOutMs)} -> ${rate(fanOutWidth, fanOutMs)} activities` +
      ` (median of ${fanOutRuns.map(format).join(", ")})`,
  );
  console.log(
    `  same functions called directly:  sequences ${format(directSequenceMs)}, fan-out ${format(directFanOutMs)} (median of 5)`,
  );
  console.log(
    `  engine overhead vs direct calls: sequences ${Math.round(sequencesMs / directSequenceMs)}x, fan-out ${Math.round(fanOutMs / directFanOutMs)}x`,
  );
  console.log(
    `  per activity through the engine: sequences ${((sequencesMs * 1000) / sequenceActivities).toFixed(0)} µs, fan-out ${((fanOutMs * 1000) / fanOutWidth).toFixed(0)} µs`,
  );
  console.log(
    `  CPU per activity (all runs): sequences ${cpuPerActivity(beforeSequences, afterSequences, engineRuns * sequenceActivities)},` +
      ` fan-out ${cpuPerActivity(afterSequences, afterFanOut, engineRuns * fanOutWidth)}`,
  );
  console.log("  replay: one episode over the whole history (median per size)");
  for (const [index, sample] of replays.entries()) {
    const previous = replays
      .slice(0, index)
      .reverse()
      .find((earlier) => earlier.parallel === sample.parallel);
    const perEvent = (sample.medianMs * 1000) / sample.events;
    // Linear growth: a fixed cost per episode plus a constant cost per added event.
    const growth = previous
      ? `; ${(sample.medianMs / previous.medianMs).toFixed(1)}x the time for ${(sample.events / previous.events).toFixed(1)}x the events,` +
        ` ${(((sample.medianMs - previous.medianMs) * 1000) / (sample.events - previous.events)).toFixed(1)} µs per added event`
      : "";
    console.log(
      `    ${String(sample.events).padStart(5)} events (${sample.activities} activities ${sample.parallel ? "at once" : "in sequence"}, median of ${sample.samples}): ${format(sample.medianMs)} per episode, ${perEvent.toFixed(1)} µs per event${growth}`,
    );
  }
  const met = sequenceActivityRate >= goalSequenceActivitiesPerSecond;
  console.log(
    `  goal: at least ${goalSequenceActivitiesPerSecond} activities/s in sequences -> ${met ? "met" : "MISSED"}` +
      ` (${Math.round(sequenceActivityRate)}/s; fan-out ${Math.round(fanOutActivityRate)}/s)`,
  );
  if (!met) process.exitCode = 1;
} catch (error) {
  console.error(hostLines.slice(-20).join("\n"));
  throw error;
} finally {
  await host?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
