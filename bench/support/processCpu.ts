/**
 * CPU time spent by the processes of a benchmark, read from Linux's `/proc`: this process, the
 * tools it started and has reaped (`pg_dump`), and a private PostgreSQL server (its postmaster,
 * the backends it has reaped and those still running).
 *
 * @remarks Wall-clock ratios on a shared machine move with the others' load; CPU seconds barely
 * do, so they show what a change costs even when the times are noisy. Elsewhere than Linux every
 * figure is `undefined`.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** CPU seconds of each part, since some earlier reading. */
export interface CpuSeconds {
  /** This process (its event loop, thread pool and garbage collector). */
  readonly self: number;
  /** The processes this one started and has waited for. */
  readonly tools: number;
  /** The PostgreSQL server's processes. */
  readonly server: number;
}

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on every Linux in use). */
const TICKS_PER_SECOND = 100;

interface ProcessTimes {
  readonly parent: number;
  /** Own user and system ticks. */
  readonly own: number;
  /** Ticks of the reaped children. */
  readonly children: number;
}

async function timesOf(pid: number): Promise<ProcessTimes | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const tick = (index: number) => Number(fields[index] ?? 0);
  return { parent: tick(1), own: tick(11) + tick(12), children: tick(13) + tick(14) };
}

/** The pid of the postmaster of a data folder (line 1 of `postmaster.pid`). */
async function postmasterOf(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number(text.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Ticks of a server: the postmaster's own and reaped ones, and each running child's own. */
async function serverTicks(postmaster: number): Promise<number> {
  const root = await timesOf(postmaster);
  if (!root) return 0;
  let ticks = root.own + root.children;
  const entries = await readdir("/proc").catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const times = await timesOf(Number(entry));
    if (times?.parent === postmaster) ticks += times.own;
  }
  return ticks;
}

/** A reading of the CPU used so far; {@link CpuMeter.since} gives the use since it. */
export class CpuMeter {
  readonly #dataDir: string;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** The ticks used so far, or undefined where `/proc` is missing. */
  async read(): Promise<{ self: number; tools: number; server: number } | undefined> {
    const own = await timesOf(process.pid);
    const postmaster = await postmasterOf(this.#dataDir);
    if (!own || postmaster === undefined) return undefined;
    return { self: own.own, tools: own.children, server: await serverTicks(postmaster) };
  }

  /** CPU seconds used since `start` (a {@link CpuMeter.read}). */
  async since(start: Awaited<ReturnType<CpuMeter["read"]>>): Promise<CpuSeconds | undefined> {
    const end = await this.read();
    if (!start || !end) return undefined;
    return {
      self: (end.self - start.self) / TICKS_PER_SECOND,
      tools: (end.tools - start.tools) / TICKS_PER_SECOND,
      server: (end.server - start.server) / TICKS_PER_SECOND,
    };
  }
}

/** One line of CPU seconds, e.g. `cpu 9.42 s (pg_dump 6.29, server 2.09, this process 1.04)`. */
export function formatCpu(cpu: CpuSeconds | undefined): string {
  if (!cpu) return "cpu not measured";
  const total = cpu.self + cpu.tools + cpu.server;
  return `cpu ${total.toFixed(2)} s (pg_dump ${cpu.tools.toFixed(2)}, server ${cpu.server.toFixed(2)}, this process ${cpu.self.toFixed(2)})`;
}
