/** The default policy templates (`get-default-policy-template`). */
import { manifestForKind } from "./datasources.js";
import type { BackupPolicy } from "./types.js";

/**
 * The service's default policy for a datasource kind: a weekly full backup to VaultStore every
 * Sunday 06:30 UTC, every backup tagged Default (priority 99) and kept for three months.
 *
 * @param kind - `AzureDatabaseForPostgreSQL` or `AzureDatabaseForPostgreSQLFlexibleServer`.
 * @throws InvalidInputError for any other kind.
 */
export function defaultPolicyTemplate(kind: string): BackupPolicy {
  const manifest = manifestForKind(kind);
  return {
    datasourceTypes: [manifest.datasourceType],
    name: manifest.templateName,
    objectType: "BackupPolicy",
    policyRules: [
      {
        backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
        dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
        name: "BackupWeekly",
        objectType: "AzureBackupRule",
        trigger: {
          objectType: "ScheduleBasedTriggerContext",
          schedule: {
            repeatingTimeIntervals: ["R/2021-08-15T06:30:00+00:00/P1W"],
            timeZone: "UTC",
          },
          taggingCriteria: [
            {
              isDefault: true,
              tagInfo: { id: "Default_", tagName: "Default" },
              taggingPriority: 99,
            },
          ],
        },
      },
      {
        isDefault: true,
        lifecycles: [
          {
            deleteAfter: { duration: "P3M", objectType: "AbsoluteDeleteOption" },
            sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
            targetDataStoreCopySettings: [],
          },
        ],
        name: "Default",
        objectType: "AzureRetentionRule",
      },
    ],
  };
}
