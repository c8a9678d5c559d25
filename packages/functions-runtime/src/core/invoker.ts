/**
 * Invokes registered functions in this process exactly as the Node worker's InvocationHandler
 * does: the library's own invocation model converts inputs and outputs, and the app's hooks run
 * around the call.
 */
import { randomUUID } from "node:crypto";
import type {
  FunctionInvoker,
  InvocationRequest,
  InvocationResult,
  RegisteredFunction,
  RpcTypedData,
} from "../contracts.js";
import { RuntimeError, NotFoundError } from "../errors.js";
import type { RetryContext, WorkerLogRecord } from "./workerProtocol.js";
import type {
  CoreInvocationContext,
  FunctionCallback,
  FunctionRegistry,
  HookName,
} from "./functionsCore.js";

export type { WorkerLogRecord } from "./workerProtocol.js";

/** Options for one call to {@link InProcessInvoker.invoke}. */
export interface InvokeOptions {
  /** The id the host chose (it must match the `x-ms-invocation-id` of a streamed HTTP request). */
  readonly invocationId?: string;
  readonly retryContext?: RetryContext;
  /** Sees the handler's final result (after the postInvocation hooks), before it is converted. */
  readonly observeResult?: (result: unknown) => void;
}

/** Raised when the app's programming model is missing (the app registered nothing). */
export class NoProgrammingModelError extends RuntimeError {
  override readonly name = "NoProgrammingModelError";
  constructor() {
    super(
      "RUNTIME_NO_PROGRAMMING_MODEL",
      "The app did not load @azure/functions; nothing can be invoked.",
    );
  }
}

/**
 * The single path for every call into the app.
 *
 * @remarks A handler's exception propagates from {@link invoke} unchanged (after the
 * postInvocation hooks), like the worker reports a failed invocation to the host.
 */
export class InProcessInvoker implements FunctionInvoker {
  readonly #registry: FunctionRegistry;
  readonly #appHookData: Record<string, unknown>;
  readonly #writeLog: (record: WorkerLogRecord) => void;

  constructor(
    registry: FunctionRegistry,
    appHookData: Record<string, unknown>,
    writeLog: (record: WorkerLogRecord) => void,
  ) {
    this.#registry = registry;
    this.#appHookData = appHookData;
    this.#writeLog = writeLog;
    registry.setLogSink((level, category, message) => this.log({ level, category, message }));
  }

  list(): readonly RegisteredFunction[] {
    return this.#registry.functions().map(toRegisteredFunction);
  }

  get(functionName: string): RegisteredFunction | undefined {
    const captured = this.#registry.get(functionName);
    return captured ? toRegisteredFunction(captured) : undefined;
  }

  async invoke(
    functionName: string,
    request: InvocationRequest,
    options: InvokeOptions = {},
  ): Promise<InvocationResult> {
    const registered = this.#registry.get(functionName);
    if (!registered) {
      throw new NotFoundError(
        "RUNTIME_FUNCTION_NOT_FOUND",
        `No function named '${functionName}' is registered.`,
      );
    }
    const programmingModel = this.#registry.programmingModel();
    if (!programmingModel) throw new NoProgrammingModelError();

    const invocationId = options.invocationId ?? randomUUID();
    // The log channel needs the library's context, which exists only once getArguments ran.
    const current: { context?: unknown } = {};
    const coreContext: CoreInvocationContext = {
      invocationId,
      request: {
        invocationId,
        functionId: registered.name,
        inputData: request.inputData,
        triggerMetadata: request.triggerMetadata ?? {},
        ...(options.retryContext ? { retryContext: options.retryContext } : {}),
      },
      metadata: registered.metadata,
      log: (level, category, message) =>
        this.log(
          { level, category, message, invocationId, functionName: registered.name },
          current.context,
        ),
    };

    const model = programmingModel.getInvocationModel(coreContext);
    const { context, inputs } = await model.getArguments();
    current.context = context;
    const hookData: Record<string, unknown> = {};

    const preContext: Record<string, unknown> = {
      hookData,
      appHookData: this.#appHookData,
      invocationContext: context,
      inputs,
      functionCallback: registered.callback,
    };
    coreContext.state = "preInvocationHooks";
    await this.#runHooks("preInvocation", preContext);

    const finalInputs = preContext["inputs"] as unknown[];
    const callback = preContext["functionCallback"] as FunctionCallback;
    coreContext.state = "invocation";
    let result: unknown;
    let error: unknown;
    try {
      result = await model.invokeFunction(context, finalInputs, callback);
    } catch (thrown) {
      error = thrown;
    }

    const postContext: Record<string, unknown> = {
      hookData,
      appHookData: this.#appHookData,
      invocationContext: context,
      inputs: finalInputs,
      result,
      error,
    };
    coreContext.state = "postInvocationHooks";
    await this.#runHooks("postInvocation", postContext);
    if (postContext["error"] !== undefined && postContext["error"] !== null)
      throw postContext["error"];

    options.observeResult?.(postContext["result"]);
    const response = await model.getResponse(context, postContext["result"]);
    const outputData = (response.outputData ?? []).flatMap((entry) =>
      typeof entry.name === "string" && entry.data !== undefined && entry.data !== null
        ? [{ name: entry.name, data: entry.data as RpcTypedData }]
        : [],
    );
    return {
      outputData,
      ...(response.returnValue === undefined || response.returnValue === null
        ? {}
        : { returnValue: response.returnValue as RpcTypedData }),
    };
  }

  /** Runs the appStart hooks, as the worker does once every entry file has loaded. */
  async runAppStartHooks(functionAppDirectory: string): Promise<void> {
    await this.#runHooks("appStart", {
      hookData: {},
      appHookData: this.#appHookData,
      functionAppDirectory,
    });
  }

  /** Runs the appTerminate hooks, as the worker does when the host shuts down. */
  async runAppTerminateHooks(): Promise<void> {
    await this.#runHooks("appTerminate", { hookData: {}, appHookData: this.#appHookData });
  }

  /**
   * Passes one log line through the `log` hooks (which may change a user log's level and
   * message; their errors are swallowed, as in the worker) and writes it.
   */
  log(record: WorkerLogRecord, invocationContext?: unknown): void {
    const hookContext: Record<string, unknown> = {
      hookData: {},
      level: record.level,
      message: record.message,
      category: record.category,
      invocationContext,
    };
    for (const hook of this.#registry.hooks("log")) {
      try {
        void hook(hookContext);
      } catch {
        // A broken log hook must never break the app's logging.
      }
    }
    const userLog = record.category === "user";
    this.#writeLog({
      ...record,
      level: userLog ? String(hookContext["level"]) : record.level,
      message: userLog ? String(hookContext["message"]) : record.message,
    });
  }

  async #runHooks(name: HookName, context: Record<string, unknown>): Promise<void> {
    for (const hook of this.#registry.hooks(name)) {
      await hook(context);
    }
  }
}

function toRegisteredFunction(captured: RegisteredFunction): RegisteredFunction {
  return {
    name: captured.name,
    triggerType: captured.triggerType,
    bindings: captured.bindings,
    ...(captured.retryOptions === undefined ? {} : { retryOptions: captured.retryOptions }),
  };
}
