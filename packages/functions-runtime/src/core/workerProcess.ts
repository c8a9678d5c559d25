/**
 * The host's side of the language worker: starts the child process that runs the app and
 * invokes functions in it over IPC. It implements {@link FunctionInvoker}, so the HTTP server,
 * timers, Event Grid and the Durable extension all call the app the same way.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import type {
  FunctionInvoker,
  InvocationRequest,
  InvocationResult,
  RegisteredFunction,
} from "../contracts.js";
import { RuntimeError, NotFoundError } from "../errors.js";
import type { WorkerLogRecord } from "./invoker.js";
import {
  eachMessage,
  type HostToWorkerMessage,
  type InvokeMessage,
  type RetryContext,
  type SerializedError,
  type WorkerToHostMessage,
} from "./workerProtocol.js";

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  readonly appDir: string;
  /** The worker's whole environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Receives the app's log lines (context.log, library system logs). */
  readonly onLog: (record: WorkerLogRecord) => void;
  /** Receives what the app writes to stdout/stderr, line by line. */
  readonly onOutput: (line: string, stream: "stdout" | "stderr") => void;
}

/** Per-call options of {@link WorkerProcess.invoke}. */
export interface WorkerInvokeOptions {
  readonly invocationId?: string;
  readonly retryContext?: RetryContext;
}

/** A failed invocation, with the app's error name, message and stack. */
export class FunctionInvocationError extends RuntimeError {
  override readonly name = "FunctionInvocationError";
  readonly functionName: string;
  readonly errorName: string;
  readonly errorStack: string | undefined;

  constructor(functionName: string, error: SerializedError) {
    super(
      error.code === "RUNTIME_FUNCTION_NOT_FOUND" ? error.code : "RUNTIME_FUNCTION_FAILED",
      error.message,
      {
        httpStatus: error.code === "RUNTIME_FUNCTION_NOT_FOUND" ? 404 : 500,
      },
    );
    this.functionName = functionName;
    this.errorName = error.name;
    this.errorStack = error.stack;
  }
}

/** The worker process died or was stopped while work was pending. */
export class WorkerExitedError extends RuntimeError {
  override readonly name = "WorkerExitedError";
  constructor(message: string) {
    super("RUNTIME_WORKER_EXITED", message, { httpStatus: 503, retryable: true });
  }
}

interface PendingCall {
  readonly functionName: string;
  readonly resolve: (outcome: { result: InvocationResult; returnedNothing: boolean }) => void;
  readonly reject: (error: Error) => void;
}

/** The location of the worker entry: compiled JS beside this file, or the TS source under test. */
function workerEntry(): { file: string; execArgv: string[] } {
  const compiled = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (existsSync(compiled)) return { file: compiled, execArgv: [] };
  // Running from TypeScript sources (tests): Node strips the types, and this resolve hook maps
  // the `.js` specifiers of the sources to their `.ts` files.
  const hooks = `export async function resolve(s, c, next) {
    try { return await next(s, c); } catch (error) {
      if (error?.code === "ERR_MODULE_NOT_FOUND" && /^(\\.|file:)/.test(s) && s.endsWith(".js")) return next(s.slice(0, -3) + ".ts", c);
      throw error;
    }
  }`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(
    `data:text/javascript,${encodeURIComponent(hooks)}`,
  )});`;
  return {
    file: fileURLToPath(new URL("./worker.ts", import.meta.url)),
    execArgv: [
      "--disable-warning=ExperimentalWarning",
      "--import",
      `data:text/javascript,${encodeURIComponent(register)}`,
    ],
  };
}

/**
 * A running language worker with the app loaded.
 *
 * @remarks Invocations run concurrently in the worker, as in Azure. If the worker exits, every
 * pending and later invocation fails with {@link WorkerExitedError}; the host does not restart it.
 */
export class WorkerProcess implements FunctionInvoker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, PendingCall>();
  readonly #functions: readonly RegisteredFunction[];
  readonly #byName: ReadonlyMap<string, RegisteredFunction>;
  readonly capabilities: Readonly<Record<string, string>>;
  readonly entryFiles: readonly string[];
  #nextCallId = 1;
  /** Invocations not yet sent: they leave together at the end of this turn of the loop. */
  #outbox: InvokeMessage[] = [];
  #exited: WorkerExitedError | undefined;
  readonly #exitedPromise: Promise<void>;
  #terminated: (() => void) | undefined;

  /** @internal use {@link startWorker}. */
  constructor(
    child: ChildProcess,
    loaded: Extract<WorkerToHostMessage, { type: "loaded" }>,
    exitedPromise: Promise<void>,
  ) {
    this.#child = child;
    this.#functions = loaded.functions;
    this.#byName = new Map(loaded.functions.map((fn) => [fn.name.toLowerCase(), fn]));
    this.capabilities = loaded.capabilities;
    this.entryFiles = loaded.entryFiles;
    this.#exitedPromise = exitedPromise;
    child.on("message", (message: WorkerToHostMessage) =>
      eachMessage(message, (inner) => this.#onMessage(inner)),
    );
    void exitedPromise.then(() => this.#onExit());
  }

  /** Settles when the worker process has exited, for whatever reason. */
  get exited(): Promise<void> {
    return this.#exitedPromise;
  }

  /** Whether the worker process has exited. */
  get hasExited(): boolean {
    return this.#exited !== undefined;
  }

  /** The process id of the worker. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  list(): readonly RegisteredFunction[] {
    return this.#functions;
  }

  get(functionName: string): RegisteredFunction | undefined {
    return this.#byName.get(functionName.toLowerCase());
  }

  async invoke(
    functionName: string,
    request: InvocationRequest,
    options: WorkerInvokeOptions = {},
  ): Promise<InvocationResult> {
    return (await this.invokeDetailed(functionName, request, options)).result;
  }

  /** Like {@link invoke}, and also tells whether the handler returned nothing. */
  invokeDetailed(
    functionName: string,
    request: InvocationRequest,
    options: WorkerInvokeOptions = {},
  ): Promise<{ result: InvocationResult; returnedNothing: boolean }> {
    if (this.#exited) return Promise.reject(this.#exited);
    if (!this.get(functionName)) {
      return Promise.reject(
        new NotFoundError(
          "RUNTIME_FUNCTION_NOT_FOUND",
          `No function named '${functionName}' is registered.`,
        ),
      );
    }
    const callId = this.#nextCallId++;
    const message: HostToWorkerMessage = {
      type: "invoke",
      callId,
      functionName,
      invocationId: options.invocationId ?? randomUUID(),
      request,
      ...(options.retryContext ? { retryContext: options.retryContext } : {}),
    };
    return new Promise((resolve, reject) => {
      this.#pending.set(callId, { functionName, resolve, reject });
      if (this.#outbox.length === 0) setImmediate(() => this.#flushOutbox());
      this.#outbox.push(message);
    });
  }

  /** Sends the queued invocations as one message (see `BatchMessage`). */
  #flushOutbox(): void {
    const messages = this.#outbox;
    this.#outbox = [];
    if (messages.length === 0) return;
    const payload: HostToWorkerMessage =
      messages.length === 1 ? (messages[0] as InvokeMessage) : { type: "batch", messages };
    this.#child.send(payload, (error) => {
      if (!error) return;
      for (const { callId } of messages) {
        const call = this.#pending.get(callId);
        if (!call) continue;
        this.#pending.delete(callId);
        call.reject(new WorkerExitedError(`The worker could not be reached: ${error.message}`));
      }
    });
  }

  /** Ends the worker at once (no appTerminate hooks), e.g. to recycle a hung worker. */
  kill(): void {
    this.#child.kill("SIGKILL");
  }

  /**
   * Runs the appTerminate hooks and ends the worker; kills it if it does not finish within
   * `graceMs`.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.#exited) return;
    const terminated = new Promise<void>((resolve) => {
      this.#terminated = resolve;
    });
    // Invocations asked for before the stop reach the worker before the terminate message.
    this.#flushOutbox();
    this.#child.send({ type: "terminate" } satisfies HostToWorkerMessage, () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const outcome = await Promise.race([
      terminated.then(() => this.#exitedPromise),
      this.#exitedPromise,
      timedOut,
    ]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.#child.kill("SIGKILL");
      await this.#exitedPromise;
    }
  }

  #onMessage(message: WorkerToHostMessage): void {
    if (message.type === "result" || message.type === "failed") {
      const call = this.#pending.get(message.callId);
      if (!call) return;
      this.#pending.delete(message.callId);
      if (message.type === "result")
        call.resolve({ result: message.result, returnedNothing: message.returnedNothing });
      else call.reject(new FunctionInvocationError(call.functionName, message.error));
    } else if (message.type === "terminated") {
      this.#terminated?.();
    }
  }

  #onExit(): void {
    this.#exited = new WorkerExitedError("The language worker has exited.");
    this.#outbox = [];
    for (const call of this.#pending.values()) call.reject(this.#exited);
    this.#pending.clear();
  }
}

/** Raised when the app fails to load in the worker; carries the worker's error text. */
export class WorkerStartError extends RuntimeError {
  override readonly name = "WorkerStartError";
  /** The worker's stack trace of the load error, when it had one. */
  readonly detail: string | undefined;

  constructor(message: string, detail?: string) {
    super("RUNTIME_APP_LOAD_FAILED", message);
    this.detail = detail;
  }
}

/**
 * Starts a worker process and loads the app into it.
 *
 * @throws WorkerStartError when the app cannot load (the worker is stopped).
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerProcess> {
  const entry = workerEntry();
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    env: options.env,
    serialization: "advanced",
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    // A process that never spawned emits "error" and no "exit".
    child.once("error", () => {
      if (child.pid === undefined) resolve();
    });
  });
  // Failed sends reach their callbacks and a dead worker its "exit"; nothing else to report here.
  child.on("error", () => undefined);
  for (const stream of ["stdout", "stderr"] as const) {
    const source = child[stream];
    if (source)
      createInterface({ input: source }).on("line", (line) => options.onOutput(line, stream));
  }
  child.on("message", (message: WorkerToHostMessage) =>
    eachMessage(message, (inner) => {
      if (inner.type === "log") options.onLog(inner.record);
    }),
  );

  const loaded = await new Promise<Extract<WorkerToHostMessage, { type: "loaded" }>>(
    (resolve, reject) => {
      const onMessage = (message: WorkerToHostMessage) => {
        if (message.type === "loaded") {
          child.off("message", onMessage);
          resolve(message);
        } else if (message.type === "loadFailed") {
          child.off("message", onMessage);
          reject(new WorkerStartError(message.error.message, message.error.stack));
        }
      };
      child.on("message", onMessage);
      void exited.then(() =>
        reject(new WorkerStartError(`The language worker exited while loading ${options.appDir}.`)),
      );
      child.send({ type: "load", appDir: options.appDir } satisfies HostToWorkerMessage);
    },
  ).catch(async (error: unknown) => {
    child.kill("SIGKILL");
    await exited;
    throw error;
  });
  return new WorkerProcess(child, loaded, exited);
}
