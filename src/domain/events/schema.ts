/**
 * Validation of pgprotect events as they arrive from Event Grid: the envelope and the versioned
 * payload. A handler parses before it routes, so a malformed or future-version event fails with
 * a clear code instead of producing a half-filled notification.
 */
import { z } from "zod";
import { InvalidInputError, type InputProblem } from "../errors.js";
import { monitorAlertDataSchema } from "./alertEvents.js";
import { EVENT_SCHEMA_VERSION, PgProtectEventTypes, type PgProtectEvent } from "./types.js";

const text = z.string().min(1);
const time = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { message: "expected an RFC 3339 time" });
const tags = z.record(z.string(), z.string()).optional();

const serviceError = z.object({
  code: text,
  serviceCode: z.string().optional(),
  message: z.string(),
  recommendedAction: z.array(z.string()).optional(),
  isRetryable: z.boolean().optional(),
  isUserError: z.boolean().optional(),
});

const version = z.literal(EVENT_SCHEMA_VERSION);

const jobData = z.object({
  schemaVersion: version,
  jobId: text,
  jobName: text,
  vaultName: text,
  operation: z.enum(["OnDemandBackup", "ScheduledBackup", "Restore"]),
  operationCategory: z.enum(["Backup", "Restore"]),
  isUserTriggered: z.boolean(),
  status: z.enum(["InProgress", "Completed", "Failed", "Cancelled"]),
  startTime: time,
  endTime: time.optional(),
  duration: z.string().optional(),
  backupInstanceId: text,
  backupInstanceName: text,
  datasourceId: text,
  datasourceName: text,
  datasourceType: text,
  datasourceLocation: z.string(),
  policyName: z.string().optional(),
  ruleName: z.string().optional(),
  retentionTag: z.string().optional(),
  recoveryPointId: z.string().optional(),
  recoveryDestination: z.string().optional(),
  dataTransferredInBytes: z.number().nonnegative().optional(),
  errors: z.array(serviceError),
  datasourceTags: tags,
  stuck: z.object({ reportedAt: time, expectedWithinMinutes: z.number().nonnegative() }).optional(),
});

const configuredData = z.object({
  schemaVersion: version,
  datasourceId: text,
  datasourceName: text,
  datasourceType: text,
  backupInstanceId: text,
  backupInstanceName: text,
  vaultName: text,
  policyName: z.string().optional(),
  protectionStatus: z.enum([
    "ConfiguringProtection",
    "ConfiguringProtectionFailed",
    "ProtectionConfigured",
    "ProtectionStopped",
    "SoftDeleted",
    "SoftDeleting",
    "NotProtected",
  ]),
  configuredAt: time,
  datasourceTags: tags,
});

const failedData = z.object({
  schemaVersion: version,
  datasourceId: text,
  datasourceName: text,
  datasourceType: z.string().optional(),
  vaultName: text,
  policyName: z.string().optional(),
  backupInstanceId: z.string().optional(),
  backupInstanceName: z.string().optional(),
  failedStep: z.string().optional(),
  operationId: text,
  error: serviceError,
  datasourceTags: tags,
});

const overdueData = z.object({
  schemaVersion: version,
  datasourceId: text,
  datasourceName: text,
  backupInstanceId: text,
  backupInstanceName: text,
  vaultName: text,
  policyName: z.string().optional(),
  lastSuccessfulBackupTime: time.optional(),
  expectedEvery: text,
  overdueSince: time,
  datasourceTags: tags,
});

const stuckData = z.object({
  schemaVersion: version,
  jobId: text,
  jobName: text,
  vaultName: text,
  operation: z.enum(["OnDemandBackup", "ScheduledBackup", "Restore"]),
  operationCategory: z.enum(["Backup", "Restore"]),
  startTime: time,
  backupInstanceId: text,
  backupInstanceName: text,
  datasourceId: text,
  datasourceName: text,
  datasourceType: text,
  runningMinutes: z.number().nonnegative(),
  expectedWithinMinutes: z.number().nonnegative(),
  usualP95Minutes: z.number().nonnegative().optional(),
  earlierRuns: z.number().int().nonnegative(),
  basis: z.enum(["history", "floor", "ceiling"]),
  datasourceTags: tags,
});

const anomalyData = z.object({
  schemaVersion: version,
  jobId: text,
  jobName: text,
  vaultName: text,
  operation: z.enum(["OnDemandBackup", "ScheduledBackup", "Restore"]),
  startTime: time,
  endTime: time.optional(),
  backupInstanceId: text,
  backupInstanceName: text,
  datasourceId: text,
  datasourceName: text,
  datasourceType: text,
  recoveryPointId: z.string().optional(),
  findings: z
    .array(
      z.object({
        measure: z.enum(["size", "duration"]),
        observed: z.number().nonnegative(),
        usual: z.number().nonnegative(),
        ratio: z.number().nonnegative(),
        limit: z.number().nonnegative(),
      }),
    )
    .min(1),
  earlierBackups: z.number().int().nonnegative(),
  datasourceTags: tags,
});

const lifecycleData = z.object({
  schemaVersion: version,
  action: text,
  datasourceId: text,
  datasourceName: text,
  datasourceType: z.string(),
  backupInstanceId: text,
  backupInstanceName: text,
  vaultName: text,
  policyName: z.string().optional(),
  previousPolicyName: z.string().optional(),
  protectionState: text,
  operationId: text,
  requestedBy: z.string().optional(),
  datasourceTags: tags,
});

const drillData = z.object({
  schemaVersion: version,
  drillId: text,
  verdict: z.enum(["Succeeded", "Failed"]),
  backupInstanceId: text,
  backupInstanceName: text,
  vaultName: text,
  datasourceId: text,
  datasourceName: text,
  schedule: z.string().optional(),
  requestedBy: z.string().optional(),
  recoveryPointId: z.string().optional(),
  recoveryPointTime: time.optional(),
  startTime: time,
  endTime: time,
  timeToRestoreSeconds: z.number().nonnegative().optional(),
  restoreJobId: z.string().optional(),
  verification: z
    .object({
      verified: z.boolean(),
      tables: z.number().int().nonnegative(),
      rows: z.number().int().nonnegative(),
      largeObjects: z.number().int().nonnegative(),
      mismatches: z.array(z.string()),
    })
    .optional(),
  error: serviceError.optional(),
  scratchRemoved: z.boolean(),
  datasourceTags: tags,
});

function envelopeOf<TType extends string, TData extends z.ZodType>(type: TType, data: TData) {
  return z.object({
    specversion: z.literal("1.0"),
    id: text,
    source: text,
    type: z.literal(type),
    subject: text,
    time,
    datacontenttype: z.literal("application/json"),
    dataschema: z.string(),
    data,
  });
}

/** The zod schema of every pgprotect event, discriminated by `type`. */
export const pgProtectEventSchema = z.discriminatedUnion("type", [
  envelopeOf(PgProtectEventTypes.jobStateChanged, jobData),
  envelopeOf(PgProtectEventTypes.protectionConfigured, configuredData),
  envelopeOf(PgProtectEventTypes.protectionFailed, failedData),
  envelopeOf(PgProtectEventTypes.backupOverdue, overdueData),
  envelopeOf(PgProtectEventTypes.protectionStopped, lifecycleData),
  envelopeOf(PgProtectEventTypes.protectionSuspended, lifecycleData),
  envelopeOf(PgProtectEventTypes.protectionResumed, lifecycleData),
  envelopeOf(PgProtectEventTypes.protectionPolicyChanged, lifecycleData),
  envelopeOf(PgProtectEventTypes.protectionDeleted, lifecycleData),
  envelopeOf(PgProtectEventTypes.protectionUndeleted, lifecycleData),
  envelopeOf(PgProtectEventTypes.jobStuck, stuckData),
  envelopeOf(PgProtectEventTypes.backupAnomaly, anomalyData),
  envelopeOf(PgProtectEventTypes.drillSucceeded, drillData),
  envelopeOf(PgProtectEventTypes.drillFailed, drillData),
  envelopeOf(PgProtectEventTypes.alertJobFailed, monitorAlertDataSchema),
  envelopeOf(PgProtectEventTypes.alertSecurity, monitorAlertDataSchema),
]);

/** Whether a CloudEvent `type` is one of pgprotect's. */
export function isPgProtectEventType(type: unknown): boolean {
  return (
    typeof type === "string" && (Object.values(PgProtectEventTypes) as string[]).includes(type)
  );
}

/**
 * Validates an incoming CloudEvent.
 *
 * @throws InvalidInputError `EVENT_TYPE_UNKNOWN` for a type pgprotect does not publish,
 * `EVENT_SCHEMA_UNSUPPORTED` for a payload version it does not know, `EVENT_INVALID` with
 * every problem for anything else.
 */
export function parsePgProtectEvent(value: unknown): PgProtectEvent {
  const record =
    typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  if (!isPgProtectEventType(record["type"])) {
    throw new InvalidInputError(
      "EVENT_TYPE_UNKNOWN",
      `'${String(record["type"])}' is not a pgprotect event type`,
      [
        {
          path: "$.type",
          code: "EVENT_TYPE_UNKNOWN",
          message: `expected one of ${Object.values(PgProtectEventTypes).join(", ")}`,
        },
      ],
    );
  }
  const data = record["data"];
  const schemaVersion =
    typeof data === "object" && data !== null
      ? (data as Record<string, unknown>)["schemaVersion"]
      : undefined;
  if (schemaVersion !== EVENT_SCHEMA_VERSION) {
    throw new InvalidInputError(
      "EVENT_SCHEMA_UNSUPPORTED",
      `Event data version ${String(schemaVersion)} is not supported`,
      [
        {
          path: "$.data.schemaVersion",
          code: "EVENT_SCHEMA_UNSUPPORTED",
          message: `expected ${EVENT_SCHEMA_VERSION}`,
        },
      ],
    );
  }
  const result = pgProtectEventSchema.safeParse(value);
  if (result.success) return result.data as PgProtectEvent;
  const problems: InputProblem[] = result.error.issues.map((issue) => ({
    path: `$${issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("")}`,
    code: "EVENT_INVALID",
    message: issue.message,
  }));
  throw new InvalidInputError("EVENT_INVALID", `Invalid ${String(record["type"])} event`, problems);
}
