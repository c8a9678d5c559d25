import { describe, expect, it } from "vitest";
import { events, type HistoryEvent } from "../../../src/durable/history.js";
import { HistoryCache, deepFreeze } from "../../../src/durable/historyCache.js";

const at = new Date(Date.UTC(2030, 0, 1));

function history(length: number): HistoryEvent[] {
  return Array.from({ length }, () => events.orchestratorStarted(at));
}

describe("the history cache", () => {
  it("gives back the events stored for the same execution", () => {
    const cache = new HistoryCache(10);
    const stored = history(3);

    cache.set("i1", "e1", stored);

    expect(cache.get("i1", "e1")).toBe(stored);
    expect(cache.size).toEqual({ instances: 1, events: 3 });
  });

  it("drops an entry asked for under another execution id", () => {
    const cache = new HistoryCache(10);
    cache.set("i1", "e1", history(3));

    const found = cache.get("i1", "e2");

    expect(found).toBeUndefined();
    expect(cache.get("i1", "e1")).toBeUndefined();
    expect(cache.size).toEqual({ instances: 0, events: 0 });
  });

  it("evicts the least recently used instances once the events exceed the bound", () => {
    const cache = new HistoryCache(6);
    cache.set("i1", "e1", history(3));
    cache.set("i2", "e1", history(3));
    cache.get("i1", "e1");

    cache.set("i3", "e1", history(2));

    expect(cache.get("i2", "e1")).toBeUndefined();
    expect(cache.get("i1", "e1")).toHaveLength(3);
    expect(cache.get("i3", "e1")).toHaveLength(2);
    expect(cache.size).toEqual({ instances: 2, events: 5 });
  });

  it("keeps no history larger than the bound on its own", () => {
    const cache = new HistoryCache(4);
    cache.set("small", "e1", history(2));

    cache.set("large", "e1", history(5));

    expect(cache.get("large", "e1")).toBeUndefined();
    expect(cache.size).toEqual({ instances: 0, events: 0 });
  });

  it("keeps nothing when its bound is zero", () => {
    const cache = new HistoryCache(0);

    cache.set("i1", "e1", history(1));

    expect(cache.get("i1", "e1")).toBeUndefined();
  });

  it("refuses a bound that is not a whole number of events", () => {
    expect(() => new HistoryCache(-1)).toThrow(RangeError);
    expect(() => new HistoryCache(1.5)).toThrow(RangeError);
  });

  it("takes an entry out until it is stored again", () => {
    const cache = new HistoryCache(10);
    cache.set("i1", "e1", history(2));

    const taken = cache.take("i1");

    expect(taken).toMatchObject({ executionId: "e1" });
    expect(taken?.events).toHaveLength(2);
    expect(cache.get("i1", "e1")).toBeUndefined();
    expect(cache.size).toEqual({ instances: 0, events: 0 });
  });

  it("replaces an instance's entry and counts only the new one", () => {
    const cache = new HistoryCache(10);
    cache.set("i1", "e1", history(4));

    cache.set("i1", "e1", history(6));

    expect(cache.size).toEqual({ instances: 1, events: 6 });
  });

  it("forgets one instance on delete and everything on clear", () => {
    const cache = new HistoryCache(10);
    cache.set("i1", "e1", history(1));
    cache.set("i2", "e1", history(1));

    cache.delete("i1");
    const afterDelete = cache.size;
    cache.clear();

    expect(afterDelete).toEqual({ instances: 1, events: 1 });
    expect(cache.size).toEqual({ instances: 0, events: 0 });
  });
});

describe("deepFreeze", () => {
  it("freezes an event and the objects inside it", () => {
    const event = deepFreeze(
      events.executionStarted(at, {
        name: "o",
        instanceId: "i1",
        executionId: "e1",
        input: null,
        parent: null,
      }),
    );

    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event.OrchestrationInstance)).toBe(true);
    expect(() => {
      (event.OrchestrationInstance as { InstanceId: string }).InstanceId = "other";
    }).toThrow(TypeError);
  });
});
