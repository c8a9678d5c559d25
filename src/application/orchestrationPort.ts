/**
 * The port through which use cases start and read durable orchestrations, and the one policy for
 * starting an orchestration once under an id derived from what it works on.
 */

/** What a use case reads of an orchestration instance. */
export interface OrchestrationStatus {
  /** The orchestrator function's name. */
  readonly name: string;
  /** `Pending`, `Running`, `Completed`, `Failed`, `Terminated`, `Canceled`, ... */
  readonly runtimeStatus: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly customStatus?: unknown;
  readonly createdTime: Date | string;
  readonly lastUpdatedTime: Date | string;
}

/** Starting and reading orchestration instances (Durable Functions, or the local runtime). */
export interface OrchestrationPort {
  /**
   * Starts `name` under `instanceId`.
   *
   * @throws when the instance cannot be started, among others because one under that id is
   * running (a concurrent caller started it).
   */
  start(name: string, instanceId: string, input: unknown): Promise<void>;
  /** The instance's status with its input, or `undefined` when there is none. */
  status(instanceId: string): Promise<OrchestrationStatus | undefined>;
}

/** Runtime states after which an instance will not change any more. */
export const finishedStates: readonly string[] = ["Completed", "Failed", "Terminated", "Canceled"];

/** Whether an instance has ended. */
export const hasFinished = (status: OrchestrationStatus): boolean =>
  finishedStates.includes(status.runtimeStatus);

/** What {@link startOnce} did. */
export type StartOnceOutcome =
  | { readonly started: true; readonly instanceId: string }
  | {
      readonly started: false;
      readonly instanceId: string;
      /** The instance that stands under the id, which the caller answers instead. */
      readonly status: OrchestrationStatus;
    };

/** One start under a derived id. */
export interface StartOnceRequest {
  readonly name: string;
  readonly instanceId: string;
  /**
   * Whether an instance found under the id stands, so that none is started: e.g. "is running"
   * or "is running or has succeeded". An instance that does not stand is replaced by a new run.
   */
  readonly stands: (status: OrchestrationStatus) => boolean;
  /**
   * The new run's input, built only when a run is to start (it may check and refuse), so an
   * instance that stands is answered whatever changed since.
   */
  readonly input: () => unknown;
}

/**
 * Starts an orchestration once under a derived id. This is the one race policy of the app:
 *
 * 1. read the instance under the id; if it stands (the caller's rule), start nothing and answer it;
 * 2. otherwise build the input and start;
 * 3. if the start fails, read the id again: an instance that now stands was started by a
 *    concurrent caller, and is answered as in 1; anything else is the start's own failure, thrown.
 *
 * @remarks The race is recognised by reading the state, never by matching a client's error text,
 * which differs between Durable Functions, its HTTP API and the local runtime.
 */
export async function startOnce(
  orchestrations: OrchestrationPort,
  request: StartOnceRequest,
): Promise<StartOnceOutcome> {
  const { name, instanceId, stands } = request;
  const existing = await orchestrations.status(instanceId);
  if (existing && stands(existing)) return { started: false, instanceId, status: existing };
  const input = await request.input();
  try {
    await orchestrations.start(name, instanceId, input);
  } catch (error) {
    const raced = await orchestrations.status(instanceId).catch(() => undefined);
    if (raced && stands(raced)) return { started: false, instanceId, status: raced };
    throw error;
  }
  return { started: true, instanceId };
}
