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
import { afterAll, describe, expect, test } from "vitest";
import { StateLockedError } from "../../src/core/stateLock.js";
import { resolveHostStateDirs, startHost } from "../../src/host.js";
import { nodeModulesDir } from "../support/nodeModules.js";
import { fixtureAppDir } from "./runtimeHost.js";

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
  test("under <folder>/runtime when local.settings.json sets the app state setting, and one host at a time", async () => {
    // Arrange: the fixture app with a local.settings.json naming a state folder.
    const appDir = tempDir("pgprotect-app-");
    cpSync(fixtureAppDir, appDir, { recursive: true });
    symlinkSync(nodeModulesDir(), path.join(appDir, "node_modules"));
    const stateDir = tempDir("pgprotect-state-");
    writeFileSync(
      path.join(appDir, "local.settings.json"),
      JSON.stringify({ Values: { FIXTURE_STATE_DIR: stateDir } }),
    );
    const options = {
      appDir,
      appStateDirSetting: "FIXTURE_STATE_DIR",
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
    expect(existsSync(path.join(appDir, ".functions-runtime"))).toBe(false);
    expect(lock).toMatchObject({ pid: process.pid, port: host.port, url: host.url });
    expect(refusal).toBeInstanceOf(StateLockedError);
    expect((refusal as Error).message).toContain(`PID ${process.pid}, port ${host.port}`);
    expect((refusal as Error).message).toContain("give this host another FIXTURE_STATE_DIR");
    expect(existsSync(path.join(stateDir, "host.lock"))).toBe(false);
  });

  test("an explicit state folder wins, the app state setting comes next, then the default folder", () => {
    const app = path.resolve("/srv/app");
    const setting = { appStateDirSetting: "FIXTURE_STATE_DIR" };
    const settings = { FIXTURE_STATE_DIR: "/var/state" };

    const explicit = resolveHostStateDirs(app, settings, { ...setting, stateDir: "/tmp/rt" });
    const fromSetting = resolveHostStateDirs(app, settings, setting);
    const settingNotNamed = resolveHostStateDirs(app, settings);
    const givenDefault = resolveHostStateDirs(app, {}, { ...setting, defaultStateDir: "/srv/rt" });

    expect(explicit).toEqual({ runtimeDir: "/tmp/rt", lockDir: "/var/state" });
    expect(fromSetting).toEqual({ runtimeDir: "/var/state/runtime", lockDir: "/var/state" });
    expect(settingNotNamed).toEqual({
      runtimeDir: path.join(app, ".functions-runtime"),
      lockDir: path.join(app, ".functions-runtime"),
    });
    expect(givenDefault).toEqual({ runtimeDir: "/srv/rt", lockDir: "/srv/rt" });
  });
});
