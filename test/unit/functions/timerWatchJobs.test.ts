import type { DurableOrchestrationStatus } from "durable-functions";
import { describe, expect, it } from "vitest";
import { createVaultDirectory } from "../../../src/composition.js";
import {
  jobWatcherInstanceId,
  watchedVaultIds,
  watchJobs,
} from "../../../src/functions/timerWatchJobs.js";
import { formatVaultId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import { VAULT_ID } from "../../support/notificationFixtures.js";

/** The Durable client as the timer uses it: one instance id, its last run's status. */
function client(previous?: Partial<DurableOrchestrationStatus>) {
  const started: { name: string; instanceId: string; input: unknown }[] = [];
  return {
    started,
    getStatus: async (instanceId: string) => {
      if (!previous || instanceId !== jobWatcherInstanceId)
        throw new Error("Webhook returned HTTP 404");
      return previous as DurableOrchestrationStatus;
    },
    startNew: async (name: string, options?: { instanceId?: string; input?: unknown }) => {
      started.push({ name, instanceId: options?.instanceId ?? "", input: options?.input });
      return options?.instanceId ?? "";
    },
  };
}

const state = {
  watermark: "2026-11-24T07:50:00.000Z",
  seen: [{ jobId: "j1", status: "Completed", at: "2026-11-24T07:55:00.000Z" }],
};

describe("timerWatchJobs", () => {
  it("starts the first pass with no state, under the watcher's one instance id", async () => {
    const durable = client();

    const tick = await watchJobs(durable, [VAULT_ID]);

    expect(tick.action).toBe("started");
    expect(durable.started).toEqual([
      { name: "jobWatcher", instanceId: jobWatcherInstanceId, input: { vaultIds: [VAULT_ID] } },
    ]);
  });

  it("hands the next pass the watermark and states the previous pass returned", async () => {
    const durable = client({
      runtimeStatus: "Completed" as never,
      output: { ...state, published: 1 },
      input: { vaultIds: [VAULT_ID] },
    });

    await watchJobs(durable, [VAULT_ID]);

    expect(durable.started[0]?.input).toEqual({ vaultIds: [VAULT_ID], state });
  });

  it("after a failed pass, starts again from the state that pass was given, so nothing is skipped", async () => {
    const durable = client({
      runtimeStatus: "Failed" as never,
      output: "listJobsSince failed",
      input: { vaultIds: [VAULT_ID], state },
    });

    await watchJobs(durable, [VAULT_ID]);

    expect(durable.started[0]?.input).toEqual({ vaultIds: [VAULT_ID], state });
  });

  it("leaves a pass that is still running alone", async () => {
    const durable = client({
      runtimeStatus: "Running" as never,
      input: { vaultIds: [VAULT_ID], state },
    });

    const tick = await watchJobs(durable, [VAULT_ID]);

    expect(tick).toEqual({ action: "skipped", reason: "the previous pass is Running" });
    expect(durable.started).toEqual([]);
  });

  it("watches the configured vaults, or the local provider's default vault", () => {
    const configured = watchedVaultIds(
      createVaultDirectory({ BACKUP_VAULT_IDS: VAULT_ID, PGPROTECT_PROVIDER: "azure" }),
    );
    const local = watchedVaultIds(
      createVaultDirectory({ BACKUP_VAULT_IDS: undefined, PGPROTECT_PROVIDER: "local" }),
    );
    const none = watchedVaultIds(
      createVaultDirectory({ BACKUP_VAULT_IDS: undefined, PGPROTECT_PROVIDER: "azure" }),
    );

    expect(configured).toEqual([VAULT_ID]);
    expect(local).toEqual([formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" })]);
    expect(none).toEqual([]);
  });
});
