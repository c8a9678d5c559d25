import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { StateLockedError } from "../../../src/runtime/core/stateLock.js";
import { resolveHostStateDirs, startHost } from "../../../src/runtime/host.js";
import { fixtureAppDir } from "./runtimeHost.js";

const projectDir = fileURLToPath(new URL("../../..", import.meta.url));
const folders: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe("where a host keeps its state", () => {
  test("under <PGPROTECT_STATE_DIR>/runtime when local.settings.json names a state folder, and one host at a time", async () => {
    // Arrange: the fixture app with a local.settings.json naming a state folder.
    const appDir = tempDir("pgprotect-app-");
    cpSync(fixtureAppDir, appDir, { recursive: true });
    symlinkSync(path.join(projectDir, "node_modules"), path.join(appDir, "node_modules"));
    const stateDir = tempDir("pgprotect-state-");
    writeFileSync(
      path.join(appDir, "local.settings.json"),
      JSON.stringify({ Values: { PGPROTECT_STATE_DIR: stateDir } }),
    );
    const options = {
      appDir,
      port: 0,
      durable: false as const,
      banner: false,
      log: () => undefined,
      env: { FIXTURE_FAILING_SCHEDULE: "0 0 * * * *" },
    };

    // Act
    const host = await startHost(options);
    let refusal: unknown;
    try {
      await startHost(options);
    } catch (error) {
      refusal = error;
    }
    const lock = JSON.parse(readFileSync(path.join(stateDir, "host.lock"), "utf8")) as Record<
      string,
      unknown
    >;
    await host.stop();

    // Assert
    expect(host.stateDir).toBe(path.join(stateDir, "runtime"));
    expect(existsSync(path.join(stateDir, "runtime", "host-keys.json"))).toBe(true);
    expect(existsSync(path.join(appDir, ".pgprotect"))).toBe(false);
    expect(lock).toMatchObject({ pid: process.pid, port: host.port, url: host.url });
    expect(refusal).toBeInstanceOf(StateLockedError);
    expect((refusal as Error).message).toContain(`PID ${process.pid}, port ${host.port}`);
    expect(existsSync(path.join(stateDir, "host.lock"))).toBe(false);
  });

  test("an explicit state folder wins, and without the setting the default stays <app>/.pgprotect/runtime", () => {
    const app = path.resolve("/srv/app");

    const explicit = resolveHostStateDirs(app, { PGPROTECT_STATE_DIR: "/var/state" }, "/tmp/rt");
    const fromSetting = resolveHostStateDirs(app, { PGPROTECT_STATE_DIR: "/var/state" });
    const byDefault = resolveHostStateDirs(app, {});

    expect(explicit).toEqual({ runtimeDir: "/tmp/rt", lockDir: "/var/state" });
    expect(fromSetting).toEqual({ runtimeDir: "/var/state/runtime", lockDir: "/var/state" });
    expect(byDefault).toEqual({
      runtimeDir: path.join(app, ".pgprotect", "runtime"),
      lockDir: path.join(app, ".pgprotect", "runtime"),
    });
  });
});
