/**
 * The seams inside the local Functions runtime: the core host (functions-core shim, registry,
 * invoker, HTTP server) on one side, the Durable extension on the other.
 */

/** The worker's typed data, as the host passes it to and from @azure/functions. */
export interface RpcTypedData {
  readonly string?: string;
  readonly json?: string;
  readonly bytes?: Uint8Array;
  readonly stream?: Uint8Array;
  readonly http?: unknown;
  readonly int?: number;
  readonly double?: number;
}

/** A binding of a registered function, found by `type` (binding names are hashes). */
export interface RegisteredBinding {
  readonly type: string;
  readonly direction: "in" | "out" | "inout";
  readonly [option: string]: unknown;
}

/** A function the app registered through @azure/functions-core. */
export interface RegisteredFunction {
  readonly name: string;
  /** The trigger binding's type, e.g. `httpTrigger`, `orchestrationTrigger`, `activityTrigger`. */
  readonly triggerType: string;
  /** Binding name to binding, as registered (the `$return` key holds the return binding). */
  readonly bindings: Readonly<Record<string, RegisteredBinding>>;
  readonly retryOptions?: unknown;
}

/** One invocation's inputs, in the worker's terms. */
export interface InvocationRequest {
  readonly inputData: ReadonlyArray<{ readonly name: string; readonly data: RpcTypedData }>;
  readonly triggerMetadata?: Readonly<Record<string, RpcTypedData>>;
}

/** One invocation's outputs, in the worker's terms. */
export interface InvocationResult {
  readonly returnValue?: RpcTypedData;
  readonly outputData: ReadonlyArray<{ readonly name: string; readonly data: RpcTypedData }>;
}

/** Invokes the app's registered functions exactly as the Node worker does. */
export interface FunctionInvoker {
  list(): readonly RegisteredFunction[];
  get(functionName: string): RegisteredFunction | undefined;
  /** Runs one invocation through the library's invocation model, hooks included. */
  invoke(functionName: string, request: InvocationRequest): Promise<InvocationResult>;
}

/** A request the local HTTP server hands to an extension. */
export interface LocalHttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** What an extension answers. */
export interface LocalHttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
}

/** The Durable Functions extension as the core host sees it. */
export interface DurableExtension {
  /** The string the host passes for a `durableClient` input binding. */
  clientBindingValue(): string;
  /** Serves `/runtime/webhooks/durabletask/...`. */
  handleHttp(request: LocalHttpRequest): Promise<LocalHttpResponse>;
  /** Resumes persisted work and starts dispatching. */
  start(): Promise<void>;
  /** Stops dispatching; in-flight work stays persisted. */
  stop(): Promise<void>;
}

/** What the core host gives the Durable extension when it creates it. */
export interface DurableExtensionOptions {
  readonly invoker: FunctionInvoker;
  /** e.g. `http://localhost:7071` */
  readonly baseUrl: string;
  /**
   * The `durabletask_extension` system key: the host admits management requests that present it,
   * and the URLs the extension hands out carry it.
   */
  readonly systemKey?: string;
  readonly taskHub: string;
  /** Folder for persisted state. */
  readonly stateDir: string;
  readonly log: (line: string) => void;
}
