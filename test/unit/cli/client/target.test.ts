import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClientExitCodes } from "../../../../src/cli/client/exitCodes.js";
import { normalizeApiUrl, resolveTarget } from "../../../../src/cli/client/target.js";

describe("which API a client command talks to, and with which key", () => {
  let folder: string;
  let stateDir: string;

  /** Writes a host's lock (in the state folder, as with PGPROTECT_STATE_DIR) and its keys. */
  function localHost(url: string, functionKey = "local-function-key"): void {
    mkdirSync(path.join(stateDir, "runtime"), { recursive: true });
    writeFileSync(
      path.join(stateDir, "host.lock"),
      JSON.stringify({ id: "x", pid: process.pid, url }),
    );
    writeFileSync(
      path.join(stateDir, "runtime", "host-keys.json"),
      JSON.stringify({ functionKey }),
    );
  }

  beforeEach(() => {
    folder = mkdtempSync(path.join(tmpdir(), "pgprotect-target-"));
    stateDir = path.join(folder, "state");
    mkdirSync(stateDir);
  });

  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  const inputs = (env: Record<string, string>, api?: string) => ({
    api,
    env: { PGPROTECT_STATE_DIR: stateDir, ...env },
    cwd: folder,
    projectDir: folder,
  });

  it("takes the local host's URL from its lock file and its function key from the state folder", () => {
    localHost("http://127.0.0.1:7123");

    const target = resolveTarget(inputs({}));

    expect(target.baseUrl).toBe("http://127.0.0.1:7123/api");
    expect(target.source).toBe(path.join(stateDir, "host.lock"));
    expect(target.functionKey).toBe("local-function-key");
    expect(target.keySource).toBe(path.join(stateDir, "runtime", "host-keys.json"));
  });

  it("finds the host in ./.pgprotect/runtime when PGPROTECT_STATE_DIR is not set, as the host locks it then", () => {
    const runtimeDir = path.join(folder, ".pgprotect", "runtime");
    mkdirSync(runtimeDir, { recursive: true });
    writeFileSync(
      path.join(runtimeDir, "host.lock"),
      JSON.stringify({ id: "x", pid: process.pid, url: "http://127.0.0.1:7124" }),
    );
    writeFileSync(path.join(runtimeDir, "host-keys.json"), JSON.stringify({ functionKey: "k" }));

    const target = resolveTarget({ env: {}, cwd: folder, projectDir: folder, api: undefined });

    expect(target.baseUrl).toBe("http://127.0.0.1:7124/api");
    expect(target.functionKey).toBe("k");
  });

  it("prefers --api to PGPROTECT_API_URL, and PGPROTECT_API_URL to the local host", () => {
    localHost("http://127.0.0.1:7125");

    expect(
      resolveTarget(
        inputs({ PGPROTECT_API_URL: "https://env.example/api" }, "https://flag.example"),
      ).baseUrl,
    ).toBe("https://flag.example/api");
    expect(resolveTarget(inputs({ PGPROTECT_API_URL: "https://env.example/api/" })).baseUrl).toBe(
      "https://env.example/api",
    );
  });

  it("never hands the local host's key to an API elsewhere", () => {
    localHost("http://127.0.0.1:7126");

    const elsewhere = resolveTarget(inputs({}, "https://pgprotect.example.net"));
    const sameHost = resolveTarget(inputs({}, "http://127.0.0.1:7126/api"));

    expect(elsewhere.functionKey).toBeUndefined();
    expect(sameHost.functionKey).toBe("local-function-key");
  });

  it("uses PGPROTECT_KEY over the local host's key, and the Entra scope from the flag or the setting", () => {
    localHost("http://127.0.0.1:7127");

    const target = resolveTarget(
      inputs({ PGPROTECT_KEY: "given", PGPROTECT_ENTRA_SCOPE: "api://pgprotect/.default" }),
    );

    expect(target.functionKey).toBe("given");
    expect(target.keySource).toBe("PGPROTECT_KEY");
    expect(target.entraScope).toBe("api://pgprotect/.default");
  });

  it("says what to do when no API is named and no host ran here", () => {
    expect(() => resolveTarget(inputs({}))).toThrow(
      expect.objectContaining({
        exitCode: ClientExitCodes.unreachable,
        message: expect.stringContaining("give --api URL or set PGPROTECT_API_URL") as unknown,
      }) as Error,
    );
  });

  it("refuses a URL that is not http(s) as a usage error", () => {
    expect(() => normalizeApiUrl("localhost:7071", "--api")).toThrow(
      expect.objectContaining({ exitCode: ClientExitCodes.usage }) as Error,
    );
    expect(() => normalizeApiUrl("not a url", "--api")).toThrow(
      expect.objectContaining({ exitCode: ClientExitCodes.usage }) as Error,
    );
  });
});
