import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import {
  hasSystemKey,
  isAuthorized,
  keyLocalTopics,
  loadOrCreateHostKeys,
  presentedKey,
} from "../../../src/http/hostKeys.js";

describe("the local host key", () => {
  test("is created once, stored owner-only, and reused", () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-keys-"));
    try {
      const first = loadOrCreateHostKeys(stateDir).functionKey;
      const second = loadOrCreateHostKeys(stateDir).functionKey;

      expect(first).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(second).toBe(first);
      expect(statSync(path.join(stateDir, "host-keys.json")).mode & 0o777).toBe(0o600);
      expect(readFileSync(path.join(stateDir, "host-keys.json"), "utf8")).toContain(first);
      expect(loadOrCreateHostKeys(stateDir, "given-key").functionKey).toBe("given-key");
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

describe("the local host's keys", () => {
  test("a key file from before system keys keeps its function key and gains the others, stored 0600", () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-keys-"));
    const file = path.join(stateDir, "host-keys.json");
    try {
      writeFileSync(file, JSON.stringify({ functionKey: "an-older-function-key-0123" }), {
        mode: 0o644,
      });

      const keys = loadOrCreateHostKeys(stateDir);
      const again = loadOrCreateHostKeys(stateDir);

      expect(keys.functionKey).toBe("an-older-function-key-0123");
      const all = [
        keys.functionKey,
        keys.masterKey,
        keys.systemKeys.durabletask_extension,
        keys.systemKeys.eventgrid_extension,
        keys.eventGridTopicKey,
      ];
      expect(new Set(all).size).toBe(5);
      expect(Buffer.from(keys.eventGridTopicKey, "base64")).toHaveLength(32);
      expect(again).toEqual(keys);
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(keys);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  test("a system key opens its own extension only, the master key every one, a function key none", () => {
    const keys = {
      masterKey: "master",
      systemKeys: { durabletask_extension: "durable", eventgrid_extension: "grid" },
    };

    expect(hasSystemKey("durabletask_extension", "durable", keys)).toBe(true);
    expect(hasSystemKey("durabletask_extension", "master", keys)).toBe(true);
    expect(hasSystemKey("durabletask_extension", "grid", keys)).toBe(false);
    expect(hasSystemKey("eventgrid_extension", "function", keys)).toBe(false);
    expect(hasSystemKey("eventgrid_extension", undefined, keys)).toBe(false);
    expect(
      isAuthorized("admin", "function", { functionKey: "function", masterKey: "master" }),
    ).toBe(false);
  });

  test("local topics without a key of their own take the generated one", () => {
    const keyed = keyLocalTopics(
      { topics: { a: { subscriptions: [] }, b: { key: "own", subscriptions: [] } } },
      "generated",
    );

    expect(keyed.topics?.["a"]?.key).toBe("generated");
    expect(keyed.topics?.["b"]?.key).toBe("own");
  });
});
