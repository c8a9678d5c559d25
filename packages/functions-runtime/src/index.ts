/**
 * `@pgprotect/functions-runtime`: an offline host for Node.js Azure Functions apps (v4 programming
 * model). It loads an app by its package.json `main` and host.json, as the Functions host does,
 * and serves its HTTP, timer, Event Grid and (with `./durable`) Durable Functions triggers.
 *
 * @example
 * ```ts
 * import { startHost } from "@pgprotect/functions-runtime";
 *
 * const host = await startHost({ appDir: "path/to/app", port: 0 });
 * await fetch(`${host.url}/api/hello`);
 * await host.stop();
 * ```
 *
 * From a shell: `functions-runtime --app path/to/app` (see {@link runHostCommand}).
 */
export {
  DEFAULT_STATE_FOLDER,
  HostStartError,
  resolveHostStateDirs,
  startHost,
  type DurableExtensionFactory,
  type HostedFunction,
  type HostOptions,
  type RunningHost,
  type StateDirOptions,
} from "./host.js";
export {
  runHostCommand,
  runtimeUsage,
  untilSignal,
  type CommandIo,
  type HostCommand,
} from "./cli.js";
export { eventGridFileSchema, readEventGridFile } from "./eventgrid/settingsFile.js";
export {
  InvalidInputError,
  NotFoundError,
  RuntimeError,
  isRuntimeError,
  type RuntimeErrorOptions,
} from "./errors.js";
export { StateLockedError, type StateLockHolder } from "./core/stateLock.js";
export { logLevels, parseLogLevel, type LogLevel } from "./core/hostLog.js";
export { ManualClock, systemClock, type CancelTimer, type Clock } from "./timers/clock.js";
export type { ScheduleStatus, TimerScheduler } from "./timers/scheduler.js";
export type {
  EventGridSettings,
  LocalTopics,
  SubscriptionSettings,
  TopicSettings,
} from "./eventgrid/topics.js";
export type { HostKeys, SystemKeyName } from "./http/hostKeys.js";
export type {
  DurableExtension,
  DurableExtensionOptions,
  FunctionInvoker,
  InvocationRequest,
  InvocationResult,
  LocalHttpRequest,
  LocalHttpResponse,
  RegisteredBinding,
  RegisteredFunction,
  RpcTypedData,
} from "./contracts.js";
