/**
 * The local provider's scratch targets for restore drills: a database of a reserved name
 * (`pgprotect_drill_...`, see `domain/drills/drill.ts`) on the protected database's own server,
 * restored into by the vault's ordinary restore (which checks the recovery point's files first and
 * verifies the restored data against the dump), and dropped afterwards. A whole server's drill
 * restores each database of the recovery point into its own scratch database, by its own job.
 */
import { AppError } from "../../domain/errors.js";
import {
  belongsToScratchTarget,
  databaseScratchName,
  drillScratchTargetOf,
  isScratchDatabaseName,
  SCRATCH_DATABASE_PREFIX,
} from "../../domain/drills/drill.js";
import { formatDatabaseId, parseDatabaseId, parseServerId } from "../../domain/protection/ids.js";
import { FLEXIBLE_SERVER_DATASOURCE_TYPE } from "../../domain/protection/naming.js";
import type {
  DrillTargetPort,
  JobReference,
  RestoreToDatabaseTarget,
  ScratchRestoreStarted,
} from "../ports.js";
import type { LocalBackupService } from "./localBackupService.js";
import { clientConfig, quoteIdent, withClient } from "./pgConnection.js";
import type { LocalResourceDirectory } from "./resourceDirectory.js";

/** Scratch databases on the local provider's servers. */
export class LocalDrillTargets implements DrillTargetPort {
  readonly #backup: LocalBackupService;
  readonly #directory: LocalResourceDirectory;

  constructor(backup: LocalBackupService, directory: LocalResourceDirectory) {
    this.#backup = backup;
    this.#directory = directory;
  }

  /** @inheritdoc */
  async startScratchRestore(
    vaultId: string,
    backupInstanceName: string,
    recoveryPointId: string,
    scratchName: string,
  ): Promise<ScratchRestoreStarted> {
    if (!isScratchDatabaseName(scratchName)) {
      // Only a reserved name may be dropped by a later sweep: anything else is refused here.
      throw new AppError(
        "RESTORE_TARGET_INVALID",
        `'${scratchName}' is not a drill's scratch name (${SCRATCH_DATABASE_PREFIX}...)`,
        { httpStatus: 400 },
      );
    }
    const instance = await this.#backup.getBackupInstance(vaultId, backupInstanceName);
    const datasourceId = instance.dataSourceInfo.resourceId;
    if (instance.dataSourceInfo.datasourceType !== FLEXIBLE_SERVER_DATASOURCE_TYPE) {
      const source = parseDatabaseId(datasourceId);
      const restoreOnce = await this.#restorer(vaultId, backupInstanceName, recoveryPointId);
      return restoreOnce({
        kind: "database",
        targetDatabaseId: formatDatabaseId({ ...source, databaseName: scratchName }),
      });
    }
    // A whole server: every database of the recovery point into its own scratch database, each
    // by its own job; the jobs wait for slots of the server as its backups' dumps do.
    const point = (await this.#backup.listRecoveryPoints(vaultId, backupInstanceName)).find(
      (p) => p.recoveryPointId === recoveryPointId.split("/").pop(),
    );
    if (!point) {
      throw new AppError(
        "RECOVERY_POINT_NOT_FOUND",
        `The backup instance '${instance.friendlyName}' has no recovery point '${recoveryPointId}'`,
        { httpStatus: 404 },
      );
    }
    const server = parseServerId(datasourceId);
    const restoreOnce = await this.#restorer(vaultId, backupInstanceName, recoveryPointId);
    const databases = [];
    for (const file of point.files) {
      const scratchTarget = databaseScratchName(scratchName, file.databaseName);
      const { jobId } = await restoreOnce({
        kind: "database",
        targetDatabaseId: formatDatabaseId({ ...server, databaseName: scratchTarget }),
        sourceDatabaseName: file.databaseName,
      });
      databases.push({ databaseName: file.databaseName, scratchTarget, jobId });
    }
    return { databases };
  }

  /**
   * What starts the restore of the recovery point into a target, or answers the job that restores
   * into it already: a step retried after a crash (its answer lost) must not start a second
   * restore into the same scratch database, which would find it taken and fail. The vault's jobs
   * are read once here, however many databases a server has.
   */
  async #restorer(
    vaultId: string,
    backupInstanceName: string,
    recoveryPointId: string,
  ): Promise<(target: RestoreToDatabaseTarget) => Promise<JobReference>> {
    const pointId = recoveryPointId.split("/").pop();
    const earlier = new Map<string, string>();
    for (const job of await this.#backup.listJobs(vaultId, {
      backupInstanceName,
      operation: ["Restore"],
    })) {
      const destination = job.recoveryDestination?.toLowerCase();
      if (destination !== undefined && job.recoveryPointId === pointId && !earlier.has(destination))
        earlier.set(destination, job.id);
    }
    return async (target) => {
      const jobId = earlier.get(target.targetDatabaseId.toLowerCase());
      if (jobId !== undefined) return { jobId };
      return this.#backup.triggerRestore(vaultId, backupInstanceName, { recoveryPointId, target });
    };
  }

  /** @inheritdoc */
  async removeScratchTargets(request: {
    readonly scratchName?: string;
    readonly keep?: readonly string[];
  }): Promise<string[]> {
    const keep = request.keep ?? [];
    const removed = new Set<string>();
    for (const server of await this.#directory.listServers()) {
      const admin = clientConfig(this.#directory.serverConnection(server.name), "postgres");
      await withClient(
        admin,
        `Removing drill scratch databases of '${server.name}'`,
        async (client) => {
          const rows = (
            await client.query<{ datname: string }>(
              "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
              [SCRATCH_DATABASE_PREFIX],
            )
          ).rows;
          for (const { datname } of rows) {
            // A whole server's drill has a scratch database per database, named after its own.
            const doomed =
              request.scratchName !== undefined
                ? belongsToScratchTarget(datname, request.scratchName)
                : !keep.some((kept) => belongsToScratchTarget(datname, kept));
            if (!doomed) continue;
            // FORCE: a pg_restore cut off by a crash may still hold a session.
            await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
            removed.add(drillScratchTargetOf(datname) ?? datname);
          }
        },
      );
    }
    return [...removed];
  }
}
