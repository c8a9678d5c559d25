/**
 * A datasource as protection names it and as it is found: the shapes the use cases, the
 * activities and the orchestrations share.
 */

/** How a caller names a datasource: its ARM id, or server (and database) names. */
export interface DatasourceRef {
  readonly datasourceId?: string;
  readonly serverName?: string;
  readonly databaseName?: string;
}

/** A datasource found in the resource directory. */
export interface ResolvedDatasource {
  readonly datasourceId: string;
  /** `database`: one database protected alone; `server`: a whole Flexible Server. */
  readonly kind: "database" | "server";
  readonly datasourceType: string;
  readonly serverName: string;
  readonly databaseName?: string;
  readonly friendlyName: string;
  readonly location: string;
  readonly tags: Readonly<Record<string, string>>;
}
