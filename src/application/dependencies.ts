/**
 * What the use cases need, stated by the application itself: the ports, the vaults it covers, the
 * settings it reads and the publisher of its events. The composition root builds an object of
 * this type, so the wiring depends on the application and never the other way round.
 */
import { LOCAL_KEY_VAULT_NAME } from "../domain/protection/ids.js";
import type {
  DrillHistoryPort,
  EventPublisherPort,
  JobHistoryPort,
  Provider,
} from "../providers/ports.js";
import type { JobHistorySettings } from "./jobHistory.js";
import type { LocalSchedulePort } from "./localSchedule.js";

/** Resolves vault names to ids and knows the default vault. */
export interface VaultDirectory {
  /** The configured vaults' ids. */
  readonly ids: readonly string[];
  /** The id of a vault by name (case-insensitive), or of the default vault. @throws NotFoundError */
  resolve(vaultName?: string): string;
}

/**
 * The settings the use cases read, under their names in the validated configuration (so the
 * configuration itself is one).
 */
export interface ApplicationSettings extends JobHistorySettings {
  /** The tag that asks for protection on a resource. */
  readonly AUTO_PROTECT_TAG: string;
  /** The vault auto-protection and reconciliation use; the default vault when absent. */
  readonly AUTO_PROTECT_VAULT?: string | undefined;
  /** The key vault that secrets named without one are in. */
  readonly AUTO_PROTECT_KEY_VAULT?: string | undefined;
  /** Which provider backs the app; the local one has its own secret store. */
  readonly PGPROTECT_PROVIDER: "local" | "azure";
  /** How long without a successful backup counts as stale (ISO 8601 duration). */
  readonly STALE_PROTECTION_AFTER?: string | undefined;
  /** Minutes `allDatabases` protection waits for each batch of databases. */
  readonly PROTECT_SERVER_CHILD_TIMEOUT_MINUTES?: number | undefined;
}

/** Everything the use cases need; each use case picks the part it reads. */
export interface ApplicationDependencies {
  readonly config: ApplicationSettings;
  readonly provider: Provider;
  readonly events: EventPublisherPort;
  readonly vaults: VaultDirectory;
  /** The CloudEvents `source` of this deployment. */
  readonly eventSource: string;
  /** The policy schedules the provider keeps itself (the local one); absent in Azure. */
  readonly localSchedule?: LocalSchedulePort;
  /** pgprotect's own job history; without it jobs are listed from the vaults alone. */
  readonly history?: JobHistoryPort;
  /** The record of restore drills; without it drills run and notify but are not listed. */
  readonly drills?: DrillHistoryPort;
}

/**
 * The key vault that secrets named without one are in (`AUTO_PROTECT_KEY_VAULT`), or, for the
 * local provider, its own secret store's name.
 */
export function defaultKeyVaultName(
  config: Pick<ApplicationSettings, "AUTO_PROTECT_KEY_VAULT" | "PGPROTECT_PROVIDER">,
): string | undefined {
  return (
    config.AUTO_PROTECT_KEY_VAULT ??
    (config.PGPROTECT_PROVIDER === "local" ? LOCAL_KEY_VAULT_NAME : undefined)
  );
}
