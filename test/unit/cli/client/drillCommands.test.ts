import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runClientCommand } from "../../../../src/cli/client/clientCli.js";
import type { DrillAnswer } from "../../../../src/cli/client/drillCommands.js";
import { ClientExitCodes } from "../../../../src/cli/client/exitCodes.js";

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

/** A loopback API answering the drill routes. */
function drillApi(): Server {
  return createServer((request, response) => {
    received.push(`${request.method} ${request.url}`);
    response.writeHead(request.method === "POST" ? 202 : 200, {
      "content-type": "application/json",
    });
    if (request.method === "POST") {
      response.end(JSON.stringify({ id: "drill-1", statusUrl: "http://x/api/drills/drill-1" }));
    } else if (request.url?.startsWith("/api/drills/drill-1")) {
      const inProgress = readsInProgress > 0;
      readsInProgress -= 1;
      response.end(JSON.stringify(drillIn(inProgress ? "InProgress" : "Succeeded")));
    } else {
      response.end(JSON.stringify({ value: [drillIn("Succeeded")] }));
    }
  });
}

/** Runs a client command in this process and returns its exit code and output. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await runClientCommand(
    args,
    { stdin: Readable.from([]), stdout, stderr, cwd: tmpdir() },
    { env: {} },
  );
  return { code, stdout: out, stderr: err };
}

describe("pgprotect drill and drills", () => {
  let server: Server;
  let api: string;

  beforeAll(async () => {
    server = drillApi();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    received.splice(0);
    readsInProgress = 0;
  });

  it("waits through the drill's reads in progress and prints its verdict, exiting 0", async () => {
    // Arrange
    readsInProgress = 2;

    // Act
    const answer = await run(["drill", "pg-orders", "--wait", "--interval", "0.01", "--api", api]);

    // Assert
    expect(answer.code).toBe(ClientExitCodes.ok);
    expect(answer.stdout).toMatch(/^verdict\s+Succeeded$/m);
    expect(answer.stdout).toMatch(/^verified\s+3 tables, 42 rows$/m);
    expect(received.filter((r) => r.startsWith("GET /api/drills/drill-1"))).toHaveLength(3);
  });

  it.each([
    [["drill", "pg-orders", "--wait", "--interval", "soon"], "--interval"],
    [["drill", "pg-orders", "--wait", "--interval", "0"], "--interval"],
    [["drills", "--top", "ten"], "--top"],
  ])(
    "refuses %j as a wrong command line, naming the option, before asking the API",
    async (args, option) => {
      // Act
      const answer = await run([...args, "--api", api]);

      // Assert
      expect(answer.code).toBe(ClientExitCodes.usage);
      expect(answer.stderr).toContain(option);
      expect(received).toEqual([]);
    },
  );
});
