/**
 * The Durable Functions extension of the local runtime: a replay engine that drives the app's
 * real orchestrators through durable-functions' own `Orchestrator`, following the extension's
 * out-of-process protocol, plus the HTTP management API the `DurableClient` talks to.
 *
 * @remarks State lives in `<stateDir>/durable-<taskHub>.sqlite` (Node's built-in `node:sqlite`).
 * A runtime killed at any point and started again resumes every in-flight orchestration.
 * Activities are at-least-once: one that ran but whose result was not yet committed runs again
 * after a restart, so activities must be idempotent, as they must be in Azure.
 * Not supported: entities, rewind, restart, and managed-identity tokens for `callHttp`.
 */
import type {
  DurableExtension,
  DurableExtensionOptions,
  LocalHttpRequest,
  LocalHttpResponse,
} from "../contracts.js";
import { RuntimeError } from "../errors.js";
import { systemClock } from "./clock.js";
import { DurableEngine, type DurableTuning } from "./engine.js";
import { clientBindingData, handleDurableHttp, type UrlSettings } from "./httpApi.js";
import { openDurableStore, type DurableStore, type DurableStoreOptions } from "./store.js";

export {
  ManualClock,
  durableClockFrom,
  systemClock,
  type DateClock,
  type DurableClock,
} from "./clock.js";
export type { DurableEngine, DurableTuning } from "./engine.js";
export type { DurableStoreOptions } from "./store.js";

/** Options of {@link createDurableExtension}: the host's, plus optional tuning of engine and store. */
export type DurableOptions = DurableExtensionOptions & DurableTuning & DurableStoreOptions;

/** The extension with access to its engine (tests and benchmarks wait on it). */
export interface LocalDurableExtension extends DurableExtension {
  /** The running engine; throws before `start()`. */
  readonly engine: DurableEngine;
}

/** Creates the Durable extension for the local host. */
export function createDurableExtension(options: DurableOptions): LocalDurableExtension {
  const origin = new URL(options.baseUrl).origin;
  const urls: UrlSettings = {
    taskHub: options.taskHub,
    connectionName: "Storage",
    ...(options.systemKey !== undefined ? { systemKey: options.systemKey } : {}),
  };
  let store: DurableStore | undefined;
  let engine: DurableEngine | undefined;

  return {
    get engine(): DurableEngine {
      if (!engine)
        throw new RuntimeError(
          "DURABLE_NOT_STARTED",
          "The Durable extension has not been started.",
        );
      return engine;
    },
    clientBindingValue(): string {
      return JSON.stringify(clientBindingData(origin, urls));
    },
    async handleHttp(request: LocalHttpRequest): Promise<LocalHttpResponse> {
      if (!engine) {
        return {
          status: 503,
          headers: { "Content-Type": "text/plain" },
          body: "The Durable extension is not running.",
        };
      }
      return handleDurableHttp(engine, urls, request, origin);
    },
    async start(): Promise<void> {
      if (engine) return;
      store = await openDurableStore(options.stateDir, options.taskHub, {
        historyCacheEvents: options.historyCacheEvents,
      });
      engine = new DurableEngine({
        ...options,
        clock: options.clock ?? systemClock,
        store,
        log: options.log,
      });
      engine.start();
    },
    async stop(): Promise<void> {
      const running = engine;
      engine = undefined;
      await running?.stop();
      store?.close();
      store = undefined;
    },
  };
}
