/**
 * Keeps a language worker running, as the Functions host does: when the worker process dies
 * (an uncaught exception in the app, `process.exit`), invocations in flight fail and a new
 * worker loads the app again.
 */
import type { InvocationRequest, InvocationResult, RegisteredFunction } from "../contracts.js";
import { RuntimeError } from "../errors.js";
import type { HostLog } from "./hostLog.js";
import {
  startWorker,
  WorkerExitedError,
  type WorkerInvokeOptions,
  type WorkerOptions,
  type WorkerProcess,
} from "./workerProcess.js";

/** After this many restarts in a row that die while loading, the supervisor gives up. */
const maxFailedRestarts = 3;

/** An invocation ran longer than the host's `functionTimeout`. */
export class FunctionTimeoutError extends RuntimeError {
  override readonly name = "FunctionTimeoutError";
  constructor(functionName: string, timeoutMs: number) {
    super(
      "RUNTIME_FUNCTION_TIMEOUT",
      `Timeout value of ${formatTimeSpan(timeoutMs)} exceeded by function 'Functions.${functionName}'.`,
      { httpStatus: 500, retryable: true },
    );
  }
}

/** Milliseconds as a .NET TimeSpan (`hh:mm:ss[.fff]`), as the host writes `functionTimeout`. */
export function formatTimeSpan(milliseconds: number): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  const totalSeconds = Math.floor(milliseconds / 1000);
  const fraction = milliseconds % 1000;
  return (
    `${pad(Math.floor(totalSeconds / 3600))}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}` +
    (fraction === 0 ? "" : `.${pad(fraction, 3)}`)
  );
}

/** Supervision settings. */
export interface SupervisionOptions {
  /** host.json `functionTimeout`: a longer invocation fails and its worker is recycled. */
  readonly functionTimeoutMs?: number;
}

/** A supervised worker; see {@link startSupervisedWorker}. */
export class WorkerSupervisor {
  readonly #options: WorkerOptions;
  readonly #log: HostLog;
  readonly #functions: readonly RegisteredFunction[];
  readonly #functionTimeoutMs: number | undefined;
  #current: WorkerProcess;
  #restarting: Promise<WorkerProcess | undefined> | undefined;
  #stopped = false;
  #restarts = 0;
  #failedRestarts = 0;

  /** @internal use {@link startSupervisedWorker}. */
  constructor(
    first: WorkerProcess,
    options: WorkerOptions,
    log: HostLog,
    supervision: SupervisionOptions = {},
  ) {
    this.#current = first;
    this.#functionTimeoutMs = supervision.functionTimeoutMs;
    this.#options = options;
    this.#log = log;
    this.#functions = first.list();
    this.#watch(first);
  }

  /** The functions the app registered (from the first load). */
  list(): readonly RegisteredFunction[] {
    return this.#functions;
  }

  /** One function by name, case-insensitive. */
  get(functionName: string): RegisteredFunction | undefined {
    return this.#current.get(functionName);
  }

  /** The current worker's capabilities (its HTTP-stream proxy changes with each worker). */
  get capabilities(): Readonly<Record<string, string>> {
    return this.#current.capabilities;
  }

  /** The current worker's process id. */
  get pid(): number | undefined {
    return this.#current.pid;
  }

  /** How many times the worker has been restarted. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Invokes in the current worker, waiting for a restart in progress. */
  async invokeDetailed(
    functionName: string,
    request: InvocationRequest,
    options: WorkerInvokeOptions = {},
  ): Promise<{ result: InvocationResult; returnedNothing: boolean }> {
    const worker = this.#restarting ? await this.#restarting : this.#current;
    if (!worker)
      throw new WorkerExitedError("The language worker is down and could not be restarted.");
    const invocation = worker.invokeDetailed(functionName, request, options);
    const timeoutMs = this.#functionTimeoutMs;
    if (timeoutMs === undefined) return invocation;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new FunctionTimeoutError(worker.get(functionName)?.name ?? functionName, timeoutMs));
        // As the Functions host does, a timed-out invocation recycles its worker.
        if (worker === this.#current && !worker.hasExited) worker.kill();
      }, timeoutMs);
    });
    try {
      return await Promise.race([invocation, timedOut]);
    } finally {
      clearTimeout(timer);
      invocation.catch(() => undefined);
    }
  }

  /**
   * Stops the worker (appTerminate hooks run, for up to `graceMs`) and restarts no more.
   */
  async stop(graceMs?: number): Promise<void> {
    this.#stopped = true;
    const restarting = await this.#restarting;
    await (restarting ?? this.#current).stop(graceMs);
  }

  #watch(worker: WorkerProcess): void {
    void worker.exited.then(() => {
      if (this.#stopped || worker !== this.#current) return;
      this.#log.write(
        "error",
        `The language worker (pid ${worker.pid ?? "?"}) exited unexpectedly; restarting it.`,
      );
      this.#restarting = this.#restart();
    });
  }

  async #restart(): Promise<WorkerProcess | undefined> {
    while (!this.#stopped && this.#failedRestarts < maxFailedRestarts) {
      try {
        const worker = await startWorker(this.#options);
        this.#current = worker;
        this.#restarts += 1;
        this.#failedRestarts = 0;
        this.#restarting = undefined;
        this.#watch(worker);
        this.#log.write("warning", `Language worker restarted (pid ${worker.pid ?? "?"}).`);
        if (this.#stopped) await worker.stop();
        return worker;
      } catch (error) {
        this.#failedRestarts += 1;
        this.#log.write(
          "error",
          `The language worker failed to restart: ${(error as Error).message}`,
        );
      }
    }
    return undefined;
  }
}

/** Starts a worker under supervision. */
export async function startSupervisedWorker(
  options: WorkerOptions,
  log: HostLog,
  supervision: SupervisionOptions = {},
): Promise<WorkerSupervisor> {
  return new WorkerSupervisor(await startWorker(options), options, log, supervision);
}
