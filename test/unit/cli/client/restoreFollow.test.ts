import type { IncomingMessage, ServerResponse } from "node:http";
import pc from "picocolors";
import { beforeEach, describe, expect, it } from "vitest";
import type { RestoreView } from "../../../../src/application/restoreToServer.js";
import { followRestore } from "../../../../src/cli/client/restoreFollow.js";
import { loopbackClient, recordingView, useLoopbackApi } from "../../../support/clientCommands.js";

const plain = pc.createColors(false);

const running: RestoreView = {
  id: "restore-ledger-1",
  backupInstanceName: "ledger",
  vaultName: "pgprotect-vault",
  jobId:
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupJobs/j-1",
  status: "Running",
  state: "InProgress",
  database: null,
  seconds: null,
  error: null,
  createdTime: "2026-12-07T15:00:00.000Z",
  lastUpdatedTime: "2026-12-07T15:00:00.000Z",
};

/** The states `GET /api/restores/restore-ledger-1` answers, one per read, the last one repeated. */
let states: RestoreView[] = [];
const reads: string[] = [];

function answerRestore(request: IncomingMessage, response: ServerResponse): void {
  reads.push(request.url ?? "");
  const state = states.length > 1 ? states.shift() : states[0];
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(state));
}

describe("following a restore", () => {
  const api = useLoopbackApi(answerRestore);
  const client = () => loopbackClient(api);

  beforeEach(() => {
    reads.splice(0);
  });

  it("reads it until it ends, drawing each state with the time since it was asked for", async () => {
    // Arrange
    states = [
      running,
      { ...running, state: "loading" },
      { ...running, status: "Completed", state: "Completed" },
    ];
    const view = recordingView();

    // Act
    const last = await followRestore(client(), "restore-ledger-1", {
      view,
      colors: plain,
      intervalSeconds: 0.01,
      signal: new AbortController().signal,
      now: () => Date.parse("2026-12-07T15:00:05.000Z"),
    });

    // Assert
    expect(last.status).toBe("Completed");
    expect(reads).toEqual(Array(3).fill("/api/restores/restore-ledger-1"));
    expect(view.pictures).toEqual([
      "⠋ restore of ledger · InProgress · 5s",
      "⠋ restore of ledger · loading · 5s",
      "✔ restore of ledger · Completed · 5s",
    ]);
    expect(view.lines.at(-1)).toBe("restore-ledger-1: restore of ledger Completed, Completed");
    expect(view.closed).toBe(true);
  });

  it("stops waiting when asked to, with the last state read, and the restore goes on", async () => {
    // Arrange
    states = [running];
    const stop = new AbortController();
    const view = recordingView(() => stop.abort());

    // Act
    const waiting = followRestore(client(), "restore-ledger-1", {
      view,
      colors: plain,
      intervalSeconds: 60,
      signal: stop.signal,
    });

    // Assert
    await expect(waiting).rejects.toMatchObject({
      name: "WaitInterrupted",
      last: { id: "restore-ledger-1", status: "Running" },
    });
    expect(reads).toHaveLength(1);
    expect(view.closed).toBe(true);
  });
});
