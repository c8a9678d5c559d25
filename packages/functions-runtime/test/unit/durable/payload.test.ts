import { describe, expect, it } from "vitest";
import { events, type HistoryEvent } from "../../../src/durable/history.js";
import { deepFreeze } from "../../../src/durable/historyCache.js";
import {
  activityInputTypedData,
  extractOutOfProcState,
  orchestrationTriggerJson,
  parseJsonLenient,
  resultFromReturnValue,
  taskScheduledInput,
  toTimeSpan,
} from "../../../src/durable/payload.js";

describe("activity input conversion", () => {
  it.each([
    ["a string durable-functions already encoded", '"\\"Tokyo\\""', { string: '"Tokyo"' }],
    ["an object", { a: 1 }, { string: '{"a":1}' }],
    ["a number", 5, { string: "5" }],
    ["a boolean, spelled the .NET way", true, { string: "True" }],
    ["null, as no data at all", null, {}],
    ["a missing input, as no data at all", undefined, {}],
  ])("gives the activity %s", (_what, actionInput, expected) => {
    const scheduled = taskScheduledInput(
      typeof actionInput === "string" ? (JSON.parse(actionInput) as unknown) : actionInput,
    );

    expect(activityInputTypedData(scheduled)).toEqual(expected);
  });

  it("records the input as a one-element JSON array in TaskScheduled", () => {
    expect(taskScheduledInput('"Tokyo"')).toBe('["\\"Tokyo\\""]');
  });
});

describe("activity result conversion", () => {
  it("encodes a returned string as JSON text and passes JSON through", () => {
    expect(resultFromReturnValue({ string: "Hello" })).toBe('"Hello"');
    expect(resultFromReturnValue({ json: '{"a":1}' })).toBe('{"a":1}');
    expect(resultFromReturnValue({ int: 3 })).toBe("3");
    expect(resultFromReturnValue(undefined)).toBeNull();
  });
});

describe("orchestrator failure payload", () => {
  it("reads the state after the $OutOfProcData$ label of the thrown message", () => {
    const message = 'false\n\n$OutOfProcData$:{"isDone":false,"actions":[[]],"error":"broke"}';

    expect(extractOutOfProcState(message)).toEqual({
      isDone: false,
      actions: [[]],
      error: "broke",
    });
    expect(extractOutOfProcState("plain failure")).toBeUndefined();
  });

  it("keeps text that is not JSON as a string when reading stored values", () => {
    expect(parseJsonLenient("Orchestrator function 'x' failed: y")).toBe(
      "Orchestrator function 'x' failed: y",
    );
    expect(parseJsonLenient("[1,2]")).toEqual([1, 2]);
    expect(parseJsonLenient(null)).toBeNull();
  });
});

describe("TimeSpan formatting", () => {
  it("writes durations in .NET's constant format, which durable-functions parses", () => {
    expect(toTimeSpan(3 * 86_400_000)).toBe("3.00:00:00");
    expect(toTimeSpan(6 * 86_400_000 + 3_723_000)).toBe("6.01:02:03");
    expect(toTimeSpan(1500)).toBe("00:00:01.500");
  });
});

describe("orchestration trigger binding", () => {
  const at = new Date(Date.UTC(2030, 0, 1));
  const started = events.executionStarted(at, {
    name: "orchestrator",
    instanceId: "i1",
    executionId: "e1",
    input: '{"text":"naïve \\"quoted\\" \\u2028"}',
    parent: null,
  });
  const past = (): HistoryEvent[] => [
    events.orchestratorStarted(at),
    started,
    events.taskScheduled(at, 0, "act", '["x"]'),
    events.orchestratorCompleted(at),
  ];
  const newEvents = [
    events.orchestratorStarted(at),
    events.taskCompleted(at, 0, '"done"'),
    { ...events.eventRaised(at, "next", null), IsPlayed: false },
  ];
  const rest = { input: { text: "naïve" }, instanceId: "i1", isReplaying: true, parent: null };
  /** What the engine sent before: the past events copied with IsPlayed set, stringified whole. */
  const expected = (recorded: readonly HistoryEvent[]): string =>
    JSON.stringify({
      history: [...recorded.map((e) => ({ ...e, IsPlayed: true })), ...newEvents],
      ...rest,
    });

  it("writes the same JSON as stringifying the binding with the past events marked played", () => {
    const recorded = past();

    const json = orchestrationTriggerJson(recorded, newEvents, rest);

    expect(json).toBe(expected(recorded));
    expect(recorded.every((e) => !e.IsPlayed)).toBe(true);
  });

  it("writes the same JSON again for frozen events it has seen before", () => {
    const recorded = past().map((e) => deepFreeze(e));

    const first = orchestrationTriggerJson(recorded, newEvents, rest);
    const second = orchestrationTriggerJson(recorded, newEvents, rest);

    expect(first).toBe(expected(recorded));
    expect(second).toBe(first);
  });

  it("writes an empty history and no other fields when there are none", () => {
    expect(orchestrationTriggerJson([], [], {})).toBe(JSON.stringify({ history: [] }));
    expect(orchestrationTriggerJson([], [], rest)).toBe(JSON.stringify({ history: [], ...rest }));
  });
});
