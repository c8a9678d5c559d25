/**
 * Runs orchestrations to their end with real, asynchronous activities, for tests of whole flows
 * against the fakes.
 */
import type { OrchestrationContext } from "durable-functions";
import { createHash } from "node:crypto";
import { createActivities } from "../../../src/activities/createActivities.js";
import type { Provider, PublishedEvent } from "../../../src/providers/ports.js";

type Task =
  | { kind: "activity"; name: string; input: unknown; retried: boolean }
  | { kind: "timer"; fireAt: Date }
  | { kind: "all"; tasks: Task[] };

/**
 * Runs an orchestrator generator to its end with real (asynchronous) activities: what the
 * Durable runtime does, without replay. Retried activities get as many attempts as thrown
 * (transient) failures need, up to five; timers fire at once on the orchestration's clock.
 */
export async function runOrchestration<T>(
  orchestrator: (context: OrchestrationContext) => Generator<unknown, T, never>,
  input: unknown,
  activities: Record<string, (input: never) => Promise<unknown>>,
): Promise<{ output: T; activities: string[] }> {
  let now = new Date();
  const called: string[] = [];
  const df = {
    instanceId: "azure-core-flow",
    isReplaying: false,
    get currentUtcDateTime() {
      return now;
    },
    getInput: () => input,
    setCustomStatus: () => undefined,
    newGuid: (seed: string) => {
      const hex = createHash("sha1").update(seed).digest("hex");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
    callActivity: (name: string, activityInput?: unknown): Task => ({
      kind: "activity",
      name,
      input: activityInput,
      retried: false,
    }),
    callActivityWithRetry: (name: string, _retry: unknown, activityInput?: unknown): Task => ({
      kind: "activity",
      name,
      input: activityInput,
      retried: true,
    }),
    createTimer: (fireAt: Date): Task => ({ kind: "timer", fireAt }),
    Task: { all: (tasks: Task[]): Task => ({ kind: "all", tasks }) },
  };
  const resolve = async (task: Task): Promise<unknown> => {
    if (task.kind === "timer") {
      if (task.fireAt > now) now = task.fireAt;
      return undefined;
    }
    if (task.kind === "all") return Promise.all(task.tasks.map(resolve));
    const activity = activities[task.name];
    if (!activity) throw new Error(`no activity ${task.name}`);
    called.push(task.name);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await activity(task.input as never);
      } catch (error) {
        if (!task.retried || attempt >= 5) throw error;
      }
    }
  };
  // The invocation's log, which the orchestrations' replay-safe logger writes to; not asserted here.
  const quiet = () => undefined;
  const log = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
  const generator = orchestrator({ df, ...log } as unknown as OrchestrationContext);
  let step = generator.next(undefined as never);
  while (!step.done) {
    let value: unknown;
    try {
      value = await resolve(step.value as Task);
    } catch (error) {
      step = generator.throw(error);
      continue;
    }
    step = generator.next(value as never);
  }
  return { output: step.value, activities: called };
}

/** Activities as {@link runOrchestration} takes them. */
export type RunnableActivities = Record<string, (input: never) => Promise<unknown>>;

/**
 * The app's activities over a provider, as `runOrchestration` takes them. Event Grid stands
 * behind the event port in Azure; here the events are pushed to `published` to assert on.
 */
export function activitiesOver(
  provider: Provider,
  options: {
    readonly published?: PublishedEvent[];
    readonly autoGrantRoleAssignments?: boolean;
  } = {},
): RunnableActivities {
  return createActivities({
    provider,
    events: {
      publish: async (events) => {
        options.published?.push(...events);
      },
    },
    eventSource: "/pgprotect/test",
    ...(options.autoGrantRoleAssignments ? { autoGrantRoleAssignments: true } : {}),
  }) as unknown as RunnableActivities;
}
