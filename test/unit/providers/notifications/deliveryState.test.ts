import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  createDeliveryState,
  isLoopbackHttp,
} from "../../../../src/providers/notifications/deliveryState.js";

describe("createDeliveryState", () => {
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
  });

  it("keeps claimed deliveries in files under the location's delivered folder", async () => {
    // Arrange
    const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-state-"));
    folders.push(folder);
    const state = await createDeliveryState({ kind: "files", folder }, undefined);

    // Act
    const first = await state.idempotency.claim("event-1:ops-teams", new Date(0), 60_000);
    const again = await state.idempotency.claim("event-1:ops-teams", new Date(1), 60_000);

    // Assert
    expect([first, again]).toEqual(["claimed", "busy"]);
    expect(await readdir(path.join(folder, "delivered"))).toHaveLength(1);
  });

  it("builds a table store without the network, failing the first delivery retryably when no account is usable", async () => {
    // Arrange
    const state = await createDeliveryState(
      {
        kind: "table",
        tableName: "pgprotectNotifications",
        storage: { kind: "missing", reason: "AzureWebJobsStorage__accountName is not set" },
      },
      undefined,
    );

    // Act
    const error = await state.idempotency
      .claim("event-1:ops-teams", new Date(0), 60_000)
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({
      code: "NOTIFICATION_STATE_UNAVAILABLE",
      retryable: true,
      message: expect.stringContaining("AzureWebJobsStorage__accountName") as unknown as string,
    });
  });
});

describe("isLoopbackHttp", () => {
  it("lets plain HTTP reach an emulator on this machine only", () => {
    // Act
    const allowed = [
      "http://127.0.0.1:10002/devstoreaccount1",
      "http://localhost:10002",
      "http://LOCALHOST:10002",
      "http://[::1]:10002",
    ].map(isLoopbackHttp);
    const refused = [
      "https://127.0.0.1:10002",
      "http://stpg01.table.core.windows.net",
      "http://10.0.0.4:10002",
      "http://localhost.example:10002",
    ].map(isLoopbackHttp);

    // Assert
    expect(allowed).toEqual([true, true, true, true]);
    expect(refused).toEqual([false, false, false, false]);
  });
});
