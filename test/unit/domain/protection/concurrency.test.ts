import { describe, expect, it } from "vitest";
import {
  CONNECTIONS_LEFT_FREE,
  databasesAtOnce,
  MAX_DATABASES_AT_ONCE,
  windowsOf,
} from "../../../../src/domain/protection/concurrency.js";

describe("databases of one server at a time", () => {
  it("takes two per core when nothing is configured", () => {
    expect(databasesAtOnce({ cores: 4 })).toBe(8);
    expect(databasesAtOnce({ cores: 1 })).toBe(2);
  });

  it("takes the setting over the cores, within the most allowed", () => {
    expect(databasesAtOnce({ configured: 3, cores: 8 })).toBe(3);
    expect(databasesAtOnce({ configured: 500, cores: 8 })).toBe(MAX_DATABASES_AT_ONCE);
  });

  it("leaves the server's other clients some connections: no more databases than its free connections allow", () => {
    // 4 connections per database and 5 left free: 17 free connections hold 3 databases.
    expect(
      databasesAtOnce({ configured: 10, cores: 8, freeConnections: 17, connectionsPerDatabase: 4 }),
    ).toBe(3);
  });

  it("still backs up one database at a time on a server whose connections are nearly gone", () => {
    expect(
      databasesAtOnce({
        cores: 8,
        freeConnections: CONNECTIONS_LEFT_FREE,
        connectionsPerDatabase: 4,
      }),
    ).toBe(1);
  });
});

describe("windows of a fan-out", () => {
  it("cuts the items into windows no wider than asked, in order", () => {
    expect(windowsOf(["a", "b", "c", "d", "e"], 2)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("takes one at a time when the width is below one or not a number", () => {
    expect(windowsOf(["a", "b"], 0)).toEqual([["a"], ["b"]]);
    expect(windowsOf(["a", "b"], Number.NaN)).toEqual([["a"], ["b"]]);
  });
});
