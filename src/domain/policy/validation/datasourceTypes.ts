/** The datasource types a policy lists: one PostgreSQL kind, which sets the rules the rest follows. */
import { ErrorCodes } from "../../errorCodes.js";
import { manifestForDatasourceType, type DatasourceManifest } from "../datasources.js";
import type { PolicyProblems } from "./problems.js";

/**
 * Checks `datasourceTypes` and finds the kind the policy is for.
 *
 * @returns the manifest of the first recognised type, or `undefined` when none is recognised.
 */
export function validateDatasourceTypes(
  types: unknown,
  root: string,
  problems: PolicyProblems,
): DatasourceManifest | undefined {
  if (!Array.isArray(types) || types.length === 0) {
    problems.error(
      `${root}.datasourceTypes`,
      ErrorCodes.POLICY_DATASOURCE_TYPE_MISSING,
      "datasourceTypes must list the datasource type, e.g. Microsoft.DBforPostgreSQL/flexibleServers.",
    );
    return undefined;
  }
  let manifest: DatasourceManifest | undefined;
  types.forEach((type, i) => {
    const found = typeof type === "string" ? manifestForDatasourceType(type) : undefined;
    if (!found) {
      problems.error(
        `${root}.datasourceTypes[${i}]`,
        ErrorCodes.POLICY_DATASOURCE_TYPE_UNSUPPORTED,
        `${JSON.stringify(type)} is not a PostgreSQL datasource type; use Microsoft.DBforPostgreSQL/flexibleServers or Microsoft.DBforPostgreSQL/servers/databases.`,
      );
    } else if (manifest && manifest !== found) {
      problems.error(
        `${root}.datasourceTypes[${i}]`,
        ErrorCodes.POLICY_DATASOURCE_TYPE_MIXED,
        "A policy protects one kind of datasource; list one datasource type.",
      );
    } else {
      manifest = found;
    }
  });
  return manifest;
}

/** The retention tags a kind supports; every PostgreSQL kind's when the kind is unknown. */
export function supportedTagsOf(manifest: DatasourceManifest | undefined): readonly string[] {
  return manifest?.supportedRetentionTags ?? ["Weekly", "Monthly", "Yearly"];
}
