import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClientCommand } from "../../../../src/cli/client/clientCli.js";

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

/** A loopback API whose lifecycle actions start the failing operation above. */
function lifecycleApi(): Server {
  return createServer((request, response) => {
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

describe("the lifecycle commands when the operation they wait for fails", () => {
  let server: Server;
  let api: string;

  beforeAll(async () => {
    server = lifecycleApi();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("exits 1 and says in one line why the operation failed, with its code and what to do", async () => {
    const answer = await run([
      "change-policy",
      "ledger",
      "--policy",
      "monthly",
      "--wait",
      "--api",
      api,
    ]);

    expect(answer.code).toBe(1);
    expect(answer.stdout).toMatch(/status\s+Failed/);
    expect(answer.stderr).toMatch(
      /^pgprotect: lifecycle-ledger-failed failed: The service refused the policy \[PROTECTION_ACTION_FAILED\] Read the backup instance's state, then ask again$/m,
    );
  });

  it("shows a failed operation with status and exits 1, as scripts check after the fact", async () => {
    const answer = await run([
      "status",
      "lifecycle-ledger-failed",
      "--output",
      "json",
      "--api",
      api,
    ]);

    expect(answer.code).toBe(1);
    expect(JSON.parse(answer.stdout)).toMatchObject({ status: "Failed" });
  });

  it("names the operation to follow when it does not wait", async () => {
    const answer = await run(["suspend", "ledger", "--api", api]);

    expect(answer.code).toBe(0);
    expect(answer.stdout).toMatch(/follow\s+pgprotect status lifecycle-ledger-failed --wait/);
  });
});
