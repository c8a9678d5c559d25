/**
 * What the service allows per PostgreSQL datasource kind: the policy settings of the Azure CLI's
 * manifests for `AzureDatabaseForPostgreSQL` and `AzureDatabaseForPostgreSQLFlexibleServer`.
 */
import { InvalidInputError } from "../errors.js";
import type { BackupPolicy, DataStoreType, DatasourceKind, RetentionTagName } from "./types.js";

/** How often a backup rule may run. */
export type BackupFrequency = "Hourly" | "Daily" | "Weekly";

/** Policy rules of one datasource kind. */
export interface DatasourceManifest {
  /** The CLI's name, e.g. `AzureDatabaseForPostgreSQLFlexibleServer`. */
  readonly kind: DatasourceKind;
  /** The ARM resource type in `datasourceTypes`. */
  readonly datasourceType: string;
  /** Name of the default policy template. */
  readonly templateName: string;
  readonly supportedRetentionTags: readonly Exclude<RetentionTagName, "Default">[];
  readonly supportedDatastoreTypes: readonly DataStoreType[];
  readonly supportedBackupFrequency: readonly BackupFrequency[];
  /** Whether the unit of protection is a whole server (one backup per week, as the service enforces). */
  readonly wholeServer: boolean;
}

/** The manifests, by kind. */
export const datasourceManifests: Readonly<Record<DatasourceKind, DatasourceManifest>> = {
  AzureDatabaseForPostgreSQL: {
    kind: "AzureDatabaseForPostgreSQL",
    datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    templateName: "OssPolicy1",
    supportedRetentionTags: ["Weekly", "Monthly", "Yearly"],
    supportedDatastoreTypes: ["VaultStore", "ArchiveStore"],
    supportedBackupFrequency: ["Weekly"],
    wholeServer: false,
  },
  AzureDatabaseForPostgreSQLFlexibleServer: {
    kind: "AzureDatabaseForPostgreSQLFlexibleServer",
    datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
    templateName: "OssFlexiblePolicy1",
    supportedRetentionTags: ["Weekly", "Monthly", "Yearly"],
    supportedDatastoreTypes: ["VaultStore", "ArchiveStore"],
    supportedBackupFrequency: ["Weekly"],
    wholeServer: true,
  },
};

/** Every supported datasource kind. */
export const datasourceKinds = Object.keys(datasourceManifests) as DatasourceKind[];

/** The manifest for a kind name, or an error naming the kinds that exist. */
export function manifestForKind(kind: string, where = "--datasource-type"): DatasourceManifest {
  const manifest = datasourceManifests[kind as DatasourceKind];
  if (manifest) return manifest;
  const message = `'${kind}' is not a supported datasource type; use one of ${datasourceKinds.join(", ")}`;
  throw new InvalidInputError("POLICY_DATASOURCE_TYPE_UNSUPPORTED", `${where}: ${message}`, [
    { path: where, code: "POLICY_DATASOURCE_TYPE_UNSUPPORTED", message },
  ]);
}

/** The manifest for an ARM datasource type such as `Microsoft.DBforPostgreSQL/flexibleServers`. */
export function manifestForDatasourceType(datasourceType: string): DatasourceManifest | undefined {
  const wanted = datasourceType.toLowerCase();
  return Object.values(datasourceManifests).find((m) => m.datasourceType.toLowerCase() === wanted);
}

/** The manifest a policy is for, judged by its first datasource type. */
export function manifestForPolicy(policy: BackupPolicy): DatasourceManifest | undefined {
  const first = policy.datasourceTypes?.[0];
  return first === undefined ? undefined : manifestForDatasourceType(first);
}
