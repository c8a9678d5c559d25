/**
 * The jobs running in this process: each job's record as last written, its writes one after
 * another, the tool it runs, and a graceful stop that waits a bounded time for them.
 */
import { randomUUID } from "node:crypto";
import { AppError, toAppError } from "../../../domain/errors.js";
import { formatVaultChildId, type VaultRef } from "../../../domain/protection/ids.js";
import type { BackupInstance, BackupJob, JobOperation } from "../../../domain/protection/types.js";
import { ProviderErrorCodes } from "../../ports.js";
import { signalTool } from "../processes.js";
import type { VaultFolder } from "../vaultStore.js";
import type { LocalServiceContext } from "./context.js";
import {
  errorDetail,
  isoDuration,
  publicJob,
  type JobTool,
  type JobWork,
  type StoredJob,
  toolsOf,
} from "./jobRecords.js";

/** Options of {@link JobTracker.drain}. */
export interface DrainOptions {
  /** How long to wait for running jobs before stopping them; unbounded when absent. */
  readonly graceMs?: number;
  /** Receives one line per job waited for, and how the wait ended. */
  readonly log?: (line: string) => void;
}

/** The record writes of one job: whether one runs, and the latest record with its callers. */
interface RecordWrites {
  readonly vault: VaultFolder;
  running: boolean;
  next?: unknown;
  waiting: { resolve(): void; reject(error: unknown): void }[];
}

/** Runs a job's work (its first attempt, or a later one after an interruption). */
export type JobExecutor = (vault: VaultFolder, job: StoredJob) => Promise<Partial<BackupJob>>;

/** The jobs of this process and their records. */
export class JobTracker {
  readonly #context: LocalServiceContext;
  readonly #execute: JobExecutor;
  readonly #running = new Map<string, Promise<BackupJob>>();
  /** The stored record of each running job, as last written. */
  readonly #records = new Map<string, StoredJob>();
  /** Each job's record writes: the one running, and the latest record waiting for it. */
  readonly #writes = new Map<string, RecordWrites>();
  /** Jobs a graceful stop cut off: their failure is an interruption, not an outcome. */
  readonly #interrupted = new Set<string>();
  /** Jobs whose final record is being written: nothing of the running job is written after it. */
  readonly #ending = new Set<string>();
  #draining = false;

  constructor(context: LocalServiceContext, execute: JobExecutor) {
    this.#context = context;
    this.#execute = execute;
  }

  /** The running job of that name (lower case), if this process runs it. */
  running(name: string): Promise<BackupJob> | undefined {
    return this.#running.get(name);
  }

  /** @throws AppError `ProviderStopping` (503) once a graceful stop has begun. */
  refuseWhileDraining(): void {
    if (!this.#draining) return;
    throw new AppError(
      ProviderErrorCodes.providerStopping,
      "The host is stopping; no new job starts",
      {
        httpStatus: 503,
        retryable: true,
        recommendedAction: "Ask again once the host is back",
      },
    );
  }

  /** Records a new job, `InProgress` under this process, as its first attempt. */
  async start(
    vault: VaultFolder,
    ref: VaultRef,
    instance: BackupInstance,
    operation: JobOperation,
    extra: Partial<BackupJob>,
    work: JobWork,
  ): Promise<StoredJob> {
    const name = randomUUID();
    const database = instance.dataSourceInfo;
    const job: StoredJob = {
      id: formatVaultChildId({ ...ref, childType: "backupJobs", childName: name }),
      name,
      vaultName: ref.vaultName,
      operation,
      operationCategory: operation === "Restore" ? "Restore" : "Backup",
      isUserTriggered: operation !== "ScheduledBackup",
      status: "InProgress",
      startTime: this.#context.now().toISOString(),
      backupInstanceId: instance.id,
      backupInstanceFriendlyName: instance.friendlyName,
      dataSourceId: database.resourceId,
      dataSourceName: database.resourceName,
      dataSourceType: database.datasourceType,
      dataSourceLocation: database.resourceLocation,
      ...extra,
      attempt: 1,
      runner: { pid: process.pid, instance: this.#context.instance },
      work,
    };
    await vault.writeRecord("backupJobs", name, job);
    return job;
  }

  /** Runs a job's work in the background and records how it ended. */
  track(vault: VaultFolder, job: StoredJob): void {
    this.#records.set(job.name, job);
    const promise = (async () => {
      try {
        const update = await this.#execute(vault, job);
        return await this.#finish(job.name, { ...update, status: "Completed" });
      } catch (error) {
        if (this.#interrupted.has(job.name)) {
          // Cut off by a graceful stop: the job stays InProgress for the next start to resume.
          return publicJob(this.#records.get(job.name) ?? job);
        }
        const appError = toAppError(error);
        const extra = (error as { jobUpdate?: Partial<BackupJob> }).jobUpdate ?? {};
        return this.#finish(job.name, {
          ...extra,
          status: "Failed",
          errorDetails: [errorDetail(appError)],
        });
      }
    })().finally(() => {
      this.#running.delete(job.name);
      this.#records.delete(job.name);
      this.#ending.delete(job.name);
    });
    this.#running.set(job.name, promise);
  }

  /** Ends a recovered job that does not run again. */
  async finishRecovered(job: StoredJob, update: Partial<BackupJob>): Promise<void> {
    this.#records.set(job.name, job);
    try {
      await this.#finish(job.name, update);
    } finally {
      this.#records.delete(job.name);
      this.#ending.delete(job.name);
    }
  }

  /** Records how a job ended, without the provider's bookkeeping. */
  async #finish(name: string, update: Partial<BackupJob>): Promise<BackupJob> {
    const job = this.#records.get(name);
    if (!job) throw new Error(`unreachable: job ${name} is not running`);
    // From here the final record is the last one written: a tool's end noted after it (an
    // earlier step's pg_restore exiting as the job fails) would queue the running job after it.
    this.#ending.add(name);
    const end = this.#context.now();
    const ended: BackupJob = {
      ...publicJob(job),
      ...update,
      endTime: end.toISOString(),
      duration: isoDuration(new Date(job.startTime), end),
    };
    await this.#write(job.vaultName, name, ended);
    return ended;
  }

  /** Updates a running job's record (its tool, its stop reason). */
  async #patchJob(name: string, patch: Partial<StoredJob>): Promise<void> {
    const job = this.#records.get(name);
    if (!job || this.#ending.has(name)) return;
    const next = { ...job, ...patch } as StoredJob;
    this.#records.set(name, next);
    await this.#write(job.vaultName, name, next);
  }

  /** Updates what a running job's work has done so far. */
  async patchWork(name: string, patch: Partial<JobWork>): Promise<void> {
    const work = this.#records.get(name)?.work;
    if (work) await this.#patchJob(name, { work: { ...work, ...patch } as JobWork });
  }

  /**
   * Writes a job's record after the earlier writes of the same job. Each record is the whole job
   * as it stands, so of several that wait behind a running write only the latest is written:
   * it resolves every caller whose record it supersedes.
   */
  #write(vaultName: string, name: string, record: unknown): Promise<void> {
    let writes = this.#writes.get(name);
    if (!writes) {
      writes = { vault: this.#context.vaultFolder(vaultName), running: false, waiting: [] };
      this.#writes.set(name, writes);
    }
    const queued = writes;
    return new Promise<void>((resolve, reject) => {
      queued.next = record;
      queued.waiting.push({ resolve, reject });
      this.#writeNext(name, queued);
    });
  }

  /** Writes the latest record waiting, unless a write of the job runs already. */
  #writeNext(name: string, writes: RecordWrites): void {
    if (writes.running) return;
    if (writes.waiting.length === 0) {
      this.#writes.delete(name);
      return;
    }
    const { next, waiting } = writes;
    writes.next = undefined;
    writes.waiting = [];
    writes.running = true;
    void writes.vault
      .writeRecord("backupJobs", name, next)
      .then(
        () => {
          for (const caller of waiting) caller.resolve();
        },
        (error: unknown) => {
          for (const caller of waiting) caller.reject(error);
        },
      )
      .finally(() => {
        writes.running = false;
        this.#writeNext(name, writes);
      });
  }

  /**
   * Notes a tool a job runs, besides those it runs already; a job a stop has cut off has the tool
   * stopped at once.
   */
  toolStarted(name: string, tool: JobTool): void {
    if (this.#interrupted.has(name)) signalTool(tool.pid, "SIGTERM");
    const tools = [...toolsOf(this.#records.get(name)).filter((t) => t.pid !== tool.pid), tool];
    void this.#patchJob(name, { tool, tools }).catch(() => undefined);
  }

  /** Notes that a job's tool `pid` has ended; every tool of the job when `pid` is absent. */
  toolEnded(name: string, pid?: number): void {
    const job = this.#records.get(name);
    const running = toolsOf(job);
    if (!job || running.length === 0 || this.#ending.has(name)) return;
    const left = pid === undefined ? [] : running.filter((t) => t.pid !== pid);
    if (left.length === running.length) return;
    const { tool: _tool, tools: _tools, ...rest } = job;
    const next: StoredJob = left.length > 0 ? { ...rest, tool: left.at(-1), tools: left } : rest;
    this.#records.set(name, next);
    void this.#write(job.vaultName, name, next).catch(() => undefined);
  }

  /**
   * Stops taking new jobs and waits for the running ones: without a bound, until they end; with
   * `graceMs`, that long, then stops their tools and leaves them `InProgress`, to run again as
   * their next attempt when the provider starts again.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    this.#draining = true;
    const running = [...this.#running.keys()];
    if (running.length === 0) return;
    const all = Promise.allSettled([...this.#running.values()]);
    if (options.graceMs === undefined) {
      await all;
      return;
    }
    const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    const now = this.#context.now().getTime();
    const seconds = Math.round(options.graceMs / 1000);
    log(
      `pgprotect: waiting up to ${seconds} s (LOCAL_STOP_GRACE_SECONDS) for ${running.length} running job(s):`,
    );
    for (const name of running) {
      const job = this.#records.get(name);
      if (!job) continue;
      const since = Date.parse(job.attemptStartTime ?? job.startTime);
      log(
        `  ${job.operation} of ${job.backupInstanceFriendlyName} (job ${name}), running for ${Math.max(0, Math.round((now - since) / 1000))} s`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all.then(() => true),
      new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(false), options.graceMs)),
      ),
    ]);
    clearTimeout(timer);
    if (finished) {
      log("pgprotect: the running jobs have ended");
      return;
    }
    const cutOff = [...this.#running.keys()];
    const reason = `the host stopped (${seconds} s after the stop began, LOCAL_STOP_GRACE_SECONDS) while this attempt ran`;
    for (const name of cutOff) {
      this.#interrupted.add(name);
      await this.#patchJob(name, { stopReason: reason }).catch(() => undefined);
      // A whole server's dumps run several at a time: each is stopped.
      for (const tool of toolsOf(this.#records.get(name))) signalTool(tool.pid, "SIGTERM");
    }
    // Killed tools end their jobs at once; work between tools gets a short while to notice.
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    log(
      `pgprotect: stopped ${cutOff.length} job(s) after ${seconds} s (${cutOff.join(", ")}); they run again when the host starts`,
    );
  }
}
