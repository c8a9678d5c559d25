import { describe, expect, it } from "vitest";
import { watchJobs } from "../../../src/application/watchJobs.js";
import { jobWatcherInstanceId } from "../../../src/domain/protection/operationIds.js";
import { InMemoryOrchestrations } from "../../support/inMemoryOrchestrations.js";
import { VAULT_ID } from "../../support/notificationFixtures.js";

const state = { watermark: "2026-11-24T07:50:00.000Z", seen: ["job-1|Completed"] };

describe("watchJobs", () => {
  it("gives the next pass the state the finished one left", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations({
      [jobWatcherInstanceId]: { runtimeStatus: "Completed", output: state },
    });

    // Act
    const tick = await watchJobs(orchestrations, [VAULT_ID]);

    // Assert
    expect(tick).toEqual({ action: "started", input: { vaultIds: [VAULT_ID], state } });
    expect(orchestrations.started).toHaveLength(1);
  });

  it("leaves a running pass alone", async () => {
    // Arrange
    const orchestrations = new InMemoryOrchestrations({ [jobWatcherInstanceId]: {} });

    // Act
    const tick = await watchJobs(orchestrations, [VAULT_ID]);

    // Assert
    expect(tick).toEqual({ action: "skipped", reason: "the previous pass is Running" });
    expect(orchestrations.started).toEqual([]);
  });
});
