/**
 * The messages between the host and its language worker (a child process that runs the app),
 * the local stand-in for the Functions host's gRPC channel.
 */
import type { InvocationRequest, InvocationResult, RegisteredFunction } from "../contracts.js";

/** One log line the app wrote, after the log hooks had their say. */
export interface WorkerLogRecord {
  readonly level: string;
  readonly category: string;
  readonly message: string;
  readonly invocationId?: string;
  readonly functionName?: string;
}

/** Which attempt of a function with a retry policy this is, as the host tells the worker. */
export interface RetryContext {
  readonly retryCount: number;
  readonly maxRetryCount: number;
  /** The previous attempt's failure. */
  readonly exception?: {
    readonly message: string;
    readonly stackTrace?: string;
    readonly source?: string;
  };
}

/** An error as it crosses the process boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
}

/** One invocation the host asks of the worker. */
export interface InvokeMessage {
  readonly type: "invoke";
  readonly callId: number;
  readonly functionName: string;
  readonly invocationId: string;
  readonly request: InvocationRequest;
  readonly retryContext?: RetryContext;
}

/**
 * Several messages sent as one: both sides gather what they send during one turn of the event
 * loop, so that a burst of invocations (an engine dispatching dozens of episodes and activities)
 * costs one write to the channel rather than one each. The messages keep their order.
 */
export interface BatchMessage<T> {
  readonly type: "batch";
  readonly messages: readonly T[];
}

/** Host to worker. */
export type HostToWorkerMessage =
  | { readonly type: "load"; readonly appDir: string }
  | InvokeMessage
  | BatchMessage<InvokeMessage>
  | { readonly type: "terminate" };

/** Worker to host. */
export type WorkerToHostMessage =
  | {
      readonly type: "loaded";
      readonly functions: readonly RegisteredFunction[];
      readonly capabilities: Readonly<Record<string, string>>;
      readonly entryFiles: readonly string[];
    }
  | { readonly type: "loadFailed"; readonly error: SerializedError }
  | {
      readonly type: "result";
      readonly callId: number;
      readonly result: InvocationResult;
      /** The handler (after hooks) returned undefined or null. */
      readonly returnedNothing: boolean;
    }
  | { readonly type: "failed"; readonly callId: number; readonly error: SerializedError }
  | { readonly type: "log"; readonly record: WorkerLogRecord }
  | BatchMessage<WorkerToHostMessage>
  | { readonly type: "terminated" };

/** Calls `handle` with each message a channel message carries (itself, or a batch's, in order). */
export function eachMessage<T extends { readonly type: string }>(
  message: T | BatchMessage<T>,
  handle: (message: T) => void,
): void {
  if (message.type === "batch") {
    for (const inner of (message as BatchMessage<T>).messages) handle(inner);
  } else {
    handle(message as T);
  }
}

/** Flattens anything thrown into a {@link SerializedError}. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  return { name: "Error", message: String(error) };
}
