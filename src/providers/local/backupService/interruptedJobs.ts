/**
 * Recovery of work a stop or a crash cut off: a job found `InProgress` under a process that is
 * gone has what its attempt left removed, then completes, runs again as its next attempt, or
 * fails saying what remains.
 */
import { parseDatabaseId } from "../../../domain/protection/ids.js";
import { followsRule, vaultNameRule } from "../../../domain/protection/names.js";
import type { InterruptedAttempt } from "../../../domain/protection/types.js";
import { ProviderErrorCodes } from "../../ports.js";
import { quoteIdent } from "../pgConnection.js";
import { processIsRunning, stopStrayTool } from "../processes.js";
import type { VaultFolder } from "../vaultStore.js";
import type { LocalServiceContext } from "./context.js";
import { instanceNameOf, maxJobAttempts, type StoredJob, toolsOf } from "./jobRecords.js";
import type { JobTracker } from "./jobTracker.js";
import { listVaultNames } from "./instances.js";
import { committedPointOf } from "./recoveryPoints.js";
import { removeRestoredFiles } from "./restoreFiles.js";
import { dropRestoredDatabase } from "./restores.js";

/** Finds and resumes the jobs earlier processes left `InProgress`, once per vault. */
export class InterruptedJobRecovery {
  readonly #context: LocalServiceContext;
  readonly #jobs: JobTracker;
  /** Recovery of each vault's interrupted jobs, run once per process. */
  readonly #recovered = new Map<string, Promise<void>>();

  constructor(context: LocalServiceContext, jobs: JobTracker) {
    this.#context = context;
    this.#jobs = jobs;
  }

  /** Resumes the interrupted jobs of every vault. */
  async recoverAll(): Promise<void> {
    for (const vaultName of await listVaultNames(this.#context)) {
      if (followsRule(vaultNameRule, vaultName)) await this.recoverVault(vaultName);
    }
  }

  /** Recovers one vault's interrupted jobs, once per process; later callers wait for it. */
  recoverVault(vaultName: string): Promise<void> {
    let recovery = this.#recovered.get(vaultName);
    if (!recovery) {
      recovery = this.#recoverOrphans(this.#context.vaultFolder(vaultName));
      this.#recovered.set(vaultName, recovery);
    }
    return recovery;
  }

  async #recoverOrphans(vault: VaultFolder): Promise<void> {
    const jobs = await vault.listRecords<StoredJob>("backupJobs");
    const orphans: StoredJob[] = [];
    for (const job of jobs) {
      if (
        job.status !== "InProgress" ||
        !job.runner ||
        job.runner.instance === this.#context.instance
      )
        continue;
      // A job of another live process is that process's business.
      if (job.runner.pid === process.pid || !(await processIsRunning(job.runner.pid)))
        orphans.push(job);
    }
    // Staging folders of jobs that run elsewhere stay; every other one is a leftover.
    const live = jobs
      .filter((job) => job.status === "InProgress" && !orphans.includes(job))
      .map((job) => job.name);
    await vault.removeLeftovers(live);
    for (const job of orphans) {
      try {
        await this.#resume(vault, job);
      } catch (error) {
        process.stderr.write(
          `pgprotect: job ${job.name} could not be resumed: ${(error as Error).message}\n`,
        );
      }
    }
  }

  /**
   * Cleans up after an attempt a stop or a crash cut off, then completes the job (a backup whose
   * recovery point was committed), runs it again as its next attempt, or fails it (attempts used
   * up, or what the attempt left cannot be removed: the job then says what remains).
   */
  async #resume(vault: VaultFolder, job: StoredJob): Promise<void> {
    const now = this.#context.now().toISOString();
    const attempt = job.attempt ?? 1;
    const cleaned: string[] = [];
    const tools = toolsOf(job);
    const strays = await Promise.all(tools.map((tool) => stopStrayTool(tool.pid, tool.program)));
    for (const [index, tool] of tools.entries()) {
      const stray = strays[index];
      if (stray === "stopped") cleaned.push(`its ${tool.program} (pid ${tool.pid}) was stopped`);
      // Said as it is: a tool in uninterruptible sleep outlives SIGKILL until its I/O ends.
      if (stray === "stillRunning")
        cleaned.push(
          `its ${tool.program} (pid ${tool.pid}) was sent SIGKILL and still ran 2 s later`,
        );
    }
    const mine = { runner: { pid: process.pid, instance: this.#context.instance } };
    const { tool: _tool, tools: _tools, stopReason, ...rest } = job;
    const base: StoredJob = { ...rest, ...mine };

    const work = job.work;
    let remains: string | undefined;
    if (work?.kind === "backup") {
      const committed = await committedPointOf(vault, job);
      if (committed) {
        await this.#jobs.finishRecovered(base, { ...committed, status: "Completed" });
        return;
      }
      cleaned.push("its staging files were removed");
    } else if (work?.kind === "restoreToDatabase" && work.creatingDatabase) {
      const target = parseDatabaseId(work.targetDatabaseId);
      try {
        await dropRestoredDatabase(
          this.#context,
          vault,
          work.targetDatabaseId,
          work.secretUri,
          job,
        );
        cleaned.push(`the database '${target.databaseName}' it had begun to restore was dropped`);
      } catch (error) {
        remains = `the database '${target.databaseName}' on server '${target.serverName}', half restored by attempt ${attempt}, remains (dropping it failed: ${(error as Error).message}); drop it with DROP DATABASE ${quoteIdent(target.databaseName)} WITH (FORCE) before restoring again`;
      }
    } else if (work?.kind === "restoreAsFiles" && work.writingFiles) {
      // Read from the folder: the vault's recovery (this) is what vault-level calls wait for.
      const point = (await vault.listManifests(work.store, instanceNameOf(job))).find(
        (p) => p.recoveryPointId === job.recoveryPointId,
      );
      try {
        await removeRestoredFiles(work.destination, work.prefix, point?.files ?? []);
        cleaned.push(`the files it had begun to write under ${work.destination} were removed`);
      } catch (error) {
        remains = `the files named '${work.prefix}*' under ${work.destination}, half written by attempt ${attempt}, remain (removing them failed: ${(error as Error).message}); remove them before restoring again`;
      }
    }

    const reason = `${stopReason ?? `the host stopped (a crash or a kill) while attempt ${attempt} ran`}${cleaned.length > 0 ? `; ${cleaned.join("; ")}` : ""}`;
    const interruptedAttempts: InterruptedAttempt[] = [
      ...(job.interruptedAttempts ?? []),
      { attempt, startTime: job.attemptStartTime ?? job.startTime, interruptedAt: now, reason },
    ];
    if (remains !== undefined || attempt >= maxJobAttempts || !work) {
      await this.#jobs.finishRecovered(
        { ...base, interruptedAttempts },
        {
          status: "Failed",
          errorDetails: [
            {
              code: ProviderErrorCodes.jobInterrupted,
              message:
                remains !== undefined
                  ? `The host stopped while the job ran; ${remains}`
                  : `The host stopped while the job ran, ${attempt} time(s); it is not tried again: ${reason}`,
              recommendedAction: [
                remains !== undefined
                  ? "Remove what remains, then run the operation again"
                  : "Run the operation again",
              ],
              isRetryable: true,
              isUserError: false,
            },
          ],
        },
      );
      return;
    }
    const next: StoredJob = {
      ...base,
      attempt: attempt + 1,
      attemptStartTime: now,
      interruptedAttempts,
      work:
        work.kind === "restoreToDatabase"
          ? { ...work, creatingDatabase: false }
          : work.kind === "restoreAsFiles"
            ? { ...work, writingFiles: false }
            : work,
    };
    await vault.writeRecord("backupJobs", job.name, next);
    this.#jobs.track(vault, next);
  }
}
