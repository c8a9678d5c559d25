/**
 * The embedded local provider: a Backup vault service backed by `pg_dump`, the local secret store
 * and the local resource directory, behind the same ports as the Azure provider.
 */
import path from "node:path";
import type { Config } from "../../config.js";
import { ConfigurationError } from "../../domain/errors.js";
import { consoleEventLogger } from "../../observability/consoleLogger.js";
import { logEvents } from "../../observability/logEvents.js";
import type { ResourceScope } from "../../domain/protection/ids.js";
import { parseLocalServerList } from "../../domain/protection/localServers.js";
import type { Provider } from "../ports.js";
import type { PostgresConnectionParams } from "../../domain/protection/connectionString.js";
import { LocalDrillTargets } from "./drillTargets.js";
import { localHealthCheck } from "./health.js";
import { LocalBackupService } from "./localBackupService.js";
import { postgresBinDir, startPostgresCluster, type PostgresCluster } from "./postgresCluster.js";
import { LocalResourceDirectory, type LocalServerConfig } from "./resourceDirectory.js";
import { LocalSecretStore } from "./secretStore.js";
import { createLocalServiceLimitFacts } from "./serviceLimitFacts.js";
import { localVaultSettings } from "./vaultSettings.js";

export { LocalBackupService, type BackupRunRequest } from "./localBackupService.js";
export { LocalResourceDirectory, type LocalServerConfig } from "./resourceDirectory.js";
export { LocalSecretStore } from "./secretStore.js";
export {
  LocalScheduler,
  runLocalScheduleTick,
  type LocalSchedulerOptions,
  type ScheduleTickReport,
} from "./scheduler.js";

/** Name of the server built from `DATABASE_URL` or the private cluster. */
export const LOCAL_SERVER_NAME = "local";

/** Options of {@link createLocalProvider}. */
export interface LocalProviderOptions {
  /** State folder: vaults, secrets, the directory's change log. */
  readonly stateDir: string;
  readonly servers: readonly LocalServerConfig[];
  /** Folder of `pg_dump`/`pg_restore`/`psql`; found through `pg_config` when absent. */
  readonly binDir?: string;
  readonly now?: () => Date;
  /** Bytes all recovery points of one vault may take. */
  readonly vaultCapacityBytes?: number;
  /** Key Vault name in the URIs of new secrets. */
  readonly keyVaultName?: string;
  /** Called with the pid of each `pg_dump` started. */
  readonly onDumpStarted?: (jobId: string, pid: number) => void;
  /** Most parallel jobs of a dump or restore; as many as the cores when absent. */
  readonly parallelJobs?: number;
  /** `pg_dump -Z` level, 0-9; pg_dump's default when absent. */
  readonly compressionLevel?: number;
  /** Bytes from which a table counts towards a parallel dump; 16 MiB when absent. */
  readonly parallelTableMinBytes?: number;
  /** The cores that bound parallel jobs; the machine's when absent. */
  readonly cpuCount?: number;
  /**
   * Most databases of one server dumped at a time (`LOCAL_BACKUP_CONCURRENCY`); two per core
   * when absent.
   */
  readonly databasesAtOnce?: number;
  /** Subscription and resource group in the ids of vaults and what they hold. */
  readonly scope?: ResourceScope;
  /** Folders a restore as files may write under; `<stateDir>/restores` when absent. */
  readonly restoreFolders?: readonly string[];
  /** Rewrites connection parameters read from secrets (see {@link privateClusterEndpoint}). */
  readonly resolveEndpoint?: (params: PostgresConnectionParams) => PostgresConnectionParams;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * Points connection parameters that name the private cluster at its current port: a loopback
 * host with the cluster's own superuser and password, at any port. Secrets written before the
 * cluster kept its port (or before it moved, e.g. with LOCAL_POSTGRES_PORT) keep working; any
 * other connection string is left as it is.
 */
export function privateClusterEndpoint(
  cluster: Pick<PostgresCluster, "port" | "user" | "password">,
): (params: PostgresConnectionParams) => PostgresConnectionParams {
  return (params) => {
    const namesCluster =
      cluster.password !== undefined &&
      params.password === cluster.password &&
      params.user === cluster.user &&
      params.host !== undefined &&
      LOOPBACK_HOSTS.has(params.host.toLowerCase());
    return namesCluster && params.port !== cluster.port
      ? { ...params, host: "127.0.0.1", port: cluster.port }
      : params;
  };
}

/** The local provider's ports, with their local-only extras (scheduler hooks, secret writes, tagging). */
export interface LocalProvider extends Provider {
  readonly backup: LocalBackupService;
  readonly secrets: LocalSecretStore;
  readonly directory: LocalResourceDirectory;
}

/** Builds the local provider over existing servers. */
export async function createLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const stateDir = path.resolve(options.stateDir);
  const now = options.now;
  const secrets = new LocalSecretStore({
    stateDir,
    ...(options.keyVaultName ? { vaultName: options.keyVaultName } : {}),
    ...(now ? { now } : {}),
    ...(options.resolveEndpoint ? { resolveEndpoint: options.resolveEndpoint } : {}),
  });
  const directory = new LocalResourceDirectory({
    stateDir,
    servers: options.servers,
    ...(now ? { now } : {}),
  });
  const backup = new LocalBackupService({
    stateDir,
    secrets,
    directory,
    binDir: options.binDir ?? (await postgresBinDir()),
    ...(now ? { now } : {}),
    ...(options.vaultCapacityBytes !== undefined
      ? { vaultCapacityBytes: options.vaultCapacityBytes }
      : {}),
    ...(options.onDumpStarted ? { onDumpStarted: options.onDumpStarted } : {}),
    ...(options.parallelJobs !== undefined ? { parallelJobs: options.parallelJobs } : {}),
    ...(options.compressionLevel !== undefined
      ? { compressionLevel: options.compressionLevel }
      : {}),
    ...(options.parallelTableMinBytes !== undefined
      ? { parallelTableMinBytes: options.parallelTableMinBytes }
      : {}),
    ...(options.cpuCount !== undefined ? { cpuCount: options.cpuCount } : {}),
    ...(options.databasesAtOnce !== undefined ? { databasesAtOnce: options.databasesAtOnce } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.restoreFolders ? { restoreFolders: options.restoreFolders } : {}),
  });
  return {
    backup,
    secrets,
    directory,
    lifecycle: backup.lifecycle,
    vaultSettings: localVaultSettings,
    health: localHealthCheck(options.servers),
    limits: createLocalServiceLimitFacts(options.servers, secrets, options.resolveEndpoint),
    drills: new LocalDrillTargets(backup, directory),
  };
}

/** A started local provider and, when one was needed, its private cluster. */
export interface StartedLocalProvider {
  readonly provider: LocalProvider;
  readonly cluster: PostgresCluster | undefined;
  /** Waits for running jobs, then stops the private cluster. */
  close(): Promise<void>;
}

/**
 * Starts the local provider from the settings: the servers of `LOCAL_POSTGRES_SERVERS`, else the
 * server of `DATABASE_URL` (named `local`), else a private cluster under
 * `<PGPROTECT_STATE_DIR>/postgres` (named `local`, on the port of its previous run or
 * `LOCAL_POSTGRES_PORT`) that stops when the process exits.
 */
export async function startLocalProvider(
  config: Pick<Config, "PGPROTECT_STATE_DIR" | "DATABASE_URL" | "LOCAL_POSTGRES_SERVERS"> &
    Partial<
      Pick<
        Config,
        | "LOCAL_RESTORE_FOLDERS"
        | "LOCAL_POSTGRES_PORT"
        | "LOCAL_STOP_GRACE_SECONDS"
        | "LOCAL_BACKUP_PARALLEL_JOBS"
        | "LOCAL_BACKUP_COMPRESSION"
        | "LOCAL_BACKUP_CONCURRENCY"
      >
    >,
): Promise<StartedLocalProvider> {
  const stateDir = path.resolve(config.PGPROTECT_STATE_DIR);
  let cluster: PostgresCluster | undefined;
  let servers: LocalServerConfig[];
  if (config.LOCAL_POSTGRES_SERVERS) {
    const { servers: entries, problems } = parseLocalServerList(config.LOCAL_POSTGRES_SERVERS);
    if (problems.length > 0)
      throw new ConfigurationError("Invalid LOCAL_POSTGRES_SERVERS", problems);
    servers = entries.map((e) => ({
      name: e.name,
      kind: e.kind,
      connectionString: e.connectionString,
    }));
  } else if (config.DATABASE_URL) {
    servers = [{ name: LOCAL_SERVER_NAME, connectionString: config.DATABASE_URL }];
  } else {
    cluster = await startPostgresCluster({
      folder: path.join(stateDir, "postgres"),
      ...(config.LOCAL_POSTGRES_PORT === undefined ? {} : { port: config.LOCAL_POSTGRES_PORT }),
    });
    cluster.stopOnExit();
    servers = [{ name: LOCAL_SERVER_NAME, connectionString: cluster.connectionUrl() }];
  }
  const provider = await createLocalProvider({
    stateDir,
    servers,
    ...(cluster
      ? { binDir: cluster.binDir, resolveEndpoint: privateClusterEndpoint(cluster) }
      : {}),
    ...(config.LOCAL_RESTORE_FOLDERS ? { restoreFolders: config.LOCAL_RESTORE_FOLDERS } : {}),
    ...(config.LOCAL_BACKUP_PARALLEL_JOBS !== undefined
      ? { parallelJobs: config.LOCAL_BACKUP_PARALLEL_JOBS }
      : {}),
    ...(config.LOCAL_BACKUP_COMPRESSION !== undefined
      ? { compressionLevel: config.LOCAL_BACKUP_COMPRESSION }
      : {}),
    ...(config.LOCAL_BACKUP_CONCURRENCY !== undefined
      ? { databasesAtOnce: config.LOCAL_BACKUP_CONCURRENCY }
      : {}),
  });
  // Work a stop or a crash cut off runs again now, not at the first request that touches its
  // vault; requests to a vault wait for its recovery.
  void provider.backup.recoverInterruptedJobs().catch((error: unknown) => {
    consoleEventLogger().emit(logEvents.localRecoveryFailed, {
      errorMessage: (error as Error).message,
    });
  });
  return {
    provider,
    cluster,
    async close() {
      // Bounded: what does not end in time is stopped and runs again at the next start.
      await provider.backup.drain({ graceMs: (config.LOCAL_STOP_GRACE_SECONDS ?? 30) * 1000 });
      await cluster?.stop();
    },
  };
}
