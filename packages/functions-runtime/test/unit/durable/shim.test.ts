import * as df from "durable-functions";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventType, events, type HistoryEvent } from "../../../src/durable/history.js";
import { replayEpisode, type ShimOptions } from "../../../src/durable/shim.js";
import {
  driveOrchestrator,
  orchestratorEpisode,
  type DriveResult,
  type WorkOutcome as ActivityOutcome,
} from "../../../src/durable/testing.js";

const day = 86_400_000;
const start = Date.UTC(2030, 0, 1);

const options: ShimOptions = {
  executionId: "exec1",
  maximumShortTimerMs: 6 * day,
  longRunningTimerIntervalMs: 3 * day,
  lookupFunction: (name) =>
    ["A", "B", "C", "Hello", "Flaky", "Fail", "TaskA", "TaskB"].includes(name)
      ? { name, triggerType: "activityTrigger" }
      : undefined,
};

/** The shim test's driver: {@link driveOrchestrator} with these options. */
function drive(
  fn: df.OrchestrationHandler,
  activity: (name: string, input: unknown) => ActivityOutcome,
  batch: number | "all" | "newest-first",
  raised: Array<{ afterEpisode: number; name: string; value: unknown }> = [],
): Promise<DriveResult> {
  return driveOrchestrator(fn, { shim: options, activity, batch, raised });
}

function scheduledIds(history: readonly HistoryEvent[]): Array<[number, string]> {
  return history
    .filter(
      (e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.TimerCreated,
    )
    .map((e) => [e.EventId, e.EventType === EventType.TimerCreated ? "timer" : String(e.Name)]);
}

describe("the extension's sequence numbers", () => {
  const retryThenNext: df.OrchestrationHandler = function* (context) {
    const retry = new df.RetryOptions(1000, 3);
    const [a, b] = (yield context.df.Task.all([
      context.df.callActivityWithRetry("A", retry, "a"),
      context.df.callActivity("B", "b"),
    ])) as string[];
    const c = (yield context.df.callActivity("C", "c")) as string;
    return [a, b, c].join(",");
  };

  it("numbers a retried activity's timer and next attempt as the extension does (A=0, B=1, timer=2, A again=3, C=4)", async () => {
    let attemptsOfA = 0;
    const result = await drive(
      retryThenNext,
      (name) => {
        if (name === "A" && ++attemptsOfA === 1)
          return { ok: false, message: "first attempt fails" };
        return { ok: true, value: name.toLowerCase() };
      },
      1,
    );

    expect(result.output).toBe("a,b,c");
    expect(scheduledIds(result.history)).toEqual([
      [0, "A"],
      [1, "B"],
      [2, "timer"],
      [3, "A"],
      [4, "C"],
    ]);
  });

  it("reaches the same output and ids whether completions arrive one by one or all at once", async () => {
    const outcomes = (name: string): ActivityOutcome => ({ ok: true, value: name.toLowerCase() });

    const oneByOne = await drive(retryThenNext, outcomes, 1);
    const batched = await drive(retryThenNext, outcomes, "all");

    expect(batched.output).toBe(oneByOne.output);
    expect(scheduledIds(batched.history)).toEqual(scheduledIds(oneByOne.history));
    expect(batched.episodes).toBeLessThan(oneByOne.episodes);
  });

  it("agrees with durable-functions on ids when a race and a retry complete in the same episode, in either order", async () => {
    const raceThenNext: df.OrchestrationHandler = function* (context) {
      const retry = new df.RetryOptions(1000, 2);
      const a = context.df.callActivityWithRetry("A", retry, "a");
      const b = context.df.callActivity("B", "b");
      const first = (yield context.df.Task.any([a, b])) as { result: unknown };
      const c = (yield context.df.callActivity("C", "c")) as string;
      return [first.result, c].join(",");
    };
    let attemptsOfA = 0;
    const outcomes = (name: string): ActivityOutcome =>
      name === "A" && ++attemptsOfA === 1
        ? { ok: false, message: "once" }
        : { ok: true, value: name.toLowerCase() };

    const oldestFirst = await drive(raceThenNext, outcomes, "all");
    attemptsOfA = 0;
    const newestFirst = await drive(raceThenNext, outcomes, "newest-first");

    expect(oldestFirst.output).toBe("b,c");
    expect(newestFirst.output).toBe("b,c");
    // TaskFailed(A) first: its retry timer takes 2 and C takes 3; TaskCompleted(B) first: the reverse.
    // The retry goes on in the background after B won the race: its next attempt is 4.
    expect(scheduledIds(oldestFirst.history)).toEqual([
      [0, "A"],
      [1, "B"],
      [2, "timer"],
      [3, "C"],
      [4, "A"],
    ]);
    expect(scheduledIds(newestFirst.history)).toEqual([
      [0, "A"],
      [1, "B"],
      [2, "C"],
      [3, "timer"],
      [4, "A"],
    ]);
  });

  it("polls a callHttp 202 answer on a timer of Retry-After seconds, then a GET of its Location", async () => {
    const polling: df.OrchestrationHandler = function* (context) {
      const response = (yield context.df.callHttp({
        method: "POST",
        url: "http://127.0.0.1:1/jobs",
      })) as {
        statusCode: number;
        content: string;
      };
      return `${response.statusCode} ${response.content}`;
    };
    const requests: unknown[] = [];

    const result = await drive(
      polling,
      (_name, input) => {
        requests.push(input);
        return requests.length < 3
          ? {
              ok: true,
              value: {
                statusCode: 202,
                headers: { location: "/jobs/1", "retry-after": "5" },
                content: "",
              },
            }
          : { ok: true, value: { statusCode: 200, headers: {}, content: "done" } };
      },
      1,
    );

    expect(result.output).toBe("200 done");
    expect(scheduledIds(result.history)).toEqual([
      [0, "BuiltIn::HttpActivity"],
      [1, "timer"],
      [2, "BuiltIn::HttpActivity"],
      [3, "timer"],
      [4, "BuiltIn::HttpActivity"],
    ]);
    const delays = result.history
      .filter((e) => e.EventType === EventType.TimerCreated)
      .map((t) => Date.parse(t.FireAt ?? "") - Date.parse(t.Timestamp));
    expect(delays).toEqual([5000, 5000]);
    expect(
      requests.map(
        (r) => (r as { method: string; uri: string }).method + " " + (r as { uri: string }).uri,
      ),
    ).toEqual([
      "POST http://127.0.0.1:1/jobs",
      "GET http://127.0.0.1:1/jobs/1",
      "GET http://127.0.0.1:1/jobs/1",
    ]);
  });

  it("places retry timers at first interval times backoff and a last timer that fires at once before giving up", async () => {
    const gaveUp: df.OrchestrationHandler = function* (context) {
      const retry = new df.RetryOptions(1000, 3);
      retry.backoffCoefficient = 2;
      try {
        yield context.df.callActivityWithRetry("Flaky", retry, null);
        return "succeeded";
      } catch (error) {
        return (error as Error).message.split("\n")[0];
      }
    };

    const result = await drive(gaveUp, () => ({ ok: false, message: "always" }), 1);

    expect(result.output).toBe("Activity function 'Flaky' failed: always ");
    const timers = result.history.filter((e) => e.EventType === EventType.TimerCreated);
    const delays = timers.map((t) => Date.parse(t.FireAt ?? "") - Date.parse(t.Timestamp));
    expect(delays).toEqual([1000, 2000, 0]);
    expect(scheduledIds(result.history).map(([id, kind]) => `${id}:${kind}`)).toEqual([
      "0:Flaky",
      "1:timer",
      "2:Flaky",
      "3:timer",
      "4:Flaky",
      "5:timer",
    ]);
  });

  it("splits a timer longer than six days into three-day slices, each with its own id", async () => {
    const longTimer: df.OrchestrationHandler = function* (context) {
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 8 * day));
      return context.df.currentUtcDateTime.toISOString();
    };

    const result = await drive(longTimer, () => ({ ok: true, value: null }), 1);

    expect(result.output).toBe(new Date(start + 8 * day).toISOString());
    const fireTimes = result.history
      .filter((e) => e.EventType === EventType.TimerCreated)
      .map((e) => [e.EventId, e.FireAt]);
    expect(fireTimes).toEqual([
      [0, new Date(start + 3 * day).toISOString()],
      [1, new Date(start + 8 * day).toISOString()],
    ]);
  });

  it("waits for every child of a failed fan-out before the orchestration fails, as the extension's WhenAll does", async () => {
    const fanOut: df.OrchestrationHandler = function* (context) {
      yield context.df.Task.all([
        context.df.callActivity("A", 1),
        context.df.callActivity("B", 2),
        context.df.callActivity("C", 3),
      ]);
      return "unreachable";
    };

    const result = await drive(
      fanOut,
      (name) => (name === "A" ? { ok: false, message: "A broke" } : { ok: true, value: 1 }),
      1,
    );

    expect(result.error).toContain("A broke");
    // JS fails fast after the first completion; the orchestration ends only after B and C complete.
    expect(result.episodes).toBe(4);
    expect(result.history.filter((e) => e.EventType === EventType.TaskCompleted)).toHaveLength(2);
  });

  it("lets an external event win over a timeout timer and consumes no id for the wait", async () => {
    const approval: df.OrchestrationHandler = function* (context) {
      const timeout = context.df.createTimer(
        new Date(context.df.currentUtcDateTime.getTime() + 3600_000),
      );
      const event = context.df.waitForExternalEvent("Approval");
      const winner: unknown = yield context.df.Task.any([event, timeout]);
      if (winner === event) {
        timeout.cancel();
        const next = (yield context.df.callActivity("Hello", "approved")) as string;
        return `${String(event.result)} ${next}`;
      }
      return "timed out";
    };

    const result = await drive(approval, () => ({ ok: true, value: "done" }), 1, [
      { afterEpisode: 1, name: "Approval", value: "yes" },
    ]);

    expect(result.output).toBe("yes done");
    expect(scheduledIds(result.history)).toEqual([
      [0, "timer"],
      [1, "Hello"],
    ]);
  });
});

describe("failures the shim detects", () => {
  it("reports non-determinism when the replay schedules a different activity than the history recorded", () => {
    const at = new Date(start);
    const history: HistoryEvent[] = [
      events.orchestratorStarted(at),
      events.executionStarted(at, {
        name: "o",
        instanceId: "i1",
        executionId: "exec1",
        input: null,
        parent: null,
      }),
      events.taskScheduled(at, 0, "A", "[null]"),
      events.orchestratorCompleted(at),
      events.orchestratorStarted(at),
      events.taskCompleted(at, 0, "null"),
    ];

    const outcome = replayEpisode(history, [{ actionType: 0, functionName: "B" }], options);

    expect(outcome.fatalError).toMatch(
      /^Non-Deterministic workflow detected: .*sequence ID 0 and name 'A'.*named 'B'/,
    );
    expect(outcome.scheduled).toEqual([]);
  });

  it("reports non-determinism when the history recorded a task the replay never schedules", () => {
    const at = new Date(start);
    const history: HistoryEvent[] = [
      events.orchestratorStarted(at),
      events.executionStarted(at, {
        name: "o",
        instanceId: "i1",
        executionId: "exec1",
        input: null,
        parent: null,
      }),
      events.timerCreated(at, 0, at),
    ];

    const outcome = replayEpisode(history, [], options);

    expect(outcome.fatalError).toContain("scheduled a durable timer with sequence ID 0");
  });

  it("fails a call to an activity the app does not register, naming it", () => {
    const at = new Date(start);
    const history = [
      events.orchestratorStarted(at),
      events.executionStarted(at, {
        name: "o",
        instanceId: "i1",
        executionId: "exec1",
        input: null,
        parent: null,
      }),
    ];

    const outcome = replayEpisode(
      history,
      [{ actionType: 0, functionName: "Missing", input: 1 }],
      options,
    );

    expect(outcome.fatalError).toContain("The function 'Missing' doesn't exist");
  });

  it("fails entity calls with a message saying the local runtime does not support them", () => {
    const at = new Date(start);
    const history = [
      events.orchestratorStarted(at),
      events.executionStarted(at, {
        name: "o",
        instanceId: "i1",
        executionId: "exec1",
        input: null,
        parent: null,
      }),
    ];

    const entity = replayEpisode(history, [{ actionType: 7, instanceId: "@counter@k" }], options);
    const signal = replayEpisode(history, [{ actionType: 9, instanceId: "@counter@k" }], options);

    expect(entity.fatalError).toContain("entities");
    expect(signal.fatalError).toContain("not supported by the local runtime");
  });

  it("names a default sub-orchestration instance after the parent execution and the sequence id", () => {
    const at = new Date(start);
    const history = [
      events.orchestratorStarted(at),
      events.executionStarted(at, {
        name: "o",
        instanceId: "i1",
        executionId: "exec1",
        input: null,
        parent: null,
      }),
    ];
    const lookup: ShimOptions = {
      ...options,
      lookupFunction: (name) => ({
        name,
        triggerType: name === "Child" ? "orchestrationTrigger" : "activityTrigger",
      }),
    };

    const outcome = replayEpisode(
      history,
      [
        {
          actionType: 12,
          compoundActions: [
            { actionType: 0, functionName: "A" },
            { actionType: 2, functionName: "Child" },
          ],
        },
      ],
      lookup,
    );

    expect(outcome.scheduled).toEqual([
      { kind: "activity", id: 0, name: "A", input: undefined },
      { kind: "subOrchestration", id: 1, name: "Child", instanceId: "exec1:1", input: undefined },
    ]);
  });
});

/** Runs the real orchestrator over a history and replays its actions through the shim. */
async function episodeOver(fn: df.OrchestrationHandler, history: HistoryEvent[], input: unknown) {
  const state = await orchestratorEpisode(fn, history, input, true);
  return { state, outcome: replayEpisode(history, state.actions[0] ?? [], options) };
}

// Histories ported from durable-js test/testobjects/testhistories.ts (TimerActivityRace, AnyAOrB).
describe("reference histories of the durable-functions library", () => {
  const t0 = new Date(start);
  const at = (ms: number) => new Date(start + ms);
  const started = (name: string, input: string | null) =>
    events.executionStarted(t0, {
      name,
      instanceId: "i1",
      executionId: "exec1",
      input,
      parent: null,
    });

  const timerActivityRace: df.OrchestrationHandler = function* (context) {
    const timer = context.df.createTimer(at(1000));
    const activity = context.df.callActivity("TaskA");
    const winner: unknown = yield context.df.Task.any([timer, activity]);
    if (winner === activity) {
      yield context.df.callActivity("TaskB");
      return "activity won";
    }
    return "timer won";
  };

  it("schedules TaskB as id 2 after TaskA wins the race against timer 0 (GetTimerActivityRaceActivityWinsHistory)", async () => {
    const iterationTwo: HistoryEvent[] = [
      events.orchestratorStarted(t0),
      started("TimerActivityRace", null),
      events.timerCreated(t0, 0, at(1000)),
      events.taskScheduled(t0, 1, "TaskA", "[null]"),
      events.orchestratorCompleted(t0),
      events.orchestratorStarted(at(500)),
      events.taskCompleted(at(500), 1, "{}"),
    ];

    const { outcome } = await episodeOver(timerActivityRace, iterationTwo, null);

    expect(outcome.fatalError).toBeUndefined();
    expect(outcome.scheduled).toEqual([
      { kind: "activity", id: 2, name: "TaskB", input: undefined },
    ]);
  });

  it("completes the race once TaskB completes, with the late timer ignored (iteration 4)", async () => {
    const iterationFour: HistoryEvent[] = [
      events.orchestratorStarted(t0),
      started("TimerActivityRace", null),
      events.timerCreated(t0, 0, at(1000)),
      events.taskScheduled(t0, 1, "TaskA", "[null]"),
      events.orchestratorCompleted(t0),
      events.orchestratorStarted(at(500)),
      events.taskCompleted(at(500), 1, "{}"),
      events.taskScheduled(at(500), 2, "TaskB", "[null]"),
      events.orchestratorCompleted(at(500)),
      events.orchestratorStarted(at(1100)),
      events.timerFired(at(1100), 0, at(1000).toISOString()),
      events.orchestratorCompleted(at(1100)),
      events.orchestratorStarted(at(2000)),
      events.taskCompleted(at(2000), 2, "{}"),
    ];

    const { state, outcome } = await episodeOver(timerActivityRace, iterationFour, null);

    expect(outcome).toMatchObject({ scheduled: [], actionsSettled: true });
    expect(state).toMatchObject({ isDone: true, output: "activity won" });
  });

  it("finishes AnyAOrB when either of its two tasks completes (GetAnyAOrB)", async () => {
    const anyAOrB: df.OrchestrationHandler = function* (context) {
      const completeInOrder = context.df.getInput<boolean>();
      const winner = (yield context.df.Task.any([
        context.df.callActivity("TaskA", !completeInOrder),
        context.df.callActivity("TaskB", completeInOrder),
      ])) as { result: unknown };
      return winner.result;
    };
    for (const completeInOrder of [true, false]) {
      const history: HistoryEvent[] = [
        events.orchestratorStarted(t0),
        started("AnyAOrB", JSON.stringify(completeInOrder)),
        events.taskScheduled(t0, 0, "TaskA", JSON.stringify([!completeInOrder])),
        events.taskScheduled(t0, 1, "TaskB", JSON.stringify([completeInOrder])),
        events.orchestratorCompleted(t0),
        events.orchestratorStarted(at(1000)),
        events.taskCompleted(
          at(1000),
          completeInOrder ? 0 : 1,
          JSON.stringify(completeInOrder ? "A" : "B"),
        ),
      ];

      const { state, outcome } = await episodeOver(anyAOrB, history, completeInOrder);

      expect(outcome).toMatchObject({ scheduled: [], actionsSettled: true });
      expect(state).toMatchObject({ isDone: true, output: completeInOrder ? "A" : "B" });
    }
  });

  const sayHelloWithActivityRetry: df.OrchestrationHandler = function* (context) {
    const output: unknown = yield context.df.callActivityWithRetry(
      "Hello",
      new df.RetryOptions(10000, 2),
      context.df.getInput(),
    );
    return output;
  };
  const helloFailed = (ms: number, id: number) =>
    events.taskFailed(
      at(ms),
      id,
      "Activity function 'Hello' failed: Result: Failure",
      "Big stack trace here",
    );

  it("follows GetSayHelloWithActivityRetryRetryTwo: attempts 0 and 2, timers 1 and 3, then the failure", async () => {
    const throughSecondFailure: HistoryEvent[] = [
      events.orchestratorStarted(t0),
      started("SayHelloWithActivityRetry", JSON.stringify("World")),
      events.taskScheduled(t0, 0, "Hello", "[null]"),
      events.orchestratorCompleted(t0),
      events.orchestratorStarted(at(1000)),
      helloFailed(1000, 0),
      events.timerCreated(at(1000), 1, at(11_000)),
      events.orchestratorCompleted(at(1000)),
      events.orchestratorStarted(at(12_000)),
      events.timerFired(at(12_000), 1, at(12_000).toISOString()),
      events.taskScheduled(at(12_000), 2, "Hello", "[null]"),
      events.orchestratorCompleted(at(12_000)),
      events.orchestratorStarted(at(13_000)),
      helloFailed(13_000, 2),
    ];

    const beforeLastTimer = await episodeOver(
      sayHelloWithActivityRetry,
      throughSecondFailure,
      "World",
    );
    const complete = await episodeOver(
      sayHelloWithActivityRetry,
      [
        ...throughSecondFailure,
        events.timerCreated(at(13_000), 3, at(13_000)),
        events.orchestratorCompleted(at(13_000)),
        events.orchestratorStarted(at(14_000)),
        events.timerFired(at(14_000), 3, at(13_000).toISOString()),
      ],
      "World",
    );

    expect(beforeLastTimer.outcome.scheduled).toEqual([
      { kind: "timer", id: 3, fireAt: at(13_000) },
    ]);
    expect(complete.outcome).toMatchObject({ scheduled: [], actionsSettled: true });
    expect(complete.outcome.fatalError).toBeUndefined();
    expect(complete.state.error).toBe(
      "Activity function 'Hello' failed: Result: Failure \n Big stack trace here",
    );
  });

  it("follows GetSayHelloWithActivityRetryFanout: a retried fan-out child gets timer 2 and attempt 3", async () => {
    const retryFanOut: df.OrchestrationHandler = function* (context) {
      const retry = new df.RetryOptions(100, 5);
      const output: unknown = yield context.df.Task.all([
        context.df.callActivityWithRetry("Hello", retry, "Tokyo"),
        context.df.callActivityWithRetry("Hello", retry, "Seattle"),
      ]);
      return output;
    };
    const iterationOne: HistoryEvent[] = [
      events.orchestratorStarted(t0),
      started("SayHelloWithActivityRetryFanout", null),
      events.taskScheduled(t0, 0, "Hello", '["\\"Tokyo\\""]'),
      events.taskScheduled(t0, 1, "Hello", '["\\"Seattle\\""]'),
      events.orchestratorCompleted(t0),
    ];
    const iterationTwo = [
      ...iterationOne,
      events.orchestratorStarted(at(110)),
      helloFailed(100, 0),
      events.taskCompleted(at(100), 1, JSON.stringify("Hello, Seattle!")),
    ];
    const iterationThree = [
      ...iterationTwo,
      events.timerCreated(at(110), 2, at(210)),
      events.orchestratorCompleted(at(110)),
      events.orchestratorStarted(at(300)),
      events.timerFired(at(300), 2, at(210).toISOString()),
    ];
    const iterationFour = [
      ...iterationThree,
      events.taskScheduled(at(300), 3, "Hello", '["\\"Tokyo\\""]'),
      events.orchestratorCompleted(at(300)),
      events.orchestratorStarted(at(400)),
      events.taskCompleted(at(400), 3, JSON.stringify("Hello, Tokyo!")),
    ];

    const second = await episodeOver(retryFanOut, iterationTwo, null);
    const third = await episodeOver(retryFanOut, iterationThree, null);
    const fourth = await episodeOver(retryFanOut, iterationFour, null);

    expect(second.outcome.scheduled).toEqual([{ kind: "timer", id: 2, fireAt: at(210) }]);
    expect(third.outcome.scheduled).toEqual([
      { kind: "activity", id: 3, name: "Hello", input: '"Tokyo"' },
    ]);
    expect(fourth.outcome).toMatchObject({ scheduled: [], actionsSettled: true });
    expect(fourth.state).toMatchObject({
      isDone: true,
      output: ["Hello, Tokyo!", "Hello, Seattle!"],
    });
  });
});

type Step =
  | { readonly kind: "activity" }
  | { readonly kind: "retry"; readonly attempts: number; readonly failures: number }
  | { readonly kind: "fanOut"; readonly size: number; readonly failing: number }
  | { readonly kind: "timer"; readonly ms: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: "activity" }),
  fc.record({
    kind: fc.constant("retry" as const),
    attempts: fc.integer({ min: 1, max: 3 }),
    failures: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({
    kind: fc.constant("fanOut" as const),
    size: fc.integer({ min: 1, max: 4 }),
    failing: fc.integer({ min: -1, max: 3 }),
  }),
  fc.record({ kind: fc.constant("timer" as const), ms: fc.integer({ min: 1, max: 9 * day }) }),
);

/** An orchestrator that runs the steps in order, catching failures. */
function programOrchestrator(steps: readonly Step[]): df.OrchestrationHandler {
  return function* (context) {
    const out: unknown[] = [];
    for (const [index, step] of steps.entries()) {
      const key = `s${index}`;
      if (step.kind === "activity") {
        out.push(yield context.df.callActivity("A", key));
      } else if (step.kind === "retry") {
        try {
          out.push(
            yield context.df.callActivityWithRetry(
              "Flaky",
              new df.RetryOptions(1000, step.attempts),
              { key, failures: step.failures },
            ),
          );
        } catch {
          out.push("gave up");
        }
      } else if (step.kind === "fanOut") {
        const tasks = Array.from({ length: step.size }, (_, j) =>
          context.df.callActivity(j === step.failing ? "Fail" : "A", `${key}.${j}`),
        );
        try {
          out.push(yield context.df.Task.all(tasks));
        } catch {
          out.push("fan-out failed");
        }
      } else {
        yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + step.ms));
        out.push("tick");
      }
    }
    return out;
  };
}

/** What the program must return, worked out without any replay. */
function expectedOutput(steps: readonly Step[]): unknown[] {
  return steps.map((step, index) => {
    const key = `s${index}`;
    if (step.kind === "activity") return key;
    if (step.kind === "retry") return step.failures < step.attempts ? `${key} ok` : "gave up";
    if (step.kind === "fanOut") {
      return step.failing >= 0 && step.failing < step.size
        ? "fan-out failed"
        : Array.from({ length: step.size }, (_, j) => `${key}.${j}`);
    }
    return "tick";
  });
}

describe("the shim and durable-functions agree on every id", () => {
  it("runs random programs of activities, retries, fan-outs and timers to their expected output, whatever the delivery order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<number | "all" | "newest-first">(1, 2, "all", "newest-first"),
        async (steps, batch) => {
          const attempts = new Map<string, number>();
          const activity = (name: string, input: unknown): ActivityOutcome => {
            if (name === "Fail") return { ok: false, message: "planned failure" };
            if (name === "Flaky") {
              const { key, failures } = input as { key: string; failures: number };
              const attempt = (attempts.get(key) ?? 0) + 1;
              attempts.set(key, attempt);
              return attempt <= failures
                ? { ok: false, message: `attempt ${attempt}` }
                : { ok: true, value: `${key} ok` };
            }
            return { ok: true, value: input };
          };

          const result = await drive(programOrchestrator(steps), activity, batch);

          expect(result.error).toBeUndefined();
          expect(result.output).toEqual(expectedOutput(steps));
          const ids = result.history
            .filter(
              (e) =>
                e.EventType === EventType.TaskScheduled || e.EventType === EventType.TimerCreated,
            )
            .map((e) => e.EventId);
          // Ids are dense and recorded in order: each one scheduled exactly once.
          expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i));
        },
      ),
      { numRuns: 150 },
    );
  });
});
