/**
 * `pgprotect drills` and `pgprotect drill INSTANCE [--wait]`: restore drills over the HTTP API
 * (`GET /api/drills`, `POST /api/backup-instances/{name}/drills`, `GET /api/drills/{id}`), as a
 * table or the API's JSON. A drill that fails ends `drill --wait` with
 * {@link ClientExitCodes.failed} (1).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import type { ApiClient } from "./apiClient.js";
import { ClientExitCodes } from "./exitCodes.js";
import { WaitInterrupted } from "./follow.js";
import { positiveNumber, wholeNumber } from "./optionParsers.js";
import { keyValues, table, type Colors } from "./render.js";

/** A drill as the API answers it (OpenAPI schema `Drill`). */
export interface DrillAnswer {
  readonly id: string;
  readonly backupInstanceName: string;
  readonly friendlyName: string;
  readonly vaultName: string;
  readonly schedule: string | null;
  readonly requestedBy: string | null;
  readonly verdict: "InProgress" | "Succeeded" | "Failed";
  readonly startTime: string;
  readonly endTime: string | null;
  readonly timeToRestoreSeconds: number | null;
  readonly recoveryPointId: string | null;
  readonly recoveryPointTime: string | null;
  readonly verification: {
    readonly verified: boolean;
    readonly tables: number;
    readonly rows: number;
    readonly mismatches: readonly string[];
  } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly scratchRemoved: boolean | null;
  /** Where the drill is (one drill's answer only; absent from servers of earlier versions). */
  readonly state?: "waitingForTurn" | "running" | "ended";
  /** A whole server's drill: each database's own verdict (absent from servers of earlier versions). */
  readonly databases?: readonly DrillDatabaseAnswer[] | null;
}

/** One database of a whole server's drill, as the API answers it. */
export interface DrillDatabaseAnswer {
  readonly databaseName: string;
  readonly verdict: "Succeeded" | "Failed";
  readonly verification: { readonly tables: number; readonly rows: number } | null;
  readonly seconds: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** One database's line of a whole server's drill. */
function databaseText(colors: Colors, database: DrillDatabaseAnswer): string {
  const verification = database.verification;
  const counts = verification ? `${verification.tables} tables, ${verification.rows} rows` : "";
  const figures = [counts, database.seconds === null ? "" : secondsText(database.seconds)]
    .filter(Boolean)
    .join(", ");
  return `${verdictText(colors, database.verdict)}${figures ? ` (${figures})` : ""}${database.error ? `: ${database.error.code}: ${database.error.message}` : ""}`;
}

/** The options of both commands. */
export interface DrillOptions {
  readonly api?: string;
  readonly entraScope?: string;
  readonly output: "table" | "json";
  readonly vault?: string;
  readonly instance?: string;
  readonly verdict?: string;
  readonly top?: number;
  readonly wait?: boolean;
  readonly interval: number;
}

/**
 * What the commands need of the client run: the API, printing, its one line, its exit code, and
 * waiting that Ctrl+C stops (exit 130; the drill goes on in the app).
 */
export interface DrillCommandRun {
  api(options: DrillOptions): ApiClient;
  interruptible<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T>;
  print(options: DrillOptions, json: unknown, table: (colors: Colors) => string): void;
  say(message: string): void;
  exitCode: number;
}

const secondsText = (seconds: number | null) => (seconds === null ? "-" : `${seconds} s`);

function verdictText(colors: Colors, verdict: DrillAnswer["verdict"]): string {
  return verdict === "Succeeded"
    ? colors.green(verdict)
    : verdict === "Failed"
      ? colors.red(verdict)
      : colors.cyan(verdict);
}

/** The drills as a table, newest first. */
export function drillsTable(colors: Colors, drills: readonly DrillAnswer[]): string {
  if (drills.length === 0) return colors.dim("No drills.");
  return table(
    colors,
    ["STARTED", "INSTANCE", "VERDICT", "TIME TO RESTORE", "SCHEDULE", "ERROR"],
    drills.map((drill) => [
      drill.startTime,
      drill.friendlyName,
      drill.verdict,
      secondsText(drill.timeToRestoreSeconds),
      drill.schedule ?? "on demand",
      drill.error?.code ?? "",
    ]),
    (column, cell, padded) =>
      column === 2
        ? padded.replace(cell, verdictText(colors, cell as DrillAnswer["verdict"]))
        : padded,
  );
}

/** One drill, field by field. */
export function drillDetails(colors: Colors, drill: DrillAnswer): string {
  const verification = drill.verification;
  return keyValues(colors, [
    ["drill", drill.id],
    ["instance", drill.friendlyName],
    ["vault", drill.vaultName],
    ["verdict", verdictText(colors, drill.verdict)],
    ["time to restore", secondsText(drill.timeToRestoreSeconds)],
    [
      "verified",
      verification
        ? `${verification.tables} tables, ${verification.rows} rows${verification.verified ? "" : `; ${verification.mismatches.join("; ")}`}`
        : undefined,
    ],
    ...(drill.databases ?? []).map(
      (database) => [`database ${database.databaseName}`, databaseText(colors, database)] as const,
    ),
    ["recovery point", drill.recoveryPointTime ?? drill.recoveryPointId],
    ["schedule", drill.schedule ?? "on demand"],
    ["started", drill.startTime],
    ["ended", drill.endTime],
    ["error", drill.error ? `${drill.error.code}: ${drill.error.message}` : undefined],
    [
      "scratch target",
      drill.scratchRemoved === null ? undefined : drill.scratchRemoved ? "removed" : "NOT removed",
    ],
  ]);
}

/** Lists the drills. */
export async function listDrills(run: DrillCommandRun, options: DrillOptions): Promise<void> {
  const page = await run.api(options).get<{ value: DrillAnswer[] }>("drills", {
    instance: options.instance,
    verdict: options.verdict,
    top: options.top === undefined ? undefined : String(options.top),
  });
  run.print(options, page, (colors) => drillsTable(colors, page.value));
}

/** Starts a drill; with `--wait`, follows it to its verdict. */
export async function startDrill(
  run: DrillCommandRun,
  instance: string,
  options: DrillOptions,
): Promise<void> {
  const api = run.api(options);
  const started = await api.post<{ id: string; statusUrl: string }>(
    `backup-instances/${encodeURIComponent(instance)}/drills${options.vault ? `?vault=${encodeURIComponent(options.vault)}` : ""}`,
    {},
  );
  if (!options.wait) {
    run.print(options, started, (colors) =>
      keyValues(colors, [
        ["drill", started.id],
        ["status", started.statusUrl],
      ]),
    );
    return;
  }
  const drill = await run.interruptible(async (signal) => {
    let seen = await api.get<DrillAnswer>(`drills/${encodeURIComponent(started.id)}`);
    let saidWaiting = false;
    while (seen.verdict === "InProgress") {
      if (seen.state === "waitingForTurn" && !saidWaiting) {
        // Said once: a drill may wait hours behind DRILL_MAX_CONCURRENT others.
        run.say(
          `the drill of ${instance} waits its turn: as many drills run as DRILL_MAX_CONCURRENT allows`,
        );
        saidWaiting = true;
      }
      try {
        await sleep(options.interval * 1000, undefined, { signal });
      } catch {
        throw new WaitInterrupted(seen);
      }
      seen = await api.get<DrillAnswer>(`drills/${encodeURIComponent(started.id)}`);
    }
    return seen;
  });
  run.print(options, drill, (colors) => drillDetails(colors, drill));
  if (drill.verdict === "Failed") {
    run.say(`the drill of ${instance} failed: ${drill.error?.message ?? "see the drill"}`);
    run.exitCode = ClientExitCodes.failed;
  }
}

/**
 * Adds `pgprotect drills` and `pgprotect drill INSTANCE` to the program.
 *
 * @param withApiOptions - adds the options every API command takes (`--api`, `--output`, ...).
 */
export function addDrillCommands(
  program: Command,
  run: DrillCommandRun,
  withApiOptions: (command: Command) => Command,
): void {
  withApiOptions(
    program
      .command("drills")
      .description("List the restore drills, newest first: verdict and time to restore")
      .option("--instance <name>", "only this backup instance's drills")
      .option("--verdict <verdicts>", "only these verdicts (InProgress,Succeeded,Failed)")
      .option("--top <count>", "how many", wholeNumber),
  ).action((options: DrillOptions) => listDrills(run, options));
  withApiOptions(
    program
      .command("drill")
      .description(
        "Drill a backup instance now: restore its latest recovery point into a scratch target, verify, time and remove it",
      )
      .argument("<instance>", "the backup instance")
      .option("--vault <name>", "the instance's vault")
      .option("--wait", "wait for the verdict; exit 1 if the drill fails")
      .option("--interval <seconds>", "seconds between reads while waiting", positiveNumber, 1),
  ).action((instance: string, options: DrillOptions) => startDrill(run, instance, options));
}
