/**
 * Backup instances across vaults and subscriptions through Azure Resource Graph, the way
 * `az dataprotection backup-instance list-from-resourcegraph` asks: `RecoveryServicesResources`
 * rows of type `microsoft.dataprotection/backupvaults/backupinstances`.
 */
import type { ProtectedItem, ProtectedItemPort } from "../ports.js";
import type { ResourceGraphClient } from "./resourceGraph.js";

/** The query: each instance's id, its datasource and its protection status. */
export const PROTECTED_ITEMS_QUERY =
  "RecoveryServicesResources | where type =~ 'microsoft.dataprotection/backupvaults/backupinstances'" +
  " | project id, datasourceId = tostring(properties.dataSourceInfo.resourceID)," +
  " protectionStatus = tostring(properties.protectionStatus.status)" +
  " | order by id asc";

interface ProtectedItemRow {
  readonly id?: string;
  readonly datasourceId?: string;
  readonly protectionStatus?: string;
}

/** {@link ProtectedItemPort} over Resource Graph. */
export class ResourceGraphProtectedItems implements ProtectedItemPort {
  constructor(private readonly graph: ResourceGraphClient) {}

  async listProtectedItems(subscriptions: readonly string[]): Promise<ProtectedItem[]> {
    if (subscriptions.length === 0) return [];
    const unique = [...new Set(subscriptions.map((s) => s.toLowerCase()))];
    const rows = await this.graph.query<ProtectedItemRow>(
      unique,
      PROTECTED_ITEMS_QUERY,
      "Listing backup instances in Resource Graph",
    );
    return rows
      .filter((row) => row.id && row.datasourceId)
      .map((row) => ({
        backupInstanceId: row.id ?? "",
        datasourceId: row.datasourceId ?? "",
        protectionStatus: row.protectionStatus ?? "",
      }));
  }
}
