/**
 * The `@azure/functions-core` module as the Node worker provides it: a registry of the app's
 * functions and hooks, the programming model the library sets, and the worker's log channel.
 *
 * @remarks @azure/functions requires this module once and caches the answer forever; when the
 * require fails, the library stays in "test mode" and silently drops every registration. So
 * {@link installFunctionsCoreModule} must run before anything in the process requires
 * @azure/functions.
 */
import Module from "node:module";
import type { RegisteredBinding, RegisteredFunction } from "../contracts.js";
import { RuntimeError } from "../errors.js";

/** The names of the hooks the library can register. */
export const hookNames = [
  "appStart",
  "appTerminate",
  "preInvocation",
  "postInvocation",
  "log",
] as const;

/** One of {@link hookNames}. */
export type HookName = (typeof hookNames)[number];

/** A hook callback as the library registers it; it receives a context object and may be async. */
export type HookCallback = (context: Record<string, unknown>) => unknown;

/** The user's handler (or a library wrapper around it) as registered. */
export type FunctionCallback = (...args: unknown[]) => unknown;

/** The library's invocation model for one call (`getArguments -> invokeFunction -> getResponse`). */
export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<CoreInvocationResponse>;
}

/** What `getResponse` returns, in the worker's RPC terms. */
export interface CoreInvocationResponse {
  readonly invocationId?: string;
  readonly outputData?: ReadonlyArray<{
    readonly name?: string | null;
    readonly data?: unknown;
  }> | null;
  readonly returnValue?: unknown;
}

/** The library's `ProgrammingModel`. */
export interface ProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreContext: CoreInvocationContext): CoreInvocationModel;
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

/** The per-invocation context the worker hands to `getInvocationModel`. */
export interface CoreInvocationContext {
  readonly invocationId: string;
  readonly request: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  state?: "preInvocationHooks" | "postInvocationHooks" | "invocation";
  log(level: string, category: string, message: string): void;
}

/** A registration captured from `registerFunction`. */
export interface CapturedFunction extends RegisteredFunction {
  readonly callback: FunctionCallback;
  /** The metadata exactly as the library passed it. */
  readonly metadata: Record<string, unknown>;
}

/** A system or user log line the library emitted outside an invocation context. */
export type CoreLogSink = (level: string, category: string, message: string) => void;

/** A disposable registration, as the worker returns it. */
export class Disposable {
  readonly #dispose: () => void;
  constructor(dispose: () => void) {
    this.#dispose = dispose;
  }
  /** Undoes the registration. */
  dispose(): void {
    this.#dispose();
  }
}

/** Raised when the app registers something the worker would reject. */
export class RegistrationError extends RuntimeError {
  override readonly name = "RegistrationError";
  constructor(message: string) {
    super("RUNTIME_REGISTRATION_INVALID", message, { httpStatus: 500 });
  }
}

/**
 * Everything the app registers through `@azure/functions-core`.
 *
 * @remarks Like the worker, it rejects a function registered twice or after the app started.
 */
export class FunctionRegistry {
  readonly #functions = new Map<string, CapturedFunction>();
  readonly #hooks = new Map<HookName, HookCallback[]>(hookNames.map((name) => [name, []]));
  #programmingModel: ProgrammingModel | undefined;
  #locked = false;
  #logSink: CoreLogSink = () => undefined;

  /** The registered functions, in registration order. */
  functions(): readonly CapturedFunction[] {
    return [...this.#functions.values()];
  }

  /** One registered function by name (case-insensitive, like the host). */
  get(name: string): CapturedFunction | undefined {
    return this.#functions.get(name.toLowerCase());
  }

  /** The hooks registered under a name, in registration order. */
  hooks(name: HookName): readonly HookCallback[] {
    return [...(this.#hooks.get(name) ?? [])];
  }

  /** The programming model set by the library (undefined until the app registered something). */
  programmingModel(): ProgrammingModel | undefined {
    return this.#programmingModel;
  }

  /** Stops accepting registrations, as the worker does once the app has started. */
  lock(): void {
    this.#locked = true;
  }

  /** Where library logs made outside an invocation go. */
  setLogSink(sink: CoreLogSink): void {
    this.#logSink = sink;
  }

  /** The object the app receives for `require("@azure/functions-core")`. */
  createCoreApi(hostVersion: string): Record<string, unknown> {
    return {
      version: "3.10.1",
      hostVersion,
      Disposable,
      setProgrammingModel: (model: ProgrammingModel) => {
        this.#programmingModel = model;
      },
      getProgrammingModel: () => this.#programmingModel,
      registerFunction: (metadata: Record<string, unknown>, callback: FunctionCallback) =>
        this.#registerFunction(metadata, callback),
      registerHook: (name: string, callback: HookCallback) => this.#registerHook(name, callback),
      log: (level: string, category: string, message: string) =>
        this.#logSink(level, category, message),
    };
  }

  #registerFunction(metadata: Record<string, unknown>, callback: FunctionCallback): Disposable {
    if (this.#locked) {
      throw new RegistrationError("A function can't be registered after the app has started.");
    }
    const name = metadata["name"];
    if (typeof name !== "string" || name === "") {
      throw new RegistrationError("A function registration must have a name.");
    }
    const key = name.toLowerCase();
    if (this.#functions.has(key)) {
      throw new RegistrationError(`A function named "${name}" is already registered.`);
    }
    const bindings = (metadata["bindings"] ?? {}) as Record<string, RegisteredBinding>;
    const trigger = Object.values(bindings).find((binding) => /trigger$/i.test(binding.type));
    if (!trigger) {
      throw new RegistrationError(`Function "${name}" has no trigger binding.`);
    }
    const captured: CapturedFunction = {
      name,
      triggerType: trigger.type,
      bindings,
      ...(metadata["retryOptions"] === undefined ? {} : { retryOptions: metadata["retryOptions"] }),
      callback,
      metadata,
    };
    this.#functions.set(key, captured);
    return new Disposable(() => {
      if (this.#locked)
        throw new RegistrationError("A function can't be removed after the app has started.");
      this.#functions.delete(key);
    });
  }

  #registerHook(name: string, callback: HookCallback): Disposable {
    const hooks = this.#hooks.get(name as HookName);
    if (!hooks) {
      throw new RangeError(`Unrecognized hook "${name}"`);
    }
    hooks.push(callback);
    return new Disposable(() => {
      const index = hooks.indexOf(callback);
      if (index >= 0) hooks.splice(index, 1);
    });
  }
}

const coreModuleName = "@azure/functions-core";
let installedCoreApi: Record<string, unknown> | undefined;

/**
 * Makes `require("@azure/functions-core")` return `coreApi` in this process, the way the Node
 * worker does (a Proxy over `Module.prototype.require`).
 *
 * @throws RuntimeError `RUNTIME_CORE_ALREADY_INSTALLED` when called twice: the library caches the
 * first answer, so a second registry would never see registrations.
 */
export function installFunctionsCoreModule(coreApi: Record<string, unknown>): void {
  if (installedCoreApi !== undefined) {
    throw new RuntimeError(
      "RUNTIME_CORE_ALREADY_INSTALLED",
      "@azure/functions-core is already provided in this process.",
    );
  }
  installedCoreApi = coreApi;
  const modulePrototype = Module.prototype as unknown as { require: (id: string) => unknown };
  modulePrototype.require = new Proxy(modulePrototype.require, {
    apply(target, thisArg, argArray: unknown[]) {
      if (argArray[0] === coreModuleName) return installedCoreApi;
      return Reflect.apply(target, thisArg, argArray);
    },
  });
}
