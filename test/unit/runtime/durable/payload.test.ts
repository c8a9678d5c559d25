import { describe, expect, it } from "vitest";
import {
  activityInputTypedData,
  extractOutOfProcState,
  parseJsonLenient,
  resultFromReturnValue,
  taskScheduledInput,
  toTimeSpan,
} from "../../../../src/runtime/durable/payload.js";

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
