/**
 * Shared set-up for the runtime's integration tests: starts the host on the fixture app on a
 * free port with a fresh state folder, and captures its log lines.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startHost, type HostOptions, type RunningHost } from "../../src/host.js";

/** The fixture function app. */
export const fixtureAppDir = fileURLToPath(new URL("../fixtures/runtime-app", import.meta.url));

/** A started host with its captured log and a cleanup. */
export interface TestHost {
  readonly host: RunningHost;
  readonly logLines: string[];
  readonly stateDir: string;
  /** Resolves when a log line matching `pattern` has been written. */
  waitForLog(pattern: RegExp): Promise<string>;
  close(): Promise<void>;
}

/** Starts the host on the fixture app (port 0, no Durable extension unless given). */
export async function startFixtureHost(options: Partial<HostOptions> = {}): Promise<TestHost> {
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), "pgprotect-runtime-"));
  const logLines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const host = await startHost({
    appDir: fixtureAppDir,
    port: 0,
    durable: false,
    ...options,
    stateDir,
    env: { FIXTURE_FAILING_SCHEDULE: "0 0 * * * *", ...options.env },
    log: (line) => {
      logLines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    },
  });
  return {
    host,
    logLines,
    stateDir,
    waitForLog(pattern) {
      const seen = logLines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
    async close() {
      await host.stop();
      if (options.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
