/**
 * Jobs, backup instances and events as the notification tests need them, shaped like the
 * service's: ARM ids under a subscription, a vault, a Flexible Server database.
 */
import {
  backupAnomalyEvent,
  backupOverdueEvent,
  jobStateChangedEvent,
  jobStuckEvent,
  protectionConfiguredEvent,
  protectionFailedEvent,
} from "../../src/domain/events/builders.js";
import type { JobStateChangedEvent, PgProtectEvent } from "../../src/domain/events/types.js";
import {
  notificationSettingsSchema,
  type NotificationSettings,
} from "../../src/domain/notifications/rules.js";
import type {
  BackupInstance,
  BackupJob,
  ServiceErrorDetail,
} from "../../src/domain/protection/types.js";

export const SUBSCRIPTION =
  "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-data";
export const VAULT_ID = `${SUBSCRIPTION}/providers/Microsoft.DataProtection/backupVaults/vault-prod`;
export const SOURCE = "/pgprotect/test";

/** A database datasource id of a server. */
export function databaseId(server = "pg-orders", database = "orders"): string {
  return `${SUBSCRIPTION}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${server}/databases/${database}`;
}

/** The error the service reports when the vault lacks a role on the server, as pgprotect states it. */
export const missingPermissions: ServiceErrorDetail = {
  code: "MISSING_REQUIRED_PERMISSIONS",
  serviceCode: "UserErrorMissingRequiredPermissions",
  message: "Backup vault does not have the required permissions on the PostgreSQL server.",
  recommendedAction: [
    "Assign the 'PostgreSQL Flexible Server Long Term Retention Backup Role' to the vault's managed identity.",
  ],
  isRetryable: false,
  isUserError: true,
};

/** A job; `overrides` change any field. */
export function backupJob(overrides: Partial<BackupJob> = {}): BackupJob {
  const name = overrides.name ?? "6f1c2d3e-0000-4000-8000-000000000001";
  return {
    id: `${VAULT_ID}/backupJobs/${name}`,
    name,
    vaultName: "vault-prod",
    operation: "OnDemandBackup",
    operationCategory: "Backup",
    isUserTriggered: true,
    status: "Completed",
    startTime: "2026-11-20T22:00:00Z",
    endTime: "2026-11-20T22:03:25Z",
    duration: "PT3M25S",
    backupInstanceId: `${VAULT_ID}/backupInstances/pg-orders-orders-1234`,
    backupInstanceFriendlyName: "pg-orders/orders",
    dataSourceId: databaseId(),
    dataSourceName: "orders",
    dataSourceType: "Microsoft.DBforPostgreSQL/servers/databases",
    dataSourceLocation: "westeurope",
    policyName: "weekly-10y",
    ruleName: "BackupWeekly",
    retentionTag: "Default",
    dataTransferredInBytes: 1_610_612_736,
    ...overrides,
  };
}

/** A failed job with the given error message. */
export function failedJob(
  message = missingPermissions.message,
  overrides: Partial<BackupJob> = {},
): BackupJob {
  return backupJob({
    status: "Failed",
    errorDetails: [{ ...missingPermissions, message }],
    dataTransferredInBytes: undefined,
    ...overrides,
  });
}

/** A protected backup instance. */
export function backupInstance(overrides: Partial<BackupInstance> = {}): BackupInstance {
  return {
    id: `${VAULT_ID}/backupInstances/pg-orders-orders-1234`,
    name: "pg-orders-orders-1234",
    friendlyName: "pg-orders/orders",
    vaultName: "vault-prod",
    dataSourceInfo: {
      resourceId: databaseId(),
      datasourceType: "Microsoft.DBforPostgreSQL/servers/databases",
      resourceName: "orders",
      resourceType: "Microsoft.DBforPostgreSQL/servers/databases",
      resourceLocation: "westeurope",
    },
    policyId: `${VAULT_ID}/backupPolicies/weekly-10y`,
    protectionStatus: "ProtectionConfigured",
    provisioningState: "Succeeded",
    createdAt: "2026-11-20T21:00:00Z",
    ...overrides,
  };
}

/** A job event. */
export function jobEvent(
  job: BackupJob = backupJob(),
  tags?: Record<string, string>,
): JobStateChangedEvent {
  return jobStateChangedEvent(job, { source: SOURCE, ...(tags ? { datasourceTags: tags } : {}) });
}

/** One event of every type. */
export function oneOfEach(): PgProtectEvent[] {
  return [
    jobEvent(),
    protectionConfiguredEvent(backupInstance(), { source: SOURCE }),
    protectionFailedEvent(
      {
        datasourceId: databaseId(),
        vaultName: "vault-prod",
        policyName: "weekly-10y",
        operationId: "op-1",
        failedStep: "validateForBackup",
        error: missingPermissions,
      },
      { source: SOURCE, time: "2026-11-20T21:05:00Z" },
    ),
    backupOverdueEvent(
      {
        instance: backupInstance(),
        expectedEvery: "P1W",
        overdueSince: "2026-11-27T22:00:00Z",
        lastSuccessfulBackupTime: "2026-11-20T22:03:25Z",
      },
      { source: SOURCE, time: "2026-11-28T00:00:00Z" },
    ),
    jobStuckEvent(
      {
        job: backupJob({ status: "InProgress", endTime: undefined, duration: undefined }),
        detectedAt: "2026-11-20T23:40:00Z",
        runningMinutes: 100,
        expectedWithinMinutes: 30,
        usualP95Minutes: 4,
        earlierRuns: 12,
        basis: "floor",
      },
      { source: SOURCE },
    ),
    backupAnomalyEvent(
      {
        job: backupJob({ dataTransferredInBytes: 52_428_800 }),
        findings: [
          {
            measure: "size",
            observed: 52_428_800,
            usual: 1_610_612_736,
            ratio: 0.0326,
            limit: 0.5,
          },
        ],
        earlierBackups: 12,
      },
      { source: SOURCE },
    ),
  ];
}

/** Settings with one Teams and one email channel; `overrides` replace top-level keys. */
export function settings(overrides: Record<string, unknown> = {}): NotificationSettings {
  return notificationSettingsSchema.parse({
    channels: [
      { id: "ops-teams", type: "teams", webhookUrlSetting: "TEAMS_OPS_WEBHOOK_URL" },
      {
        id: "dba-email",
        type: "email",
        to: ["dba@contoso.example"],
        cc: ["oncall@contoso.example"],
      },
    ],
    rules: [{ name: "everything", channels: ["ops-teams", "dba-email"] }],
    links: {
      jobUrlTemplate: "https://portal.example/jobs?vault={vaultName}&job={jobName}",
      resourceUrlTemplate: "https://portal.example/#resource{resourceId}",
    },
    ...overrides,
  });
}
