import { describe, expect, it } from "vitest";
import { notFollowedReason, startJobFollowing } from "../../../src/application/jobFollowing.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";

describe("starting the orchestration that follows a job", () => {
  it("answers the instance that follows the job once it started", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations();

    // Act
    const following = await startJobFollowing(orchestrations, "restoreToServer", "restore-j1", {
      jobId: "j1",
    });

    // Assert
    expect(following).toEqual({ instanceId: "restore-j1" });
    expect(orchestrations.started).toEqual([
      { name: "restoreToServer", instanceId: "restore-j1", input: { jobId: "j1" } },
    ]);
  });

  it("answers why the orchestration did not start instead of throwing, since the job runs anyway", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations({
      "restore-j1": { runtimeStatus: "Running" },
    });

    // Act
    const following = await startJobFollowing(orchestrations, "restoreToServer", "restore-j1", {});

    // Assert
    expect(following.instanceId).toBeNull();
    expect("notFollowed" in following && notFollowedReason(following.notFollowed)).toBe(
      "An instance with ID 'restore-j1' already exists and is Running",
    );
  });

  it("names a reason that is not an Error by its text", () => {
    expect(notFollowedReason("hub unreachable")).toBe("hub unreachable");
  });
});
