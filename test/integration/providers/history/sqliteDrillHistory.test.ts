/**
 * The SQLite drill history under several processes at once, as the compiled app opens it (from
 * `dist/`: `npm test` builds first): each process its own connection to one state folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteDrillHistory } from "../../../../src/providers/history/sqliteDrillHistory.js";
import { drillRecord } from "../../../support/drillHistoryContract.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const compiledHistory = pathToFileURL(
  path.join(repoRoot, "dist", "src", "providers", "history", "sqliteDrillHistory.js"),
).href;

/**
 * A process that opens the history, says `ready`, waits for `go` on stdin, begins the drill it was
 * given (argv: folder, drill JSON, bound) and prints the answer as one JSON line.
 */
const starterScript = `
import { createInterface } from "node:readline";
const { openSqliteDrillHistory } = await import(process.env.HISTORY_MODULE);
const [folder, drillJson, bound] = process.argv.slice(2);
const history = await openSqliteDrillHistory(folder);
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\\n");
for await (const line of lines) {
  if (line !== "go") continue;
  const answer = await history.beginDrill(JSON.parse(drillJson), { maxRunning: Number(bound) });
  process.stdout.write(JSON.stringify(answer) + "\\n");
  break;
}
lines.close();
history.close();
`;

/** The lines a child prints, in order, awaited one at a time. */
function linesOf(child: ChildProcess): () => Promise<string> {
  const reader = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return async () => {
    const next = await reader.next();
    if (next.done) throw new Error("the starter exited before answering");
    return next.value as string;
  };
}

describe("the SQLite drill history with several processes beginning drills at once", () => {
  const folders: string[] = [];
  const children: ChildProcess[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  // A long limit: eight Node.js processes start on a shared machine.
  it("admits exactly DRILL_MAX_CONCURRENT drills of different backup instances", async () => {
    // Arrange: the history created once, then eight processes, each with a drill of its own.
    const folder = mkdtempSync(path.join(tmpdir(), "pgprotect-drills-"));
    folders.push(folder);
    (await openSqliteDrillHistory(folder)).close();
    const script = path.join(folder, "starter.mjs");
    writeFileSync(script, starterScript);
    const bound = 3;
    const starters = Array.from({ length: 8 }, (_, n) => {
      const drill = drillRecord(`bounded-${n}`, {
        backupInstanceId: `/subscriptions/x/backupInstances/local-db-${n}`,
      });
      const child = spawn(
        process.execPath,
        [script, folder, JSON.stringify(drill), String(bound)],
        {
          env: { ...process.env, HISTORY_MODULE: compiledHistory },
          stdio: ["pipe", "pipe", "inherit"],
        },
      );
      children.push(child);
      // Listened for from the start: a quick starter has exited before its answer is read.
      return { child, nextLine: linesOf(child), exited: once(child, "exit") };
    });
    for (const { nextLine } of starters) expect(await nextLine()).toBe("ready");

    // Act: every process begins at once.
    for (const { child } of starters) child.stdin!.end("go\n");
    const answers = await Promise.all(
      starters.map(async ({ nextLine }) => JSON.parse(await nextLine()) as { begun: boolean }),
    );
    await Promise.all(starters.map(({ exited }) => exited));

    // Assert
    expect(answers.filter((answer) => answer.begun)).toHaveLength(bound);
    expect(answers.filter((answer) => !answer.begun)).toEqual(
      Array.from({ length: 8 - bound }, () => ({ begun: false, atCapacity: bound })),
    );
    const history = await openSqliteDrillHistory(folder);
    try {
      expect(await history.runningDrills()).toHaveLength(bound);
    } finally {
      history.close();
    }
  }, 120_000);
});
