import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDrillHistory } from "../../../../src/drillHistoryComposition.js";
import { TableDrillHistory } from "../../../../src/providers/history/tableDrillHistory.js";
import { uniqueTableName, useAzuriteTable } from "../../../support/azurite.js";
import { drillHistoryContract, drillRecord } from "../../../support/drillHistoryContract.js";

const azurite = useAzuriteTable();

/** A store over a table no other test uses, created on first use. */
function freshHistory(tableName = uniqueTableName("drills")): TableDrillHistory {
  return new TableDrillHistory(() => azurite.service.client(tableName));
}

describe("the Table Storage drill history, against Azurite", () => {
  drillHistoryContract(async () => freshHistory());

  it("begins one drill of an instance when several app instances start drills of it at once", async () => {
    // Arrange: four app instances, each with its own client of the one table.
    const tableName = uniqueTableName("drills");
    const instances = [0, 1, 2, 3].map(() => freshHistory(tableName));

    // Act: each starts two drills of the same backup instance at the same moment.
    const outcomes = await Promise.all(
      instances.flatMap((history, n) =>
        [0, 1].map((k) => history.beginDrill(drillRecord(`race-${n}-${k}`))),
      ),
    );

    // Assert
    const begun = outcomes.filter((outcome) => outcome.begun);
    expect(begun).toHaveLength(1);
    const running = await instances[0]!.runningDrills();
    expect(running).toHaveLength(1);
    for (const outcome of outcomes) {
      if (!outcome.begun && "running" in outcome) expect(outcome.running.id).toBe(running[0]!.id);
    }
  });

  it("lets a drill whose step ran again after a crash, its lock taken but its record unwritten, begin as itself", async () => {
    // Arrange: the lock is taken, the record deleted as if the process had died in between.
    const tableName = uniqueTableName("drills");
    const history = freshHistory(tableName);
    await history.beginDrill(drillRecord("cut-off"));
    await azurite.service.client(tableName).deleteEntity("drill", "cut-off");

    // Act
    const other = await history.beginDrill(
      drillRecord("other", { startTime: "2026-12-07T03:05:00.000Z" }),
    );
    const again = await history.beginDrill(drillRecord("cut-off"));

    // Assert
    expect(other).toMatchObject({ begun: false, running: { id: "cut-off" } });
    expect(again).toEqual({ begun: true });
    expect((await history.runningDrills()).map((d) => d.id)).toEqual(["cut-off"]);
  });
});

describe("the drill history a configuration opens", () => {
  it("is the task hub's table in the host storage account in Azure, shared by every instance of the app", async () => {
    // Arrange: two app instances of one task hub on the same host storage.
    const taskHub = `hub${Date.now()}`;
    const config = {
      PGPROTECT_PROVIDER: "azure" as const,
      PGPROTECT_STATE_DIR: mkdtempSync(path.join(tmpdir(), "pgprotect-drills-")),
      TASKHUB_NAME: taskHub,
      AzureWebJobsStorage: azurite.service.connectionString,
    };
    try {
      const one = await openDrillHistory(config, () => undefined);
      const two = await openDrillHistory(config, () => undefined);

      // Act
      const first = await one.drills.beginDrill(drillRecord("one"));
      const second = await two.drills.beginDrill(drillRecord("two"));

      // Assert
      expect(one.location).toBe(`table ${taskHub}Drills`);
      expect(first).toEqual({ begun: true });
      expect(second).toMatchObject({ begun: false, running: { id: "one" } });
    } finally {
      rmSync(config.PGPROTECT_STATE_DIR, { recursive: true, force: true });
    }
  });
});

describe("the bound on running drills in Table Storage, across app instances", () => {
  it("admits exactly DRILL_MAX_CONCURRENT drills when more app instances begin drills of different backup instances at once", async () => {
    // Arrange: eight app instances, each with its own client of the one table; a bound of three.
    const tableName = uniqueTableName("drills");
    const instances = Array.from({ length: 8 }, () => freshHistory(tableName));
    const bound = 3;

    // Act: each begins a drill of a backup instance of its own at the same moment.
    const outcomes = await Promise.all(
      instances.map((history, n) =>
        history.beginDrill(
          drillRecord(`bounded-${n}`, {
            backupInstanceId: `/subscriptions/x/backupInstances/local-db-${n}`,
          }),
          { maxRunning: bound },
        ),
      ),
    );

    // Assert
    expect(outcomes.filter((outcome) => outcome.begun)).toHaveLength(bound);
    expect(outcomes.filter((outcome) => !outcome.begun)).toEqual(
      Array.from({ length: 8 - bound }, () => ({ begun: false, atCapacity: bound })),
    );
    expect(await instances[0]!.runningDrills()).toHaveLength(bound);
  });
});

describe("a begin in Table Storage racing the hourly prune", () => {
  it("begins the next drill of an instance when the prune removes the old lock it just read", async () => {
    // Arrange: an old drill of the instance ended long ago; the prune deletes its lock between
    // the new starter's read and its conditional write.
    const tableName = uniqueTableName("drills");
    const old = { startTime: "2025-11-01T03:00:00.000Z" };
    await freshHistory(tableName).beginDrill(drillRecord("old", old));
    await freshHistory(tableName).finishDrill(
      drillRecord("old", { ...old, verdict: "Succeeded", endTime: "2025-11-01T03:05:00.000Z" }),
    );
    const client = azurite.service.client(tableName);
    let pruned = false;
    const racing = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== "submitTransaction") return Reflect.get(target, property, receiver);
        return async (...args: Parameters<typeof client.submitTransaction>) => {
          if (!pruned) {
            pruned = true;
            await new TableDrillHistory(() => azurite.service.client(tableName)).prune(
              "2026-01-01T00:00:00.000Z",
            );
          }
          return target.submitTransaction(...args);
        };
      },
    });

    // Act
    const next = await new TableDrillHistory(() => racing).beginDrill(drillRecord("next"));

    // Assert
    expect(pruned).toBe(true);
    expect(next).toEqual({ begun: true });
    expect((await freshHistory(tableName).runningDrills()).map((d) => d.id)).toEqual(["next"]);
  });
});
