import type { IncomingMessage, ServerResponse } from "node:http";
import { beforeEach, describe, expect, it } from "vitest";
import type { DrillAnswer } from "../../../../src/cli/client/drillCommands.js";
import { ClientExitCodes } from "../../../../src/cli/client/exitCodes.js";
import { runClient, useLoopbackApi } from "../../../support/clientCommands.js";

/** A drill as the API answers it, in the verdict given. */
function drillIn(verdict: DrillAnswer["verdict"]): DrillAnswer {
  return {
    id: "drill-1",
    backupInstanceName: "pg-orders",
    friendlyName: "local/orders",
    vaultName: "pgprotect-vault",
    schedule: null,
    requestedBy: "ops",
    verdict,
    startTime: "2026-06-01T00:00:00.000Z",
    endTime: verdict === "InProgress" ? null : "2026-06-01T00:00:12.000Z",
    timeToRestoreSeconds: verdict === "InProgress" ? null : 12,
    recoveryPointId: "rp-1",
    recoveryPointTime: "2026-05-31T23:00:00.000Z",
    verification:
      verdict === "Succeeded" ? { verified: true, tables: 3, rows: 42, mismatches: [] } : null,
    error: null,
    scratchRemoved: verdict === "InProgress" ? null : true,
  };
}

/** The requests the loopback API received, and how many reads answer `InProgress` before `Succeeded`. */
const received: string[] = [];
let readsInProgress = 0;
/** How many of those reads answer that the drill waits its turn. */
let readsWaiting = 0;

/** Answers the drill routes. */
function answerDrillRoutes(request: IncomingMessage, response: ServerResponse): void {
  received.push(`${request.method} ${request.url}`);
  response.writeHead(request.method === "POST" ? 202 : 200, {
    "content-type": "application/json",
  });
  if (request.method === "POST") {
    response.end(JSON.stringify({ id: "drill-1", statusUrl: "http://x/api/drills/drill-1" }));
  } else if (request.url?.startsWith("/api/drills/drill-1")) {
    const inProgress = readsInProgress > 0;
    const waiting = readsWaiting > 0;
    readsInProgress -= 1;
    readsWaiting -= 1;
    response.end(
      JSON.stringify({
        ...drillIn(inProgress ? "InProgress" : "Succeeded"),
        state: waiting ? "waitingForTurn" : inProgress ? "running" : "ended",
      }),
    );
  } else {
    response.end(JSON.stringify({ value: [drillIn("Succeeded")] }));
  }
}

describe("pgprotect drill and drills", () => {
  const api = useLoopbackApi(answerDrillRoutes);

  beforeEach(() => {
    received.splice(0);
    readsInProgress = 0;
    readsWaiting = 0;
  });

  it("waits through the drill's reads in progress and prints its verdict, exiting 0", async () => {
    // Arrange
    readsInProgress = 2;

    // Act
    const answer = await runClient([
      "drill",
      "pg-orders",
      "--wait",
      "--interval",
      "0.01",
      "--api",
      api.url,
    ]);

    // Assert
    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stdout).toMatch(/^verdict\s+Succeeded$/m);
    expect(answer.stdout).toMatch(/^verified\s+3 tables, 42 rows$/m);
    expect(received.filter((r) => r.startsWith("GET /api/drills/drill-1"))).toHaveLength(3);
  });

  it("says once that the drill waits its turn while DRILL_MAX_CONCURRENT drills run, then prints its verdict", async () => {
    // Arrange
    readsInProgress = 4;
    readsWaiting = 3;

    // Act
    const answer = await runClient([
      "drill",
      "pg-orders",
      "--wait",
      "--interval",
      "0.01",
      "--api",
      api.url,
    ]);

    // Assert
    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stderr.match(/waits its turn/g)).toHaveLength(1);
    expect(answer.stderr).toContain("the drill of pg-orders waits its turn");
    expect(answer.stdout).toMatch(/^verdict\s+Succeeded$/m);
  });

  it.each([
    [["drill", "pg-orders", "--wait", "--interval", "soon"], "--interval"],
    [["drill", "pg-orders", "--wait", "--interval", "0"], "--interval"],
    [["drills", "--top", "ten"], "--top"],
  ])(
    "refuses %j as a wrong command line, naming the option, before asking the API",
    async (args, option) => {
      // Act
      const answer = await runClient([...args, "--api", api.url]);

      // Assert
      expect(answer.code).toBe(ClientExitCodes.usage);
      expect(answer.stderr).toContain(option);
      expect(received).toEqual([]);
    },
  );
});
