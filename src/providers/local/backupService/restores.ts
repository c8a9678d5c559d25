/**
 * The local service's restores: into a new database with `pg_restore` (with parallel jobs for a
 * directory-format dump) and checked against the recovery point, or as files. A restore's
 * recovery point is checked before anything is created.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { AppError } from "../../../domain/errors.js";
import {
  libpqEnvironment,
  type PostgresConnectionParams,
} from "../../../domain/protection/connectionString.js";
import { parseDatabaseId, type DatabaseRef } from "../../../domain/protection/ids.js";
import { FLEXIBLE_SERVER_DATASOURCE_TYPE } from "../../../domain/protection/naming.js";
import type {
  BackupInstance,
  BackupJob,
  RecordedStructure,
  RecoveryPoint,
  RecoveryPointFile,
  RecoveryPointFilePart,
} from "../../../domain/protection/types.js";
import type { JobReference, RestoreRequest } from "../../ports.js";
import { ProviderErrorCodes } from "../../ports.js";
import { isDirectoryDump } from "../dumpEntries.js";
import { parallelJobs } from "../dumpPlan.js";
import { clientConfig, quoteIdent, withClient } from "../pgConnection.js";
import { runTool, serverMajorOf, toolSessionOptions, ToolFailedError } from "../processes.js";
import {
  assertRecoveryPointIntact,
  partProblems,
  recoveryPointCorrupt,
} from "../recoveryPointIntegrity.js";
import {
  fingerprintDump,
  verificationFailure,
  verificationSummary,
  verifyLoadedDatabase,
  verifyRestoredDatabase,
  type RestoreVerificationReport,
} from "../restoreVerification.js";
import {
  copyHeaders,
  dumpContents,
  isTableDataFile,
  loadTablesVerified,
  type VerifiedLoadOptions,
} from "../verifiedLoad.js";
import type { VaultFolder } from "../vaultStore.js";
import type { LocalServiceContext } from "./context.js";
import { instanceNameOf, type JobWork, type StoredJob } from "./jobRecords.js";
import type { JobTracker } from "./jobTracker.js";
import { getBackupInstance } from "./instances.js";
import { listRecoveryPoints } from "./recoveryPoints.js";
import { filesFolder, restoreAsFiles } from "./restoreFiles.js";

/** The work of a restore job. */
type RestoreWork = Exclude<JobWork, { kind: "backup" }>;

/** Starts and runs restores. */
export class LocalRestores {
  readonly #context: LocalServiceContext;
  readonly #jobs: JobTracker;

  constructor(context: LocalServiceContext, jobs: JobTracker) {
    this.#context = context;
    this.#jobs = jobs;
  }

  /** Checks a restore request and starts its job. */
  async trigger(
    vaultId: string,
    instanceName: string,
    request: RestoreRequest,
  ): Promise<JobReference> {
    const context = this.#context;
    const { vault, ref } = await context.vault(vaultId);
    const instance = await getBackupInstance(context, vaultId, instanceName);
    const recoveryPointId = request.recoveryPointId.split("/").pop() ?? "";
    const points = await listRecoveryPoints(context, vaultId, instanceName);
    const point = points.find((p) => p.recoveryPointId === recoveryPointId);
    if (!point)
      throw context.notFound(
        `Recovery point '${recoveryPointId}' of '${instanceName}' was not found`,
      );
    const store = request.sourceDataStoreType ?? point.dataStores[0]?.type ?? "VaultStore";
    if (!point.dataStores.some((d) => d.type === store)) {
      throw context.notFound(`Recovery point '${recoveryPointId}' is not in ${store}`);
    }
    const sourceDatabase =
      request.target.kind === "database" ? request.target.sourceDatabaseName : undefined;
    if (sourceDatabase !== undefined && !point.files.some((f) => f.databaseName === sourceDatabase))
      throw context.notFound(
        `Recovery point '${recoveryPointId}' holds no database '${sourceDatabase}'`,
      );
    // A whole server's point restores into a database one of its databases at a time (a drill's).
    if (
      request.target.kind === "database" &&
      sourceDatabase === undefined &&
      instance.dataSourceInfo.datasourceType === FLEXIBLE_SERVER_DATASOURCE_TYPE
    ) {
      throw new AppError(
        ProviderErrorCodes.invalidRestoreTarget,
        "A Flexible Server recovery point can only be restored as files",
        {
          httpStatus: 400,
          recommendedAction: "Restore as files, then load them with pg_restore",
        },
      );
    }
    const destination =
      request.target.kind === "database"
        ? request.target.targetDatabaseId
        : filesFolder(context, request.target.url);
    const target = request.target;
    const work: JobWork =
      target.kind === "database"
        ? {
            kind: "restoreToDatabase",
            store,
            targetDatabaseId: target.targetDatabaseId,
            ...(target.secretUri ? { secretUri: target.secretUri } : {}),
            ...(target.sourceDatabaseName ? { sourceDatabaseName: target.sourceDatabaseName } : {}),
          }
        : { kind: "restoreAsFiles", store, destination, prefix: target.filePrefix ?? "" };
    const job = await this.#jobs.start(
      vault,
      ref,
      instance,
      "Restore",
      { recoveryPointId, recoveryDestination: destination, policyId: instance.policyId },
      work,
    );
    this.#jobs.track(vault, job);
    return { jobId: job.id };
  }

  /** Runs a restore job's work, after checking its recovery point's files. */
  async execute(
    vault: VaultFolder,
    job: StoredJob,
    instance: BackupInstance,
    work: RestoreWork,
  ): Promise<Partial<BackupJob>> {
    const context = this.#context;
    const vaultId = context.vaultId(job.vaultName);
    const point = (await listRecoveryPoints(context, vaultId, instance.name)).find(
      (p) => p.recoveryPointId === job.recoveryPointId,
    );
    if (!point || !point.dataStores.some((d) => d.type === work.store)) {
      throw context.notFound(
        `Recovery point '${job.recoveryPointId ?? ""}' of '${instance.name}' is not in ${work.store}`,
      );
    }
    const folder = vault.recoveryPointFolder(work.store, instance.name, point.recoveryPointId);
    // Before anything is created: a changed or cut file fails the job and leaves nothing behind.
    // A directory-format point restored into a database has its tables' data files hashed as
    // they load (read once, not twice): here only their presence and size are checked, and a
    // content change found while loading drops the new database and fails the job the same way.
    const file =
      work.kind === "restoreToDatabase" && work.sourceDatabaseName !== undefined
        ? point.files.find((f) => f.databaseName === work.sourceDatabaseName)
        : point.files[0];
    const hashedOnLoad =
      work.kind === "restoreToDatabase" &&
      file !== undefined &&
      isDirectoryDump(file) &&
      file.parts !== undefined;
    // One database of a whole server's point: only its own file is checked and restored.
    const restored =
      work.kind === "restoreToDatabase" && work.sourceDatabaseName !== undefined
        ? { ...point, files: file ? [file] : [] }
        : point;
    await assertRecoveryPointIntact(restored, folder, "restored", {
      hashedLater: (part) => hashedOnLoad && isTableDataFile(part.fileName),
    });
    return work.kind === "restoreToDatabase"
      ? this.#restoreToDatabase(
          job,
          instance,
          restored,
          folder,
          work.targetDatabaseId,
          work.secretUri,
        )
      : restoreAsFiles(context, this.#jobs, job, point, folder, work.destination, work.prefix);
  }

  async #restoreToDatabase(
    job: StoredJob,
    instance: BackupInstance,
    point: RecoveryPoint,
    folder: string,
    targetDatabaseId: string,
    secretUri: string | undefined,
  ): Promise<Partial<BackupJob>> {
    const { options } = this.#context;
    const target = parseDatabaseId(targetDatabaseId);
    const file = point.files[0];
    if (!file)
      throw new AppError("LOCAL_RECOVERY_POINT_EMPTY", "The recovery point holds no dump file", {
        httpStatus: 500,
      });
    const uri = secretUri ?? instance.secretStore?.uri;
    const params = uri
      ? await options.secrets.getConnectionParams(uri)
      : options.directory.serverConnection(target.serverName);
    const server = await options.directory.resolveServer(target.serverName);
    const exists = await options.directory
      .listDatabases(server.id)
      .then((dbs) => dbs.some((d) => d.name === target.databaseName));
    if (exists) {
      throw new AppError(
        ProviderErrorCodes.invalidRestoreTarget,
        `Database '${target.databaseName}' exists already on '${target.serverName}' (FailIfExists)`,
        {
          httpStatus: 409,
          recommendedAction: "Restore under a new database name",
        },
      );
    }
    // A restore loads its target server as a dump does: it waits for a slot of that server, so
    // that a drill of many databases is bounded as their backups are.
    const cores = options.cpuCount ?? availableParallelism();
    const jobs = isDirectoryDump(file) ? parallelJobs(options.parallelJobs ?? cores, cores) : 1;
    return this.#context.serverSlots.run(params, "postgres", jobs + 2, () =>
      this.#restoreInSlot(job, point, file, folder, target, params, jobs),
    );
  }

  /** Creates the target database, restores into it and verifies it (see {@link #restoreToDatabase}). */
  async #restoreInSlot(
    job: StoredJob,
    point: RecoveryPoint,
    file: RecoveryPointFile,
    folder: string,
    target: DatabaseRef,
    params: PostgresConnectionParams,
    jobs: number,
  ): Promise<Partial<BackupJob>> {
    const { options } = this.#context;
    const admin = clientConfig(params, "postgres");
    // Recorded first: a later attempt drops only a database this job created.
    await this.#jobs.patchWork(job.name, { creatingDatabase: true });
    let serverMajor: number | undefined;
    try {
      await withClient(admin, `Creating database '${target.databaseName}'`, async (client) => {
        serverMajor = serverMajorOf(
          (await client.query<{ server_version_num: string }>("SHOW server_version_num")).rows[0]
            ?.server_version_num,
        );
        await client.query(`CREATE DATABASE ${quoteIdent(target.databaseName)}`);
      });
    } catch (error) {
      const sqlState = (error as { code?: string }).code;
      // Refused or taken: no database was created, and someone else's of that name is not this
      // job's to drop later.
      if (sqlState === "42P04" || sqlState === "42501")
        await this.#jobs.patchWork(job.name, { creatingDatabase: false });
      if (sqlState === "42501") throw createDatabaseRefused(target.databaseName, params, error);
      throw error;
    }
    const connection = libpqEnvironment(params, target.databaseName);
    // A directory-format dump loads its tables and builds its indexes in parallel (`jobs`).
    const dumpPath = path.join(folder, file.fileName);
    const toolEnv = {
      ...connection,
      ...toolSessionOptions(connection.PGOPTIONS ?? process.env.PGOPTIONS, serverMajor, [
        RESTORE_SESSION_OPTIONS,
      ]),
    };
    /** `pg_restore` of some of the dump into the new database, recorded as the job's tool. */
    const restoreTool = async (args: readonly string[]) => {
      let started: number | undefined;
      await runTool(
        path.join(options.binDir, "pg_restore"),
        [
          "--no-owner",
          "--no-acl",
          "--exit-on-error",
          "--no-password",
          ...args,
          "-d",
          target.databaseName,
          dumpPath,
        ],
        {
          env: toolEnv,
          onSpawn: (pid) => {
            started = pid;
            this.#jobs.toolStarted(job.name, { pid, program: "pg_restore" });
          },
        },
      ).finally(() => {
        // Several run at once while a directory-format point loads: only this one has ended.
        if (started !== undefined) this.#jobs.toolEnded(job.name, started);
      });
    };
    // The dump's side of the verification reads the recovery point only, so it runs while
    // pg_restore loads. Its tool is not the job's recorded one: a host that dies closes its
    // output, which ends it; a failed restore stops it.
    const stopFingerprint = new AbortController();
    let report: RestoreVerificationReport;
    try {
      if (isDirectoryDump(file) && file.parts) {
        report = await this.#loadVerified(
          restoreTool,
          dumpPath,
          file.parts,
          params,
          target.databaseName,
          jobs,
          toolEnv.PGOPTIONS,
          stopFingerprint.signal,
          file.structure,
          (problems) => recoveryPointCorrupt(point, "restored", problems),
        );
      } else {
        const dumpFingerprint = fingerprintDump(
          options.binDir,
          dumpPath,
          undefined,
          stopFingerprint.signal,
        );
        dumpFingerprint.catch(() => undefined);
        await restoreTool(jobs > 1 ? ["-j", String(jobs)] : []);
        // Its tools are recorded as pg_restore's is: a later process stops a stray one.
        report = await verifyRestoredDatabase(
          options.binDir,
          dumpPath,
          params,
          target.databaseName,
          {
            structure: file.structure,
            serverMajor,
            dumpFingerprint,
            jobs,
            onTool: (tool) =>
              tool ? this.#jobs.toolStarted(job.name, tool) : this.#jobs.toolEnded(job.name),
          },
        );
      }
      await makeDurable(params, target.databaseName);
    } catch (error) {
      stopFingerprint.abort();
      // Nothing half-restored stays behind.
      await withClient(admin, `Dropping database '${target.databaseName}'`, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdent(target.databaseName)} WITH (FORCE)`),
      ).catch(() => undefined);
      if (error instanceof ToolFailedError) {
        const refused = /password authentication failed|permission denied/i.test(error.stderr);
        throw new AppError(
          refused ? ProviderErrorCodes.missingDbPermissions : ProviderErrorCodes.restoreFailed,
          `pg_restore into '${target.databaseName}' failed: ${error.message}`,
          {
            httpStatus: refused ? 400 : 500,
            cause: error,
          },
        );
      }
      throw error;
    }
    const restored = {
      dataTransferredInBytes: file.sizeBytes,
      restoreVerification: verificationSummary(report),
    };
    if (!report.verified) {
      throw Object.assign(
        verificationFailure(report, ProviderErrorCodes.restoreVerificationFailed),
        { jobUpdate: restored },
      );
    }
    return restored;
  }

  /**
   * Loads the tables (`loadTablesVerified`); a data file whose content differs from what the
   * backup recorded, found by the load's own hash or, when the load failed, by hashing the files
   * it was given, is the recovery point's corruption rather than the restore's failure.
   */
  async #loadTables(
    dumpPath: string,
    loadedParts: readonly RecoveryPointFilePart[],
    corrupt: (problems: readonly string[]) => AppError,
    options: VerifiedLoadOptions,
  ): ReturnType<typeof loadTablesVerified> {
    let loaded: Awaited<ReturnType<typeof loadTablesVerified>>;
    try {
      loaded = await loadTablesVerified(options);
    } catch (error) {
      const problems = await partProblems(dumpPath, loadedParts).catch(() => []);
      throw problems.length > 0 ? corrupt(problems) : error;
    }
    const changed = loaded.filter(
      (table) => table.expectedChecksum !== "" && table.actualChecksum !== table.expectedChecksum,
    );
    if (changed.length > 0)
      throw corrupt(
        changed.map(
          (table) =>
            `${path.basename(dumpPath)}: the data file of ${table.table} has SHA-256 ${table.actualChecksum} where the backup recorded ${table.expectedChecksum}`,
        ),
      );
    return loaded;
  }

  /**
   * Restores a directory-format dump with its tables checked as they load (`verifiedLoad.ts`):
   * the schema, then every table's data `jobs` at a time while `pg_restore` loads large objects
   * and sequence values, then indexes and constraints with `jobs` parallel jobs.
   */
  async #loadVerified(
    restoreTool: (args: readonly string[]) => Promise<void>,
    dumpPath: string,
    parts: readonly RecoveryPointFilePart[],
    params: PostgresConnectionParams,
    database: string,
    jobs: number,
    sessionOptions: string | undefined,
    signal: AbortSignal,
    structure: RecordedStructure | undefined,
    corrupt: (problems: readonly string[]) => AppError,
  ): Promise<RestoreVerificationReport> {
    const { binDir } = this.#context.options;
    const contents = await dumpContents(binDir, dumpPath);
    // The data files the integrity check left to the load; one no table loads is hashed now.
    const loadedFiles = new Set(
      contents.tables.flatMap((t) => [`${t.dumpId}.dat.gz`, `${t.dumpId}.dat`]),
    );
    const deferred = parts.filter((part) => isTableDataFile(part.fileName));
    const notLoaded = deferred.filter((part) => !loadedFiles.has(part.fileName));
    const unloadedProblems = await partProblems(dumpPath, notLoaded);
    if (unloadedProblems.length > 0) throw corrupt(unloadedProblems);
    const loadedParts = deferred.filter((part) => loadedFiles.has(part.fileName));
    const scratch = await mkdtemp(path.join(tmpdir(), "pgprotect-load-"));
    try {
      const othersList = path.join(scratch, "others.list");
      await writeFile(othersList, `${contents.otherLines.join("\n")}\n`, { mode: 0o600 });
      const others = fingerprintDump(binDir, dumpPath, undefined, signal, ["-L", othersList]);
      others.catch(() => undefined);
      const headers = copyHeaders(binDir, dumpPath, scratch, contents.tables, jobs * 2);
      await restoreTool(["--section=pre-data"]);
      const [loaded] = await Promise.all([
        this.#loadTables(dumpPath, loadedParts, corrupt, {
          binDir,
          dumpDir: dumpPath,
          parts,
          params,
          database,
          contents,
          jobs,
          scratch,
          sessionOptions,
          headers,
        }),
        restoreTool(["--section=data", "-L", othersList]),
      ]);
      await restoreTool(["--section=post-data", ...(jobs > 1 ? ["-j", String(jobs)] : [])]);
      return await verifyLoadedDatabase(params, database, loaded, await others, {
        ...(structure ? { structure } : {}),
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

/**
 * Options of every session that writes the restored database (`pg_restore`'s and the loads'):
 * their commits do not wait for the WAL to reach the disk.
 *
 * @remarks A restore commits once per statement of the schema, once per table's data and once
 * per index or key, each of which would otherwise wait for a WAL flush of its own; the server
 * still writes all of it, in order, within moments. What a server crash could lose are the last
 * commits before it, and a restore is never declared done before {@link makeDurable} has flushed
 * the WAL past every one of them; a restore cut off before that is dropped as any unfinished
 * restore is (see `interruptedJobs.ts`). So the restored database is exactly as durable as it was
 * with synchronous commits when the job says Completed.
 */
const RESTORE_SESSION_OPTIONS = "-c synchronous_commit=off";

/**
 * The restore's durable point: a transaction that commits synchronously in the restored
 * database, so the server flushes its WAL up to that commit, past every earlier commit of the
 * restore's sessions (see {@link RESTORE_SESSION_OPTIONS}).
 */
async function makeDurable(params: PostgresConnectionParams, database: string): Promise<void> {
  await withClient(clientConfig(params, database), `Flushing '${database}'`, async (client) => {
    await client.query("BEGIN");
    // Set here, whatever the server's or the connection's default: this commit must wait.
    await client.query("SET LOCAL synchronous_commit = on");
    // A transaction id makes the commit write a record, and a record's commit waits for its flush.
    await client.query("SELECT pg_catalog.txid_current()");
    await client.query("COMMIT");
  });
}

/** Drops a database a restore job created, ending its sessions (a killed pg_restore's too). */
export async function dropRestoredDatabase(
  context: LocalServiceContext,
  vault: VaultFolder,
  targetDatabaseId: string,
  secretUri: string | undefined,
  job: StoredJob,
): Promise<void> {
  const target = parseDatabaseId(targetDatabaseId);
  const instance = await vault.readRecord<BackupInstance>("backupInstances", instanceNameOf(job));
  const uri = secretUri ?? instance?.secretStore?.uri;
  const params = uri
    ? await context.options.secrets.getConnectionParams(uri)
    : context.options.directory.serverConnection(target.serverName);
  await withClient(
    clientConfig(params, "postgres"),
    `Dropping database '${target.databaseName}'`,
    (client) =>
      client.query(`DROP DATABASE IF EXISTS ${quoteIdent(target.databaseName)} WITH (FORCE)`),
  );
}

/**
 * The failure of a restore whose user may not create databases (`permission denied to create
 * database`, SQLSTATE 42501): the user's to fix, so it says how.
 */
function createDatabaseRefused(
  databaseName: string,
  params: PostgresConnectionParams,
  cause: unknown,
): AppError {
  const user = params.user ?? "the secret's user";
  return new AppError(
    ProviderErrorCodes.missingDbPermissions,
    `Restoring into '${databaseName}' needs a new database, and the user '${user}' may not create one: ${(cause as Error).message}`,
    {
      httpStatus: 400,
      cause,
      recommendedAction: `Grant the user the right to create databases (ALTER ROLE ${quoteIdent(user)} CREATEDB) or restore with a secret (secretUri) whose user has it`,
    },
  );
}
