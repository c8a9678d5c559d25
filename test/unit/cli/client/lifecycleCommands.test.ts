import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { runClient, useLoopbackApi } from "../../../support/clientCommands.js";

/** What the loopback API answers `GET /api/lifecycle-operations/{id}` with, by id. */
const operations: Record<string, unknown> = {
  "lifecycle-ledger-failed": {
    id: "lifecycle-ledger-failed",
    action: "changePolicy",
    backupInstanceName: "ledger",
    vaultName: "pgprotect-vault",
    status: "Failed",
    state: null,
    error: {
      code: "PROTECTION_ACTION_FAILED",
      message: "The service refused the policy",
      recommendedAction: "Read the backup instance's state, then ask again",
    },
    createdTime: "2026-12-07T15:00:00.000Z",
    lastUpdatedTime: "2026-12-07T15:00:01.000Z",
  },
};

/** Answers every lifecycle action by starting the failing operation above. */
function answerLifecycleRoutes(request: IncomingMessage, response: ServerResponse): void {
  const url = request.url ?? "";
  const operation = /^\/api\/lifecycle-operations\/([^/?]+)/.exec(url)?.[1];
  response.writeHead(operation ? 200 : 202, { "content-type": "application/json" });
  response.end(
    JSON.stringify(
      operation
        ? operations[operation]
        : {
            action: "changePolicy",
            backupInstanceName: "ledger",
            vaultName: "pgprotect-vault",
            state: "ProtectionConfigured",
            outcome: "accepted",
            operationId: "lifecycle-ledger-failed",
            targetState: "ProtectionConfigured",
            statusUrl: "http://127.0.0.1/api/lifecycle-operations/lifecycle-ledger-failed",
          },
    ),
  );
}

describe("the lifecycle commands when the operation they wait for fails", () => {
  const api = useLoopbackApi(answerLifecycleRoutes);

  it("exits 1 and says in one line why the operation failed, with its code and what to do", async () => {
    const answer = await runClient([
      "change-policy",
      "ledger",
      "--policy",
      "monthly",
      "--wait",
      "--api",
      api.url,
    ]);

    expect(answer.code).toBe(1);
    expect(answer.stdout).toMatch(/status\s+Failed/);
    expect(answer.stderr).toMatch(
      /^pgprotect: lifecycle-ledger-failed failed: The service refused the policy \[PROTECTION_ACTION_FAILED\] Read the backup instance's state, then ask again$/m,
    );
  });

  it("shows a failed operation with status and exits 1, as scripts check after the fact", async () => {
    const answer = await runClient([
      "status",
      "lifecycle-ledger-failed",
      "--output",
      "json",
      "--api",
      api.url,
    ]);

    expect(answer.code).toBe(1);
    expect(JSON.parse(answer.stdout)).toMatchObject({ status: "Failed" });
  });

  it("names the operation to follow when it does not wait", async () => {
    const answer = await runClient(["suspend", "ledger", "--api", api.url]);

    expect(answer.code).toBe(0);
    expect(answer.stdout).toMatch(/follow\s+pgprotect status lifecycle-ledger-failed --wait/);
  });
});
