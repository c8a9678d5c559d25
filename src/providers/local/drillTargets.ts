/**
 * The local provider's scratch targets for restore drills: a database of a reserved name
 * (`pgprotect_drill_...`, see `domain/drills/drill.ts`) on the protected database's own server,
 * restored into by the vault's ordinary restore (which checks the recovery point's files first and
 * verifies the restored data against the dump), and dropped afterwards.
 */
import { AppError } from "../../domain/errors.js";
import { isScratchDatabaseName, SCRATCH_DATABASE_PREFIX } from "../../domain/drills/drill.js";
import { formatDatabaseId, parseDatabaseId } from "../../domain/protection/ids.js";
import { FLEXIBLE_SERVER_DATASOURCE_TYPE } from "../../domain/protection/naming.js";
import type { DrillTargetPort, JobReference } from "../ports.js";
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
  ): Promise<JobReference> {
    if (!isScratchDatabaseName(scratchName)) {
      // Only a reserved name may be dropped by a later sweep: anything else is refused here.
      throw new AppError(
        "RESTORE_TARGET_INVALID",
        `'${scratchName}' is not a drill's scratch name (${SCRATCH_DATABASE_PREFIX}...)`,
        { httpStatus: 400 },
      );
    }
    const instance = await this.#backup.getBackupInstance(vaultId, backupInstanceName);
    if (instance.dataSourceInfo.datasourceType === FLEXIBLE_SERVER_DATASOURCE_TYPE) {
      throw new AppError(
        "DRILL_NOT_SUPPORTED",
        `'${instance.friendlyName}' is a whole server, restored as files only; the local provider drills databases`,
        {
          httpStatus: 501,
          recommendedAction: "Drill the server's databases, protected one by one",
        },
      );
    }
    const source = parseDatabaseId(instance.dataSourceInfo.resourceId);
    return this.#backup.triggerRestore(vaultId, backupInstanceName, {
      recoveryPointId,
      target: {
        kind: "database",
        targetDatabaseId: formatDatabaseId({ ...source, databaseName: scratchName }),
      },
    });
  }

  /** @inheritdoc */
  async removeScratchTargets(request: {
    readonly scratchName?: string;
    readonly keep?: readonly string[];
  }): Promise<string[]> {
    const keep = new Set(request.keep ?? []);
    const removed: string[] = [];
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
            if (
              request.scratchName !== undefined
                ? datname !== request.scratchName
                : keep.has(datname)
            )
              continue;
            // FORCE: a pg_restore cut off by a crash may still hold a session.
            await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
            removed.push(datname);
          }
        },
      );
    }
    return removed;
  }
}
