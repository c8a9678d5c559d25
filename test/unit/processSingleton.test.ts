import { describe, expect, it } from "vitest";
import { ProcessSingleton } from "../../src/processSingleton.js";

describe("ProcessSingleton", () => {
  it("builds once and hands the same value to every caller", () => {
    // Arrange
    let builds = 0;
    const singleton = new ProcessSingleton(() => ({ build: ++builds }));

    // Act
    const first = singleton.get();
    const second = singleton.get();

    // Assert
    expect(second).toBe(first);
    expect(builds).toBe(1);
  });

  it("builds again after a build that rejected, so a fault fixed in place heals", async () => {
    // Arrange
    let builds = 0;
    const singleton = new ProcessSingleton(async () => {
      builds += 1;
      if (builds === 1) throw new Error("database not started yet");
      return "ready";
    });

    // Act
    const failed = await singleton.get().catch((error: unknown) => (error as Error).message);
    const healed = await singleton.get();

    // Assert
    expect(failed).toBe("database not started yet");
    expect(healed).toBe("ready");
    expect(builds).toBe(2);
  });

  it("builds again after a build that threw", () => {
    // Arrange
    let builds = 0;
    const singleton = new ProcessSingleton(() => {
      builds += 1;
      if (builds === 1) throw new Error("setting missing");
      return "ready";
    });

    // Act
    const failed = (() => {
      try {
        return singleton.get();
      } catch (error) {
        return (error as Error).message;
      }
    })();

    // Assert
    expect(failed).toBe("setting missing");
    expect(singleton.get()).toBe("ready");
  });

  it("serves a value set by a test, and builds anew once it is cleared or taken", () => {
    // Arrange
    let builds = 0;
    const singleton = new ProcessSingleton(() => `built ${++builds}`);

    // Act
    singleton.set("substitute");
    const substituted = singleton.get();
    singleton.set(undefined);
    const rebuilt = singleton.get();
    const taken = singleton.take();
    const afterTake = singleton.get();

    // Assert
    expect([substituted, rebuilt, taken, afterTake]).toEqual([
      "substitute",
      "built 1",
      "built 1",
      "built 2",
    ]);
  });
});
