import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import {
  isAuthorized,
  loadOrCreateHostKey,
  presentedKey,
} from "../../../../src/runtime/http/hostKeys.js";

describe("the local host key", () => {
  test("is created once, stored owner-only, and reused", () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-keys-"));
    try {
      const first = loadOrCreateHostKey(stateDir);
      const second = loadOrCreateHostKey(stateDir);

      expect(first).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(second).toBe(first);
      expect(statSync(path.join(stateDir, "host-keys.json")).mode & 0o777).toBe(0o600);
      expect(readFileSync(path.join(stateDir, "host-keys.json"), "utf8")).toContain(first);
      expect(loadOrCreateHostKey(stateDir, "given-key")).toBe("given-key");
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test("is read from x-functions-key first, then the code query parameter", () => {
    expect(presentedKey({ "x-functions-key": "h" }, new URL("http://x/?code=q"))).toBe("h");
    expect(presentedKey({}, new URL("http://x/?code=q"))).toBe("q");
    expect(presentedKey({}, new URL("http://x/"))).toBeUndefined();
  });

  test("opens function and admin levels, while anonymous needs nothing", () => {
    expect(isAuthorized("anonymous", undefined, "k")).toBe(true);
    expect(isAuthorized("function", "k", "k")).toBe(true);
    expect(isAuthorized("admin", "k", "k")).toBe(true);
    expect(isAuthorized("Function", "wrong", "k")).toBe(false);
    expect(isAuthorized("admin", undefined, "k")).toBe(false);
    expect(isAuthorized(undefined, undefined, "k")).toBe(false);
  });
});
