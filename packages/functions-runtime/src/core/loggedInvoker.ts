/**
 * The invoker every part of the host uses: it adds the inputs the host binds (the Durable
 * client), and writes one line per invocation with function, invocation id, duration and
 * outcome, like the Functions host's "Executed" line.
 */
import { randomUUID } from "node:crypto";
import type {
  FunctionInvoker,
  InvocationRequest,
  InvocationResult,
  RegisteredFunction,
} from "../contracts.js";
import type { HostLog } from "./hostLog.js";
import type { WorkerInvokeOptions } from "./workerProcess.js";
import type { WorkerSupervisor } from "./workerSupervisor.js";

/** Options of one logged invocation. */
export interface LoggedInvokeOptions extends WorkerInvokeOptions {
  /** Why the function runs, as the host's "Executing" line says (e.g. "This function was programmatically called"). */
  readonly reason?: string;
}

/** The outcome of one invocation, with whether the handler returned nothing. */
export interface DetailedInvocation {
  readonly result: InvocationResult;
  readonly returnedNothing: boolean;
}

/** A {@link FunctionInvoker} over the worker that logs each call and binds host-provided inputs. */
export class LoggedInvoker implements FunctionInvoker {
  readonly #worker: WorkerSupervisor;
  readonly #log: HostLog;
  readonly #now: () => number;
  #durableClientValue: (() => string) | undefined;

  constructor(worker: WorkerSupervisor, log: HostLog, now: () => number = () => performance.now()) {
    this.#worker = worker;
    this.#log = log;
    this.#now = now;
  }

  /** Makes `durableClient` input bindings receive this value. */
  bindDurableClient(value: () => string): void {
    this.#durableClientValue = value;
  }

  list(): readonly RegisteredFunction[] {
    return this.#worker.list();
  }

  get(functionName: string): RegisteredFunction | undefined {
    return this.#worker.get(functionName);
  }

  async invoke(
    functionName: string,
    request: InvocationRequest,
    options: LoggedInvokeOptions = {},
  ): Promise<InvocationResult> {
    return (await this.invokeDetailed(functionName, request, options)).result;
  }

  /** Like {@link invoke}, and also tells whether the handler returned nothing. */
  async invokeDetailed(
    functionName: string,
    request: InvocationRequest,
    options: LoggedInvokeOptions = {},
  ): Promise<DetailedInvocation> {
    const invocationId = options.invocationId ?? randomUUID();
    const registered = this.#worker.get(functionName);
    const name = registered?.name ?? functionName;
    const started = this.#now();
    this.#log.writeAbout(
      name,
      "debug",
      `Executing 'Functions.${name}' (Reason='${options.reason ?? "This function was programmatically called"}', Id=${invocationId})`,
    );
    try {
      const outcome = await this.#worker.invokeDetailed(
        functionName,
        this.#withHostInputs(registered, request),
        {
          ...options,
          invocationId,
        },
      );
      this.#executed(name, invocationId, "Succeeded", started);
      return outcome;
    } catch (error) {
      this.#executed(name, invocationId, "Failed", started, (error as Error).message);
      throw error;
    }
  }

  #executed(
    functionName: string,
    invocationId: string,
    outcome: string,
    started: number,
    detail?: string,
  ): void {
    const duration = Math.round(this.#now() - started);
    this.#log.writeAbout(
      functionName,
      outcome === "Failed" ? "error" : "information",
      `Executed 'Functions.${functionName}' (${outcome}, Id=${invocationId}, Duration=${duration}ms)` +
        (detail === undefined ? "" : `: ${detail}`),
    );
  }

  #withHostInputs(
    registered: RegisteredFunction | undefined,
    request: InvocationRequest,
  ): InvocationRequest {
    if (!registered || !this.#durableClientValue) return request;
    const given = new Set(request.inputData.map((input) => input.name));
    const clientInputs = Object.entries(registered.bindings)
      .filter(
        ([name, binding]) =>
          binding.type === "durableClient" && binding.direction === "in" && !given.has(name),
      )
      .map(([name]) => ({ name, data: { string: this.#durableClientValue?.() ?? "" } }));
    if (clientInputs.length === 0) return request;
    return { ...request, inputData: [...request.inputData, ...clientInputs] };
  }
}
