import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe } from "vitest";
import { openSqliteDrillHistory } from "../../../../src/providers/history/sqliteDrillHistory.js";
import { drillHistoryContract } from "../../../support/drillHistoryContract.js";

describe("the drill history in SQLite, held to the drill history's contract", () => {
  const folders: string[] = [];
  const closers: (() => void)[] = [];

  afterEach(() => {
    for (const close of closers.splice(0)) close();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  drillHistoryContract(async () => {
    const folder = mkdtempSync(path.join(tmpdir(), "pgprotect-drills-"));
    folders.push(folder);
    const history = await openSqliteDrillHistory(folder);
    closers.push(() => history.close());
    return history;
  });
});
