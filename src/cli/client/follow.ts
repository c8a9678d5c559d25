/**
 * Following long work through the API until it ends: a protection (its steps from the
 * orchestration's custom status, or a server's `{done, total}`), a backup or restore job, and the
 * job list (`jobs --watch`), and a lifecycle operation (stop, suspend, resume, change of policy,
 * delete, undelete), all through one loop (`followWork`). Each poll redraws the progress view.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { LifecycleOperationView } from "../../application/lifecycle.js";
import type { BackupJob } from "../../domain/protection/types.js";
import type { ApiClient } from "./apiClient.js";
import { progressBar, type ProgressView } from "./progress.js";
import {
  datasourceLabel,
  jobAlarmsOf,
  shortDuration,
  shortTime,
  stateColor,
  table,
  type Colors,
  type ListedJob,
} from "./render.js";

/** One step of a protection, as `GET /api/protections/{id}` shows it. */
export interface ProtectionStep {
  readonly name: string;
  readonly status: "running" | "done" | "failed" | "skipped";
  readonly at: string;
  readonly detail?: string;
}

/** The body of `GET /api/protections/{id}` (the members the client reads). */
export interface ProtectionStatus {
  readonly id: string;
  readonly status: string;
  readonly outcome: string | null;
  readonly datasourceId: string | null;
  readonly backupInstanceName: string | null;
  readonly steps: readonly ProtectionStep[];
  readonly currentStep: string | null;
  readonly error: {
    readonly code: string;
    readonly serviceCode?: string;
    readonly message: string;
    readonly recommendedAction?: string;
  } | null;
  readonly serverName?: string | null;
  readonly progress?: { readonly done: number; readonly total: number } | null;
  readonly summary?: {
    readonly protected: readonly string[];
    readonly alreadyProtected: readonly string[];
    readonly failed: ReadonlyArray<{ readonly databaseName: string; readonly code: string }>;
    readonly stuck?: ReadonlyArray<{ readonly databaseName: string; readonly operationId: string }>;
    readonly skipped?: ReadonlyArray<{ readonly databaseName: string; readonly code: string }>;
  } | null;
  readonly createdAt?: string;
  readonly lastUpdatedAt?: string;
}

/** The mark of followed work: the spinner while it runs, then a tick or a cross. */
export function workMark(
  colors: Colors,
  spinner: string,
  ended: boolean,
  succeeded: boolean,
): string {
  if (!ended) return colors.cyan(spinner);
  return succeeded ? colors.green("✔") : colors.red("✖");
}

/** The Durable states in which an operation has ended. */
const endedStates = new Set(["Completed", "Failed", "Terminated", "Canceled"]);

/** Whether a protection has ended (it then always states an outcome). */
export function protectionEnded(status: ProtectionStatus): boolean {
  return endedStates.has(status.status);
}

/** Whether a job has ended. */
export function jobEnded(job: Pick<BackupJob, "status">): boolean {
  return job.status !== "InProgress";
}

/** The steps of a single protection, in order, with the words a person reads. */
export const protectionStepLabels: Readonly<Record<string, string>> = {
  resolve: "Find the datasource",
  checkExisting: "Look for an existing protection",
  verifyAccess: "Check the vault's access",
  ensurePolicy: "Check the policy",
  validateForBackup: "Validate for backup",
  createBackupInstance: "Create the backup instance",
  waitForProtection: "Wait for protection to be configured",
  publish: "Publish the outcome",
};
const protectionStepCount = Object.keys(protectionStepLabels).length;

/** What a protection is of: `server/database`, the server, or the operation. */
export function protectionSubject(status: ProtectionStatus): string {
  if (status.serverName && !status.datasourceId) return `every database of ${status.serverName}`;
  return datasourceLabel(status.datasourceId) ?? status.id;
}

/** The picture of a protection on a terminal. */
export function protectionPicture(
  colors: Colors,
  status: ProtectionStatus,
  elapsedMs: number,
  spinner: string,
  subject = protectionSubject(status),
): string {
  const ended = protectionEnded(status);
  const mark = workMark(colors, spinner, ended, status.outcome !== "Failed");
  const where = status.progress
    ? ""
    : status.steps.length > 0 && !ended
      ? ` · step ${Math.min(status.steps.length, protectionStepCount)}/${protectionStepCount}`
      : "";
  const state = ended
    ? stateColor(colors, status.outcome ?? status.status)
    : stateColor(colors, status.status);
  const lines = [
    `${mark} Protecting ${colors.bold(subject)} · ${state}${where} · ${shortDuration(elapsedMs)}`,
  ];
  for (const step of status.steps) {
    const symbol =
      step.status === "done"
        ? colors.green("✔")
        : step.status === "failed"
          ? colors.red("✖")
          : step.status === "skipped"
            ? colors.dim("–")
            : colors.cyan(spinner);
    const label = protectionStepLabels[step.name] ?? step.name;
    // A detail that is a datasource's ARM id reads as `server/database`.
    const detail = step.detail?.startsWith("/subscriptions/")
      ? datasourceLabel(step.detail)
      : step.detail;
    lines.push(`  ${symbol} ${label}${detail ? colors.dim(` — ${detail}`) : ""}`);
  }
  if (status.progress) {
    const { done, total } = status.progress;
    lines.push(`  ${colors.cyan(progressBar(done, total))} ${done}/${total} databases`);
  }
  if (status.error) lines.push(`  ${colors.red(`${status.error.code}: ${status.error.message}`)}`);
  return lines.join("\n");
}

/** The lines of a protection for a log: one per step state, the progress, the end. */
export function protectionLines(
  status: ProtectionStatus,
  subject = protectionSubject(status),
): string[] {
  const lines = [`${status.id}: protecting ${subject}`];
  for (const step of status.steps)
    lines.push(
      `${status.id}: step ${step.name} ${step.status}${step.detail ? ` (${step.detail})` : ""}`,
    );
  if (status.progress)
    lines.push(`${status.id}: ${status.progress.done}/${status.progress.total} databases`);
  if (protectionEnded(status))
    lines.push(
      `${status.id}: ${status.status}, outcome ${status.outcome ?? "none"}${status.error ? ` (${status.error.code})` : ""}`,
    );
  return lines;
}

/** What a backup or restore job is, for a person. */
function jobTitle(job: BackupJob): string {
  const kind = job.operationCategory === "Restore" ? "Restore" : "Backup";
  return `${kind} of ${job.backupInstanceFriendlyName || job.backupInstanceId}`;
}

/** The picture of a job on a terminal. */
export function jobPicture(
  colors: Colors,
  job: BackupJob,
  elapsedMs: number,
  spinner: string,
): string {
  const mark = workMark(colors, spinner, jobEnded(job), job.status === "Completed");
  const attempt = job.attempt && job.attempt > 1 ? ` · attempt ${job.attempt}` : "";
  const lines = [
    `${mark} ${jobTitle(job)} · job ${job.name} · ${stateColor(colors, job.status)}${attempt} · ${shortDuration(elapsedMs)}`,
  ];
  for (const error of job.errorDetails ?? [])
    lines.push(`  ${colors.red(`${error.code}: ${error.message}`)}`);
  return lines.join("\n");
}

/** The lines of a job for a log. */
export function jobLines(job: BackupJob): string[] {
  return [
    `${job.name}: ${jobTitle(job)} ${job.status}${job.attempt && job.attempt > 1 ? ` (attempt ${job.attempt})` : ""}`,
    ...(job.errorDetails ?? []).map((e) => `${job.name}: ${e.code}: ${e.message}`),
  ];
}

/** How a follow loop polls and draws. */
export interface FollowOptions {
  readonly view: ProgressView;
  readonly colors: Colors;
  /** Seconds between polls. */
  readonly intervalSeconds: number;
  /** Aborted on Ctrl+C: the loop ends and the caller says the work goes on. */
  readonly signal: AbortSignal;
  /** The clock, for the elapsed time shown. */
  readonly now?: () => number;
  /** What the work is about, as the command line named it (`local/shop`). */
  readonly subject?: string;
}

/** Raised when waiting was stopped (Ctrl+C); the work goes on in the app. */
export class WaitInterrupted extends Error {
  override readonly name = "WaitInterrupted";
  constructor(readonly last: unknown) {
    super("stopped waiting");
  }
}

/** One kind of long work as a follow loop reads and draws it. */
export interface FollowedWork<T> {
  /** The API route that reads the work's state. */
  readonly route: string;
  /** Whether the work has ended: the loop then stops polling. */
  ended(state: T): boolean;
  /**
   * How long the work has run at `at` (milliseconds since the epoch); `firstRead` is when the
   * loop first read it, for work that does not say when it began.
   */
  elapsedMs(state: T, at: number, firstRead: number): number;
  /** The picture on a terminal. */
  picture(state: T, elapsedMs: number, spinner: string): string;
  /** The lines for a log. */
  lines(state: T): string[];
}

/** When work that says when it began (`createdTime`) began, at the latest the loop's first read. */
export function begunAt(firstRead: number, createdTime: string | undefined): number {
  const created = createdTime === undefined ? Number.NaN : Date.parse(createdTime);
  return Number.isNaN(created) ? firstRead : Math.min(firstRead, created);
}

/**
 * Polls work until it ends, redrawing it after each read; resolves with its last state.
 *
 * @throws WaitInterrupted when waiting is stopped (Ctrl+C); the work goes on in the app.
 */
export async function followWork<T>(
  api: ApiClient,
  work: FollowedWork<T>,
  options: FollowOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  const firstRead = now();
  try {
    for (;;) {
      const state = await api.get<T>(work.route);
      options.view.show(
        (spinner) => work.picture(state, work.elapsedMs(state, now(), firstRead), spinner),
        work.lines(state),
      );
      if (work.ended(state)) return state;
      if (options.signal.aborted) throw new WaitInterrupted(state);
      try {
        await sleep(options.intervalSeconds * 1000, undefined, { signal: options.signal });
      } catch {
        throw new WaitInterrupted(state);
      }
    }
  } finally {
    options.view.close();
  }
}

/** Polls a protection until it ends, showing its steps; resolves with the last status. */
export function followProtection(
  api: ApiClient,
  id: string,
  options: FollowOptions,
): Promise<ProtectionStatus> {
  return followWork<ProtectionStatus>(
    api,
    {
      route: `protections/${encodeURIComponent(id)}`,
      ended: protectionEnded,
      elapsedMs: (status, at, firstRead) => at - begunAt(firstRead, status.createdAt),
      picture: (status, elapsedMs, spinner) =>
        protectionPicture(options.colors, status, elapsedMs, spinner, options.subject),
      lines: (status) => protectionLines(status, options.subject),
    },
    options,
  );
}

/** Polls a job until it ends, showing its state; resolves with the last state. */
export function followJob(
  api: ApiClient,
  name: string,
  options: FollowOptions,
): Promise<BackupJob> {
  return followWork<BackupJob>(
    api,
    {
      route: `jobs/${encodeURIComponent(name)}`,
      ended: jobEnded,
      // A job says when it started and ended: its duration is its own, not the wait's.
      elapsedMs: (job, at) => {
        const startedAt = Date.parse(job.startTime);
        return (
          (job.endTime ? Date.parse(job.endTime) : at) - (Number.isNaN(startedAt) ? at : startedAt)
        );
      },
      picture: (job, elapsedMs, spinner) => jobPicture(options.colors, job, elapsedMs, spinner),
      lines: jobLines,
    },
    options,
  );
}

/** Whether a lifecycle operation has ended (`Completed` or `Failed`). */
export function lifecycleEnded(operation: Pick<LifecycleOperationView, "status">): boolean {
  return operation.status !== "Running";
}

/** What a lifecycle operation does, for a person: `suspend of <instance>`. */
function lifecycleTitle(operation: LifecycleOperationView): string {
  return `${operation.action || "change"} of ${operation.backupInstanceName || operation.id}`;
}

/** The picture of a lifecycle operation on a terminal. */
export function lifecyclePicture(
  colors: Colors,
  operation: LifecycleOperationView,
  elapsedMs: number,
  spinner: string,
): string {
  const mark = workMark(
    colors,
    spinner,
    lifecycleEnded(operation),
    operation.status === "Completed",
  );
  const state = operation.state ? ` · ${stateColor(colors, operation.state)}` : "";
  const lines = [
    `${mark} ${lifecycleTitle(operation)} · ${stateColor(colors, operation.status)}${state} · ${shortDuration(elapsedMs)}`,
  ];
  if (operation.error)
    lines.push(`  ${colors.red(`${operation.error.code}: ${operation.error.message}`)}`);
  return lines.join("\n");
}

/** The lines of a lifecycle operation for a log. */
export function lifecycleLines(operation: LifecycleOperationView): string[] {
  return [
    `${operation.id}: ${lifecycleTitle(operation)} ${operation.status}${operation.state ? `, state ${operation.state}` : ""}`,
    ...(operation.error
      ? [`${operation.id}: ${operation.error.code}: ${operation.error.message}`]
      : []),
  ];
}

/** Polls a lifecycle operation until it ends, showing its state; resolves with the last view. */
export function followLifecycle(
  api: ApiClient,
  id: string,
  options: FollowOptions,
): Promise<LifecycleOperationView> {
  return followWork<LifecycleOperationView>(
    api,
    {
      route: `lifecycle-operations/${encodeURIComponent(id)}`,
      ended: lifecycleEnded,
      elapsedMs: (operation, at, firstRead) => at - begunAt(firstRead, operation.createdTime),
      picture: (operation, elapsedMs, spinner) =>
        lifecyclePicture(options.colors, operation, elapsedMs, spinner),
      lines: lifecycleLines,
    },
    options,
  );
}

/** The query of `GET /api/jobs`. */
export type JobQuery = Readonly<Record<string, string | undefined>>;

/** The job table, newest first. */
export function jobTable(colors: Colors, jobs: readonly ListedJob[]): string {
  if (jobs.length === 0) return colors.dim("No jobs.");
  return table(
    colors,
    ["JOB", "OPERATION", "STATUS", "BACKUP INSTANCE", "STARTED", "DURATION", "ALARMS"],
    jobs.map((job) => [
      job.name,
      job.operation,
      job.status,
      job.backupInstanceFriendlyName || job.backupInstanceId,
      shortTime(job.startTime),
      job.endTime ? shortDuration(Date.parse(job.endTime) - Date.parse(job.startTime)) : "-",
      jobAlarmsOf(job),
    ]),
    (column, cell, padded) =>
      column === 2
        ? padded.replace(cell, stateColor(colors, cell))
        : column === 6 && cell !== "-"
          ? padded.replace(cell, colors.red(cell))
          : padded,
  );
}

/** One job as a log line of `jobs --watch`. */
export function jobWatchLine(job: BackupJob): string {
  return `${job.name}  ${job.operation}  ${job.backupInstanceFriendlyName || job.backupInstanceId}  ${job.status}`;
}

/** What `jobs --watch` saw. */
export interface WatchOutcome {
  /** Jobs seen in progress that then failed or were cancelled. */
  readonly failed: readonly BackupJob[];
}

/**
 * Redraws the job list every interval until Ctrl+C or, with `untilDone`, until none of the jobs
 * listed is in progress.
 */
export async function watchJobs(
  api: ApiClient,
  query: JobQuery,
  options: FollowOptions & {
    readonly untilDone: boolean;
    /** One job as a line when the view prints lines. */
    readonly lineOf: (job: BackupJob) => string;
  },
): Promise<WatchOutcome> {
  const { colors } = options;
  const seenRunning = new Set<string>();
  let jobs: BackupJob[] = [];
  let updated = "";
  const picture = (mark: string, ending: string) => () =>
    [
      `${mark} Jobs · ${jobs.filter((job) => job.status === "InProgress").length} in progress · updated ${updated}${ending}`,
      jobTable(colors, jobs),
    ].join("\n");
  try {
    for (;;) {
      const page = await api.get<{ value: BackupJob[] }>("jobs", query);
      jobs = page.value;
      updated = shortTime(new Date(options.now?.() ?? Date.now()).toISOString());
      for (const job of jobs) if (job.status === "InProgress") seenRunning.add(job.name);
      const lines = jobs.map(options.lineOf).reverse();
      if (options.untilDone && !jobs.some((job) => job.status === "InProgress")) {
        options.view.show(picture(colors.green("✔"), ""), lines);
        break;
      }
      options.view.show(
        (spinner) => picture(colors.cyan(spinner), colors.dim(" · Ctrl+C to stop"))(),
        lines,
      );
      try {
        await sleep(options.intervalSeconds * 1000, undefined, { signal: options.signal });
      } catch {
        options.view.show(picture(colors.dim("■"), " · stopped"), lines);
        break;
      }
    }
  } finally {
    options.view.close();
  }
  return {
    failed: jobs.filter(
      (job) => seenRunning.has(job.name) && (job.status === "Failed" || job.status === "Cancelled"),
    ),
  };
}
