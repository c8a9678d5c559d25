import type { TableClient } from "@azure/data-tables";
import { describe, expect, it } from "vitest";
import { TableJobHistory } from "../../../../src/providers/history/tableJobHistory.js";
import { uniqueTableName, useAzuriteTable } from "../../../support/azurite.js";
import { jobAt, jobHistoryContract } from "../../../support/jobHistoryContract.js";
import { VAULT_ID } from "../../../support/notificationFixtures.js";

const azurite = useAzuriteTable();

/** A store over a table no other test uses, created on first use. */
function freshHistory(tableName = uniqueTableName("history")): TableJobHistory {
  return new TableJobHistory(() => azurite.service.client(tableName));
}

/** The real client, counting the entities its listings hand over: what the service sent back. */
function countingClient(client: TableClient): { client: TableClient; read: () => number } {
  let read = 0;
  const counted = new Proxy(client, {
    get(target, property) {
      if (property === "listEntities") {
        return (...args: Parameters<TableClient["listEntities"]>) => {
          const listing = target.listEntities(...args);
          return (async function* () {
            for await (const entity of listing) {
              read += 1;
              yield entity;
            }
          })();
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as () => unknown).bind(target) : value;
    },
  });
  return { client: counted, read: () => read };
}

describe("the Table Storage job history, against Azurite", () => {
  jobHistoryContract(async () => freshHistory());

  it("keeps the later state when two instances record the same jobs at once", async () => {
    // Arrange: two app instances, each with its own client of the one table.
    const tableName = uniqueTableName("history");
    const one = freshHistory(tableName);
    const two = freshHistory(tableName);
    const start = "2026-05-01T00:00:00.000Z";
    const names = Array.from({ length: 20 }, (_, index) => `j${index}`);
    await one.recordJobs([]);

    // Act: running and done states raced against each other for every job.
    await Promise.all([
      ...names.map((name) => one.recordJobs([jobAt(name, start)])),
      ...names.map((name) => two.recordJobs([jobAt(name, start, 2)])),
      ...names.map((name) => one.recordJobs([jobAt(name, start)])),
    ]);

    // Assert
    const page = await two.queryJobs({ top: 50 });
    expect(page.value).toHaveLength(20);
    expect(new Set(page.value.map((job) => job.status))).toEqual(new Set(["Completed"]));
  });

  it("pages across months newest first", async () => {
    const history = freshHistory();
    await history.recordJobs([
      jobAt("jan", "2026-01-31T23:59:00.000Z", 1),
      jobAt("feb", "2026-02-01T00:00:00.000Z", 1),
      jobAt("mar", "2026-03-15T00:00:00.000Z", 1),
    ]);

    const first = await history.queryJobs({ top: 2 });
    const second = await history.queryJobs({
      top: 2,
      ...(first.next ? { after: first.next } : {}),
    });

    expect(first.value.map((job) => job.name)).toEqual(["mar", "feb"]);
    expect(second.value.map((job) => job.name)).toEqual(["jan"]);
    expect(second.next).toBeUndefined();
  });

  it("has the service filter by instance ARM id, vault and operation, reading only the entities that match", async () => {
    // Arrange: one instance's 3 jobs among 40 of other instances of the vault, and 10 of another vault.
    const counting = countingClient(azurite.service.client(uniqueTableName("history")));
    const history = new TableJobHistory(() => counting.client);
    const wanted = `${VAULT_ID}/backupInstances/pg-orders-orders-1234`;
    const otherVault = `${VAULT_ID}-dr`;
    const at = (hour: number) =>
      new Date(Date.parse("2026-06-01T00:00:00Z") + hour * 3_600_000).toISOString();
    await history.recordJobs([
      ...[0, 1, 2].map((i) => jobAt(`wanted-${i}`, at(i), 1)),
      ...Array.from({ length: 40 }, (_, i) =>
        jobAt(`other-${i}`, at(10 + i), 1, {
          backupInstanceId: `${VAULT_ID}/backupInstances/pg-other-${i}`,
          ...(i < 4
            ? { operation: "Restore" as const, operationCategory: "Restore" as const }
            : {}),
        }),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        jobAt(`dr-${i}`, at(60 + i), 1, {
          id: `${otherVault}/backupJobs/dr-${i}`,
          vaultName: "vault-prod-dr",
          backupInstanceId: `${otherVault}/backupInstances/pg-dr-${i}`,
        }),
      ),
    ]);
    const reading = async (query: Parameters<TableJobHistory["queryJobs"]>[0]) => {
      const before = counting.read();
      const page = await history.queryJobs(query);
      return { names: page.value.map((job) => job.name), read: counting.read() - before };
    };

    // Act
    const byId = await reading({ instance: wanted.toUpperCase(), top: 50 });
    const byVault = await reading({ vault: "vault-prod-dr", vaultId: otherVault, top: 50 });
    const restores = await reading({ operation: ["Restore"], top: 50 });
    const byName = await reading({ instance: "pg-orders-orders-1234", top: 50 });

    // Assert
    expect(byId).toEqual({ names: ["wanted-2", "wanted-1", "wanted-0"], read: 3 });
    expect(byVault.read).toBe(10);
    expect(byVault.names).toHaveLength(10);
    expect(restores).toEqual({ names: ["other-3", "other-2", "other-1", "other-0"], read: 4 });
    // An instance's name is not a key: every entity is read and checked by the client.
    expect(byName.names).toEqual(["wanted-2", "wanted-1", "wanted-0"]);
    expect(byName.read).toBe(53);
  });
});
