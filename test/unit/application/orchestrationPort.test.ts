import { describe, expect, it } from "vitest";
import { startOnce } from "../../../src/application/orchestrationPort.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";

const isRunning = (status: { runtimeStatus: string }) =>
  status.runtimeStatus === "Running" || status.runtimeStatus === "Pending";

describe("startOnce", () => {
  it("starts the orchestration under the derived id when none stands there", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const outcome = await startOnce(orchestrations, {
      name: "work",
      instanceId: "work-a",
      stands: isRunning,
      input: () => ({ a: 1 }),
    });

    // Assert
    expect(outcome).toEqual({ started: true, instanceId: "work-a" });
    expect(orchestrations.started).toEqual([
      { name: "work", instanceId: "work-a", input: { a: 1 } },
    ]);
  });

  it("answers the instance that stands and never builds the input, whose checks might refuse", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations({ "work-a": { runtimeStatus: "Running" } });
    let built = false;

    // Act
    const outcome = await startOnce(orchestrations, {
      name: "work",
      instanceId: "work-a",
      stands: isRunning,
      input: () => {
        built = true;
        return {};
      },
    });

    // Assert
    expect(outcome).toMatchObject({ started: false, status: { runtimeStatus: "Running" } });
    expect(built).toBe(false);
    expect(orchestrations.started).toEqual([]);
  });

  it("runs again in place of an instance that does not stand, such as a failed one", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations({ "work-a": { runtimeStatus: "Failed" } });

    // Act
    const outcome = await startOnce(orchestrations, {
      name: "work",
      instanceId: "work-a",
      stands: isRunning,
      input: () => ({}),
    });

    // Assert
    expect(outcome.started).toBe(true);
    expect(orchestrations.instances.get("work-a")?.runtimeStatus).toBe("Pending");
  });

  it("answers the run a concurrent caller started between the read and the start, instead of failing", async () => {
    // Arrange: the other caller starts while this one builds its input.
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const outcome = await startOnce(orchestrations, {
      name: "work",
      instanceId: "work-a",
      stands: isRunning,
      input: async () => {
        await orchestrations.start("work", "work-a", { by: "the other caller" });
        return { by: "this caller" };
      },
    });

    // Assert
    expect(outcome).toMatchObject({
      started: false,
      status: { input: { by: "the other caller" } },
    });
    expect(orchestrations.started).toHaveLength(1);
  });

  it("throws the start's own failure when nothing stands under the id afterwards", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();
    orchestrations.start = async () => {
      throw new Error("task hub unreachable");
    };

    // Act
    const starting = startOnce(orchestrations, {
      name: "work",
      instanceId: "work-a",
      stands: isRunning,
      input: () => ({}),
    });

    // Assert
    await expect(starting).rejects.toThrow("task hub unreachable");
  });
});
