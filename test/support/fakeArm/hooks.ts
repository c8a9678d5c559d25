/** Test-file hooks around the fake Resource Manager. */
import { afterAll, afterEach, expect } from "vitest";
import type { FakeArm } from "./fakeArmServer.js";

/**
 * After each test, checks that every request the client sent and every answer the fake gave kept
 * the OpenAPI contract; after all, stops the fake. `fake()` is read when the hooks run, since
 * tests start the fake in `beforeAll`.
 */
export function useFakeArmContractCheck(fake: () => FakeArm): void {
  afterEach(() => {
    expect(fake().violations).toEqual([]);
  });

  afterAll(async () => {
    await fake().stop();
  });
}
