/**
 * The OpenAPI 3.1 document of pgprotect's HTTP API, served at `/api/openapi.json`. Request bodies
 * that the handlers check with zod are described from those same schemas, so the document and the
 * checks cannot drift apart; a test holds every registered route to the document and back.
 */
import { z } from "zod";
import { startBackupBody, startProtectionBody, startRestoreBody } from "./protectionRequests.js";
import { jobPageSize } from "./jobRequests.js";
import { commonAlertSchema } from "../domain/alerts/commonAlertSchema.js";
import { changePolicyBody, stopProtectionBody } from "./lifecycleRequests.js";
import { lifecycleActions } from "../domain/protection/lifecycle.js";
import { simulatePolicyBody } from "./policyRequests.js";
import { policySpecSchema } from "../domain/policy/spec.js";
import { errorCatalogue, type ErrorCode, type ErrorCodeEntry } from "../domain/errorCodes.js";
import { vaultPostureSchemas } from "./vaultPostureSchemas.js";

type Schema = Record<string, unknown>;

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses) for a zod schema's accepted input. */
function fromZod(schema: z.ZodType): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: "any",
  }) as Schema;
  return rest;
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/**
 * The catalogue of error codes as a schema: an `enum` for tools that generate types, and one
 * `const` per code with its meaning (and HTTP status) for readers.
 */
function errorCodeSchema(): Schema {
  const entries = Object.entries(errorCatalogue) as [ErrorCode, ErrorCodeEntry][];
  return {
    description:
      "A code of pgprotect's catalogue of error codes, each with its meaning and usual HTTP status. Codes may be added, never reworded; where the failure came from Azure, the service's own code travels beside as `serviceCode`.",
    type: "string",
    enum: entries.map(([code]) => code),
    oneOf: entries.map(([code, entry]) => ({
      const: code,
      description:
        entry.httpStatus === undefined
          ? entry.meaning
          : `${entry.meaning} (HTTP ${entry.httpStatus})`,
    })),
  };
}
const text = { type: "string" } as const;
const nullableText = { type: ["string", "null"] } as const;
const instant = { type: "string", format: "date-time" } as const;
const nullableInstant = { type: ["string", "null"], format: "date-time" } as const;
/** The policy an item is protected with. */
const policyReference: Schema = {
  type: "object",
  required: ["name", "id"],
  properties: { name: text, id: text },
};
/** `{ value: [...] }` of the schema `name`: a list answered whole. */
const listOf = (name: string): Schema => ({
  type: "object",
  required: ["value"],
  properties: { value: { type: "array", items: ref(name) } },
});
/** `{ value: [...], nextLink }` of the schema `name`: one page of a list, newest first. */
const pageOf = (name: string): Schema => ({
  type: "object",
  required: ["value", "nextLink"],
  properties: {
    value: { type: "array", items: ref(name) },
    nextLink: {
      type: ["string", "null"],
      format: "uri",
      description: "The next page, or null on the last one.",
    },
  },
});
const serviceError: Schema = {
  type: "object",
  required: ["code", "message"],
  properties: {
    code: ref("ErrorCode"),
    serviceCode: { type: "string", description: "The service's own code, where it had one." },
    message: text,
    recommendedAction: { type: "string" },
  },
};
/** Why an operation failed, or null while it has not. */
const failure: Schema = {
  oneOf: [{ type: "null" }, { ...serviceError, description: "Why it failed." }],
};
/** An item's error with what to do about it, or null when there is none. */
const errorWithAction: Schema = {
  oneOf: [
    {
      type: "object",
      required: ["code", "message", "recommendedAction"],
      properties: { code: ref("ErrorCode"), message: text, recommendedAction: nullableText },
    },
    { type: "null" },
  ],
};

const schemas: Record<string, Schema> = {
  ErrorCode: errorCodeSchema(),
  ...vaultPostureSchemas,
  ProblemDetails: {
    description:
      "RFC 9457 problem details, with a stable `code` and, for bad input, every problem with its JSON path.",
    type: "object",
    required: ["type", "title", "status", "detail", "code", "retryable"],
    properties: {
      type: { type: "string", description: "`urn:pgprotect:problem:<code>`" },
      title: text,
      status: { type: "integer" },
      detail: text,
      instance: text,
      code: ref("ErrorCode"),
      serviceCode: {
        type: "string",
        description:
          "The service's own code, where the failure came from Azure (or the local provider mirrors it), e.g. `UserErrorDppDatasourceAlreadyProtected`.",
      },
      retryable: { type: "boolean" },
      recommendedAction: text,
      errors: {
        type: "array",
        items: {
          type: "object",
          required: ["path", "code", "message"],
          properties: {
            path: { type: "string", description: "JSON path (`$.ruleName`) or `query.<name>`" },
            code: ref("ErrorCode"),
            message: text,
          },
        },
      },
    },
  },
  Health: {
    type: "object",
    required: ["status", "provider"],
    properties: { status: { const: "ok" }, provider: { enum: ["local", "azure"] } },
  },
  BackupPolicy: {
    description:
      "The Data Protection service's `BackupPolicy` (api-version 2026-06-01), field names as the service spells them.",
    type: "object",
    required: ["objectType", "datasourceTypes", "policyRules"],
    properties: {
      objectType: { const: "BackupPolicy" },
      datasourceTypes: { type: "array", items: text },
      policyRules: {
        type: "array",
        items: {
          type: "object",
          required: ["name", "objectType"],
          properties: {
            name: text,
            objectType: { enum: ["AzureBackupRule", "AzureRetentionRule"] },
          },
        },
      },
      name: text,
    },
  },
  BackupPolicyResource: {
    type: "object",
    required: ["properties"],
    properties: { id: text, name: text, type: text, properties: ref("BackupPolicy") },
  },
  BackupPolicyList: listOf("BackupPolicyResource"),
  PolicyDocument: {
    description: "A policy, bare or as the policy resource the service returns.",
    oneOf: [ref("BackupPolicy"), ref("BackupPolicyResource")],
  },
  PolicySpec: {
    description: "The short policy spec, compiled to a BackupPolicy.",
    ...fromZod(policySpecSchema),
  },
  PutPolicyBody: {
    description:
      "A policy (bare, or a policy resource with `properties`), or `{ spec }` with a short spec.",
    oneOf: [
      ref("PolicyDocument"),
      {
        type: "object",
        required: ["spec"],
        properties: { spec: ref("PolicySpec") },
        additionalProperties: false,
      },
    ],
  },
  PolicyValidationResult: {
    type: "object",
    required: ["valid", "problems"],
    properties: {
      valid: { type: "boolean" },
      datasourceKind: text,
      problemCount: {
        type: "integer",
        description: "How many problems the policy has; `problems` lists the first 100.",
      },
      problemsTruncated: { type: "boolean" },
      problems: {
        type: "array",
        items: {
          type: "object",
          required: ["path", "code", "message", "severity"],
          properties: {
            path: text,
            code: ref("ErrorCode"),
            message: text,
            severity: { enum: ["error", "warning"] },
          },
        },
      },
    },
  },
  SimulatePolicyBody: fromZod(simulatePolicyBody),
  PolicySimulation: {
    description:
      "Every scheduled backup in the window with its tag, retention rule, archive and deletion times, and a storage estimate.",
    type: "object",
    required: ["backups"],
    properties: {
      backups: {
        type: "array",
        items: { type: "object", required: ["at"], properties: { at: instant } },
      },
      storage: { type: "object" },
    },
  },
  StartProtectionBody: fromZod(startProtectionBody),
  ProtectionAccepted: {
    description:
      "One datasource's protection names its `datasourceId`; the protection of every database of a server (`allDatabases`) names `serverId` and `serverName`.",
    type: "object",
    required: ["id", "status", "statusUrl", "existing"],
    oneOf: [
      { required: ["datasourceId"], properties: { datasourceId: text } },
      {
        required: ["serverId", "serverName", "allDatabases"],
        properties: { serverId: text, serverName: text, allDatabases: { const: true } },
      },
    ],
    properties: {
      id: text,
      status: text,
      statusUrl: { type: "string", format: "uri" },
      existing: { type: "boolean" },
      warnings: {
        description:
          "The service's documented limits the datasource comes near, or that could not be checked (`checked: false`), each with its reason and documentation. Present only on a new start with something to say.",
        type: "array",
        items: ref("ServiceLimitWarning"),
      },
    },
  },
  ServiceLimitWarning: {
    type: "object",
    required: ["limit", "checked", "message", "reason", "documentation"],
    properties: {
      limit: { enum: ["serverSize", "readReplica", "serviceOwnedDatabase", "largeByteaValue"] },
      checked: { type: "boolean" },
      message: text,
      reason: text,
      documentation: { type: "string", format: "uri" },
    },
  },
  ProtectionStatus: {
    type: "object",
    required: ["id", "status", "outcome", "steps", "currentStep", "error"],
    properties: {
      id: text,
      status: {
        type: "string",
        description:
          "The orchestration's runtime status: Pending, Running, Completed, Failed, Terminated.",
      },
      outcome: {
        type: ["string", "null"],
        description:
          "`Protected`, `AlreadyProtected` or `Failed` once finished. For every database of a server: `Failed` when any database was not protected (`error.code` `DATABASES_NOT_PROTECTED`), `AlreadyProtected` when all already were.",
      },
      datasourceId: nullableText,
      backupInstanceName: nullableText,
      steps: {
        type: "array",
        items: { type: "object" },
        description: "A single datasource's steps; empty for every database of a server.",
      },
      currentStep: {},
      error: {
        description:
          "Set whenever the outcome is `Failed`, also when the orchestration itself failed or was terminated (`PROTECTION_ORCHESTRATION_FAILED`, `PROTECTION_TERMINATED`).",
        oneOf: [serviceError, { type: "null" }],
      },
      eventNotPublished: {
        ...text,
        description:
          "Only when the `PgProtect.Protection.Failed` event of a failed protection could not be published: why.",
      },
      serverName: {
        ...nullableText,
        description: "Only for every database of a server: the server.",
      },
      progress: {
        description:
          "Only for every database of a server: databases finished of those listed, once listed.",
        oneOf: [
          {
            type: "object",
            required: ["done", "total"],
            properties: {
              done: { type: "integer", minimum: 0 },
              total: { type: "integer", minimum: 0 },
            },
          },
          { type: "null" },
        ],
      },
      summary: {
        description: "Only for every database of a server: once finished, each database's outcome.",
        oneOf: [ref("ServerProtectionSummary"), { type: "null" }],
      },
      createdAt: text,
      lastUpdatedAt: text,
    },
  },
  ServerProtectionSummary: {
    description:
      "The databases of a server by outcome: protected now, protected before, or not protected with the service's code (`*` when the databases could not be listed).",
    type: "object",
    required: ["serverName", "protected", "alreadyProtected", "failed"],
    properties: {
      serverName: text,
      protected: { type: "array", items: text },
      alreadyProtected: { type: "array", items: text },
      failed: {
        type: "array",
        items: {
          type: "object",
          required: ["databaseName", "code", "message"],
          properties: { databaseName: text, code: ref("ErrorCode"), message: text },
        },
      },
      skipped: {
        description:
          "Databases left out because they break one of the service's documented limits (owned by `azuresu` or `azure_pg_admin`, a BYTEA value too large to dump, over a Single Server's 400 GB), each with the reason, its documentation and what makes it protectable. They do not fail the protection unless no database was protected.",
        type: "array",
        items: {
          type: "object",
          required: ["databaseName", "code", "message", "recommendedAction"],
          properties: {
            databaseName: text,
            code: ref("ErrorCode"),
            message: text,
            recommendedAction: text,
          },
        },
      },
      stuck: {
        description:
          "Databases whose protection was still running when the bound on waiting (`PROTECT_SERVER_CHILD_TIMEOUT_MINUTES`) was reached; each one's own operation reports its outcome.",
        type: "array",
        items: {
          type: "object",
          required: ["databaseName", "operationId", "code", "message"],
          properties: {
            databaseName: text,
            operationId: text,
            code: ref("ErrorCode"),
            message: text,
          },
        },
      },
    },
  },
  SuccessfulBackup: {
    type: "object",
    required: ["time", "completedAt", "jobId", "recoveryPointId", "ruleName", "retentionTag"],
    properties: {
      time: { ...instant, description: "The moment the data reflects (the backup's start)." },
      completedAt: nullableInstant,
      jobId: nullableText,
      recoveryPointId: nullableText,
      ruleName: nullableText,
      retentionTag: nullableText,
    },
  },
  JobAlarm: {
    description:
      "An alarm the job history raised about a job: `stuck` (it ran longer than its earlier runs say it should) or `anomaly` (a completed backup whose size or duration departs from its instance's earlier ones).",
    type: "object",
    required: ["kind", "raisedAt", "eventId", "summary"],
    properties: {
      kind: { enum: ["stuck", "anomaly"] },
      raisedAt: instant,
      eventId: {
        type: "string",
        description: "The id of the event (and notification) that announced it.",
      },
      summary: { type: "string", description: "One line with the numbers, for people." },
    },
    additionalProperties: false,
  },
  InstanceAlarm: {
    type: "object",
    required: ["kind", "raisedAt", "eventId", "summary", "jobId", "jobName"],
    properties: {
      kind: { enum: ["stuck", "anomaly"] },
      raisedAt: instant,
      eventId: text,
      summary: text,
      jobId: { type: "string", description: "The job's ARM id." },
      jobName: { type: "string", description: "The job's GUID." },
    },
    additionalProperties: false,
  },
  BackupInstance: {
    description: "A protected item.",
    type: "object",
    required: [
      "name",
      "id",
      "vaultName",
      "friendlyName",
      "datasourceId",
      "datasourceType",
      "kind",
      "protectionStatus",
      "protectionState",
      "protectionError",
      "policy",
      "createdAt",
      "lastSuccessfulBackup",
      "nextScheduledBackup",
      "overdueSince",
      "recoveryPointCount",
    ],
    properties: {
      name: text,
      id: text,
      vaultName: text,
      friendlyName: text,
      datasourceId: text,
      datasourceType: text,
      kind: { enum: ["database", "server"] },
      protectionStatus: {
        type: "string",
        description: "e.g. `ProtectionConfigured`, `ProtectionStopped`.",
      },
      protectionState: {
        type: "string",
        description:
          "The service's finer state, which tells a suspended schedule (`BackupSchedulesSuspended`) from stopped protection (`ProtectionStopped`); the protection status where the service gives none.",
      },
      protectionError: errorWithAction,
      policy: policyReference,
      createdAt: text,
      lastSuccessfulBackup: { oneOf: [ref("SuccessfulBackup"), { type: "null" }] },
      nextScheduledBackup: {
        type: ["string", "null"],
        format: "date-time",
        description: "The policy schedule's next backup while protection is configured.",
      },
      overdueSince: {
        type: ["string", "null"],
        format: "date-time",
        description:
          "Since when a backup is overdue (no success within the policy's period plus a day), while protection is configured.",
      },
      recoveryPointCount: { type: "integer", minimum: 0 },
      lastDrill: {
        description:
          "The item's last restore drill (running or ended): verdict, time to restore and when; null when none ran or the app keeps no drill history.",
        oneOf: [ref("DrillSummary"), { type: "null" }],
      },
      alarms: {
        type: "object",
        description:
          "In `GET /api/backup-instances`, when the app keeps a job history: `stuck` while a job of the item that was reported stuck still runs, `anomaly` while its latest completed backup is one that departed from the usual; null otherwise.",
        required: ["stuck", "anomaly"],
        properties: {
          stuck: { oneOf: [ref("InstanceAlarm"), { type: "null" }] },
          anomaly: { oneOf: [ref("InstanceAlarm"), { type: "null" }] },
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  BackupInstanceList: listOf("BackupInstance"),
  StartBackupBody: fromZod(startBackupBody),
  BackupAccepted: {
    type: "object",
    required: [
      "jobId",
      "jobName",
      "backupInstanceName",
      "vaultName",
      "ruleName",
      "retentionTag",
      "status",
      "statusUrl",
      "operationId",
    ],
    properties: {
      jobId: { type: "string", description: "The job's ARM id." },
      jobName: { type: "string", description: "The job's GUID." },
      backupInstanceName: text,
      vaultName: text,
      ruleName: text,
      retentionTag: text,
      status: { const: "InProgress" },
      statusUrl: { type: "string", format: "uri" },
      operationId: {
        type: ["string", "null"],
        description: "The orchestration following the job.",
      },
    },
  },
  StopProtectionBody: fromZod(stopProtectionBody),
  ChangePolicyBody: fromZod(changePolicyBody),
  LifecycleAnswer: {
    type: "object",
    required: [
      "action",
      "backupInstanceName",
      "vaultName",
      "state",
      "outcome",
      "operationId",
      "targetState",
      "statusUrl",
    ],
    properties: {
      action: { enum: [...lifecycleActions] },
      backupInstanceName: text,
      vaultName: text,
      state: { type: "string", description: "The instance's state when the request came." },
      outcome: {
        enum: ["accepted", "alreadyDone"],
        description:
          "`accepted`: an operation carries the action out (202); `alreadyDone`: the instance already was where the action leads (200).",
      },
      operationId: {
        type: ["string", "null"],
        description:
          "The lifecycle operation carrying the action out; null when nothing was left to do.",
      },
      targetState: { type: "string", description: "The state the action leads to." },
      statusUrl: { type: ["string", "null"], format: "uri" },
    },
    additionalProperties: false,
  },
  LifecycleOperation: {
    type: "object",
    required: [
      "id",
      "action",
      "backupInstanceName",
      "vaultName",
      "status",
      "state",
      "error",
      "createdTime",
      "lastUpdatedTime",
    ],
    properties: {
      id: text,
      action: text,
      backupInstanceName: text,
      vaultName: text,
      status: { enum: ["Running", "Completed", "Failed"] },
      state: {
        type: ["string", "null"],
        description: "The state the operation left the instance in.",
      },
      error: failure,
      createdTime: instant,
      lastUpdatedTime: instant,
    },
    additionalProperties: false,
  },
  DeletedBackupInstance: {
    type: "object",
    required: [
      "name",
      "id",
      "vaultName",
      "friendlyName",
      "datasourceId",
      "datasourceType",
      "kind",
      "policy",
      "deletionTime",
      "scheduledPurgeTime",
      "undeletable",
    ],
    properties: {
      name: text,
      id: text,
      vaultName: text,
      friendlyName: text,
      datasourceId: text,
      datasourceType: text,
      kind: { enum: ["database", "server"] },
      policy: policyReference,
      deletionTime: text,
      scheduledPurgeTime: {
        type: ["string", "null"],
        description: "When it is purged with its recovery points; undelete is possible until then.",
      },
      undeletable: { type: "boolean" },
    },
    additionalProperties: false,
  },
  DeletedBackupInstanceList: listOf("DeletedBackupInstance"),
  StartRestoreBody: fromZod(startRestoreBody),
  RestoreAccepted: {
    type: "object",
    required: [
      "jobId",
      "jobName",
      "backupInstanceName",
      "vaultName",
      "recoveryPointId",
      "recoveryPointTime",
      "target",
      "status",
      "statusUrl",
    ],
    properties: {
      jobId: text,
      jobName: text,
      backupInstanceName: text,
      vaultName: text,
      recoveryPointId: text,
      recoveryPointTime: instant,
      target: {
        oneOf: [
          {
            type: "object",
            required: ["kind", "databaseId"],
            properties: { kind: { const: "database" }, databaseId: text },
          },
          {
            type: "object",
            required: ["kind", "url"],
            properties: { kind: { const: "files" }, url: text, filePrefix: text },
          },
          {
            type: "object",
            description:
              "Restore to a server: restored as files into the container, then loaded into `databaseName` of the server the secret reaches.",
            required: ["kind", "url", "filePrefix", "databaseName"],
            properties: {
              kind: { const: "server" },
              url: text,
              filePrefix: text,
              databaseName: text,
            },
          },
        ],
      },
      checks: {
        type: "array",
        items: text,
        description:
          "What was checked before the restore was sent: the vault identity's role on the target storage, the service's validateRestore.",
      },
      status: { const: "InProgress" },
      statusUrl: { type: "string", format: "uri" },
      restoreId: {
        type: "string",
        description: "Azure: the restore's id; GET restoreStatusUrl follows it to the end.",
      },
      restoreStatusUrl: { type: "string", format: "uri" },
    },
  },
  Restore: {
    description:
      "A restore followed to its end: its job and, for a restore to a server, the new database, its verification and the time each step took.",
    type: "object",
    required: [
      "id",
      "backupInstanceName",
      "vaultName",
      "jobId",
      "status",
      "state",
      "database",
      "seconds",
      "error",
      "createdTime",
      "lastUpdatedTime",
    ],
    properties: {
      id: text,
      backupInstanceName: text,
      vaultName: text,
      jobId: text,
      status: { enum: ["Running", "Completed", "Failed"] },
      state: { type: "string", description: "The job's state, `loading`, or how it ended." },
      database: {
        oneOf: [
          { type: "null" },
          {
            type: "object",
            required: [
              "databaseName",
              "server",
              "blobName",
              "dumpBytes",
              "verification",
              "seconds",
            ],
            properties: {
              databaseName: text,
              server: { type: "string", description: "Host and port of the target server." },
              blobName: text,
              dumpBytes: { type: "integer" },
              verification: {
                type: "object",
                description:
                  "The restored data compared with the dump: per table row counts and content checksums, large objects, sequences (`checked`, `notChecked`, `mismatches`).",
              },
              seconds: {
                type: "object",
                properties: {
                  download: { type: "number" },
                  load: { type: "number" },
                  verify: { type: "number" },
                },
              },
            },
          },
        ],
      },
      seconds: {
        oneOf: [
          { type: "null" },
          {
            type: "object",
            description: "From the request to the job's end, and to the end of the restore.",
            properties: { job: { type: "number" }, total: { type: "number" } },
          },
        ],
      },
      error: failure,
      createdTime: instant,
      lastUpdatedTime: instant,
    },
  },
  ServiceErrorDetail: {
    type: "object",
    required: ["code", "message"],
    properties: {
      code: ref("ErrorCode"),
      serviceCode: { type: "string", description: "The service's own code, where it had one." },
      message: text,
      recommendedAction: { type: "array", items: text },
      isRetryable: { type: "boolean" },
      isUserError: { type: "boolean" },
    },
  },
  Job: {
    description: "A backup or restore job (`AzureBackupJob`, flattened).",
    type: "object",
    required: [
      "id",
      "name",
      "vaultName",
      "operation",
      "operationCategory",
      "isUserTriggered",
      "status",
      "startTime",
      "backupInstanceId",
      "backupInstanceFriendlyName",
      "dataSourceId",
      "dataSourceName",
      "dataSourceType",
      "dataSourceLocation",
    ],
    properties: {
      id: text,
      name: text,
      vaultName: text,
      operation: { enum: ["OnDemandBackup", "ScheduledBackup", "Restore"] },
      operationCategory: { enum: ["Backup", "Restore"] },
      isUserTriggered: { type: "boolean" },
      status: { enum: ["InProgress", "Completed", "Failed", "Cancelled"] },
      startTime: instant,
      endTime: instant,
      duration: { type: "string", description: "ISO 8601 duration." },
      backupInstanceId: text,
      backupInstanceFriendlyName: text,
      dataSourceId: text,
      dataSourceName: text,
      dataSourceType: text,
      dataSourceLocation: text,
      policyId: text,
      policyName: text,
      ruleName: text,
      retentionTag: text,
      recoveryPointId: text,
      recoveryDestination: text,
      dataTransferredInBytes: { type: "integer", minimum: 0 },
      restoreVerification: {
        type: "object",
        description:
          "Restores into a database: how the restored database compared with the recovery point. `verified` speaks for what `checked` lists and nothing else.",
        required: ["verified", "tables", "rows", "largeObjects", "mismatches"],
        properties: {
          verified: {
            type: "boolean",
            description: "True when every comparison in `checked` found no difference.",
          },
          tables: { type: "integer" },
          rows: { type: "integer" },
          largeObjects: { type: "integer" },
          mismatches: { type: "array", items: text },
          checked: {
            type: "array",
            items: text,
            description:
              "What was compared: table rows and content, large objects, sequence values and, when the backup recorded it, the structure (tables, columns, indexes, constraints, views, functions, triggers, sequences, ...).",
          },
          notChecked: {
            type: "array",
            items: text,
            description:
              "What could not be compared, and why (a recovery point made before structure was recorded).",
          },
          notRestored: {
            type: "array",
            items: text,
            description:
              "What the restore does not carry over: ownership and privileges (pg_restore --no-owner --no-acl), naming the roles the backup had.",
          },
        },
      },
      errorDetails: { type: "array", items: ref("ServiceErrorDetail") },
      alarms: {
        type: "array",
        items: ref("JobAlarm"),
        description:
          "In `GET /api/jobs`, when the app keeps a job history: the stuck and anomaly alarms raised about the job, oldest first (none: an empty list).",
      },
      attempt: {
        type: "integer",
        minimum: 1,
        description:
          "Local provider: the attempt running or that ran last; a job cut off by a stop or crash of the host runs again.",
      },
      interruptedAttempts: {
        type: "array",
        description: "Local provider: earlier attempts and what cut each off.",
        items: {
          type: "object",
          required: ["attempt", "startTime", "interruptedAt", "reason"],
          properties: {
            attempt: { type: "integer", minimum: 1 },
            startTime: instant,
            interruptedAt: instant,
            reason: text,
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  DrillSummary: {
    description: "A backup instance's last restore drill.",
    type: "object",
    required: ["id", "verdict", "startTime", "endTime", "timeToRestoreSeconds", "statusUrl"],
    properties: {
      id: text,
      verdict: { enum: ["InProgress", "Succeeded", "Failed"] },
      startTime: instant,
      endTime: nullableInstant,
      timeToRestoreSeconds: { type: ["number", "null"], minimum: 0 },
      statusUrl: text,
    },
  },
  Drill: {
    description:
      "A restore drill: the latest recovery point of a backup instance restored into a scratch target, verified against what its backup recorded (structure, per-table rows and checksums), timed, and the scratch target removed.",
    type: "object",
    required: [
      "id",
      "backupInstanceName",
      "backupInstanceId",
      "friendlyName",
      "vaultName",
      "datasourceId",
      "datasourceName",
      "schedule",
      "requestedBy",
      "verdict",
      "startTime",
      "endTime",
      "timeToRestoreSeconds",
      "recoveryPointId",
      "recoveryPointTime",
      "restoreJobId",
      "verification",
      "error",
      "scratchRemoved",
      "databases",
      "statusUrl",
    ],
    properties: {
      id: { type: "string", description: "The drill's id (its operation id)." },
      backupInstanceName: text,
      backupInstanceId: text,
      friendlyName: text,
      vaultName: text,
      datasourceId: text,
      datasourceName: text,
      schedule: {
        type: ["string", "null"],
        description: "The drill schedule (DRILL_SCHEDULES) that ran it; null on demand.",
      },
      requestedBy: nullableText,
      verdict: { enum: ["InProgress", "Succeeded", "Failed"] },
      startTime: instant,
      endTime: nullableInstant,
      timeToRestoreSeconds: {
        type: ["number", "null"],
        minimum: 0,
        description: "From the restore's start until its data were verified.",
      },
      recoveryPointId: nullableText,
      recoveryPointTime: nullableInstant,
      restoreJobId: { type: ["string", "null"], description: "The drill's restore job (ARM id)." },
      verification: {
        oneOf: [
          {
            type: "object",
            required: ["verified", "tables", "rows", "largeObjects", "mismatches"],
            properties: {
              verified: { type: "boolean" },
              tables: { type: "integer", minimum: 0 },
              rows: { type: "integer", minimum: 0 },
              largeObjects: { type: "integer", minimum: 0 },
              mismatches: { type: "array", items: text },
              checked: { type: "array", items: text },
              notChecked: { type: "array", items: text },
              notRestored: { type: "array", items: text },
            },
          },
          { type: "null" },
        ],
      },
      error: errorWithAction,
      scratchRemoved: {
        type: ["boolean", "null"],
        description: "Whether the scratch target was removed; null while the drill runs.",
      },
      state: {
        enum: ["waitingForTurn", "running", "ended"],
        description:
          "Where the drill is, in `GET /api/drills/{id}` only: `waitingForTurn` while DRILL_MAX_CONCURRENT drills run ahead of it (its verdict is `InProgress` meanwhile), `running` once it restores, `ended` after its verdict.",
      },
      databases: {
        description:
          "A whole server's drill: each database restored into its own scratch database and verified on its own (the drill succeeds only when every one did); null for a drill of one database.",
        oneOf: [
          {
            type: "array",
            items: {
              type: "object",
              required: [
                "databaseName",
                "scratchTarget",
                "verdict",
                "verification",
                "seconds",
                "restoreJobId",
                "error",
              ],
              properties: {
                databaseName: text,
                scratchTarget: text,
                verdict: { enum: ["Succeeded", "Failed"] },
                verification: {
                  type: ["object", "null"],
                  description: "As the drill's verification, of this database.",
                },
                seconds: {
                  type: ["number", "null"],
                  minimum: 0,
                  description: "Its restore until verified.",
                },
                restoreJobId: nullableText,
                error: errorWithAction,
              },
            },
          },
          { type: "null" },
        ],
      },
      statusUrl: text,
    },
  },
  DrillList: pageOf("Drill"),
  DrillAccepted: {
    type: "object",
    required: ["id", "backupInstanceName", "vaultName", "scratchTarget", "statusUrl"],
    properties: {
      id: { type: "string", description: "The drill's id." },
      backupInstanceName: text,
      vaultName: text,
      scratchTarget: {
        type: "string",
        description: "The scratch target the drill restores into and removes.",
      },
      statusUrl: text,
    },
  },
  CommonAlert: {
    ...fromZod(commonAlertSchema),
    description:
      "An Azure Monitor alert notification in the common alert schema, as an action group's webhook posts it. Only `schemaId`, `data.essentials.alertId`, `alertRule` and `monitorCondition` are required; every other field may be absent.",
  },
  MonitorAlertAnswer: {
    type: "object",
    required: ["status", "deliveries"],
    properties: {
      status: {
        type: "string",
        enum: ["routed", "ignored", "resolved"],
        description:
          "`routed` to the channels its rules name; `ignored`: not an Azure Backup alert of a vault the app covers; `resolved`: a job failure's alert resolved, which the job's events tell.",
      },
      reason: text,
      eventId: { type: "string", description: "The pgprotect event the alert was routed as." },
      eventType: text,
      deliveries: {
        type: "array",
        items: {
          type: "object",
          required: ["channelId", "result"],
          properties: {
            channelId: text,
            result: {
              type: "string",
              enum: ["sent", "digest", "held", "duplicate", "failed"],
              description: "`duplicate`: the same fact went to this channel already.",
            },
          },
        },
      },
    },
  },
  JobList: pageOf("Job"),
};

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ref("ProblemDetails") } },
});
const ok = (schema: string, description = "OK") => ({
  description,
  content: { "application/json": { schema: ref(schema) } },
});
const body = (schema: string) => ({
  required: true,
  content: { "application/json": { schema: ref(schema) } },
});
const common = {
  "400": { $ref: "#/components/responses/BadRequest" },
  "401": { $ref: "#/components/responses/Unauthorized" },
  "403": { $ref: "#/components/responses/Forbidden" },
  "500": { $ref: "#/components/responses/InternalError" },
};
const notFound = { "404": { $ref: "#/components/responses/NotFound" } };
const locationHeader = { Location: { schema: { type: "string" } } };
/** 202 with the answer `schema`, whose `statusUrl` (also the `Location`) follows the work. */
const accepted = (schema: string) => ({
  ...ok(schema, "Accepted: follow statusUrl"),
  headers: locationHeader,
});
const conflict = { "409": { $ref: "#/components/responses/Conflict" } };
/** An optional query parameter. */
const queryParameter = (name: string, description: string, schema: Schema = text) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});
const pathParameter = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: text,
});
/** The query parameters several routes take, each written once. */
const sharedParameters = {
  Vault: queryParameter("vault", "A vault's name; every vault the app covers when absent."),
  Instance: queryParameter(
    "instance",
    "A backup instance: its ARM id, name or friendly name (`local/sales`).",
  ),
  Top: queryParameter("top", "Page size.", {
    type: "integer",
    minimum: 1,
    maximum: jobPageSize.max,
    default: jobPageSize.default,
  }),
  ContinuationToken: queryParameter("continuationToken", "From a page's nextLink."),
};
const parameter = (name: keyof typeof sharedParameters) => ({
  $ref: `#/components/parameters/${name}`,
});
const vaultQuery = parameter("Vault");
/** The backup instance a route names, and its vault. */
const instanceParameters = [pathParameter("name", "The backup instance's name."), vaultQuery];

const lifecycleResponses = {
  "200": ok(
    "LifecycleAnswer",
    "Nothing left to do: the instance already was where the action leads",
  ),
  "202": accepted("LifecycleAnswer"),
  ...notFound,
  ...conflict,
  ...common,
};

const paths: Record<string, Record<string, unknown>> = {
  "/health": {
    get: {
      operationId: "getHealth",
      summary: "Health probe: 503 while the provider or its PostgreSQL is down",
      security: [],
      responses: {
        "200": ok("Health"),
        "503": problem("The provider is down (problem details name the reason and the provider)"),
      },
    },
  },
  "/openapi.json": {
    get: {
      operationId: "getOpenApi",
      summary: "This document",
      security: [],
      responses: {
        "200": {
          description: "The OpenAPI 3.1 document",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  },
  "/policies/template": {
    get: {
      operationId: "getPolicyTemplate",
      summary: "The service's default policy for a datasource kind",
      parameters: [
        {
          name: "datasourceType",
          in: "query",
          required: false,
          schema: {
            enum: ["AzureDatabaseForPostgreSQLFlexibleServer", "AzureDatabaseForPostgreSQL"],
            default: "AzureDatabaseForPostgreSQLFlexibleServer",
          },
        },
      ],
      responses: { "200": ok("BackupPolicy"), ...common },
    },
  },
  "/policies/validate": {
    post: {
      operationId: "validatePolicy",
      summary:
        "Check a policy against the service's rules; an invalid policy is an answer (200), not an error",
      requestBody: body("PolicyDocument"),
      responses: {
        "200": ok("PolicyValidationResult"),
        "415": problem("The body is not JSON"),
        ...common,
      },
    },
  },
  "/policies/compile": {
    post: {
      operationId: "compilePolicy",
      summary: "Compile a short policy spec to the policy JSON",
      requestBody: body("PolicySpec"),
      responses: { "200": ok("BackupPolicy"), "415": problem("The body is not JSON"), ...common },
    },
  },
  "/policies/simulate": {
    post: {
      operationId: "simulatePolicy",
      summary:
        "What-if: the backups a policy makes over a window, their retention and the storage they take",
      requestBody: body("SimulatePolicyBody"),
      responses: {
        "200": ok("PolicySimulation"),
        "415": problem("The body is not JSON"),
        ...common,
      },
    },
  },
  "/protections": {
    post: {
      operationId: "startProtection",
      summary: "Protect a datasource, or every database of a server (idempotent per target)",
      description:
        "Answers 202 with a status URL; asking again for the same datasource answers the same operation. " +
        "With `serverName` and `allDatabases: true`, every database of a Single Server-style server is protected, " +
        "each as its own datasource (a few at a time, `maxConcurrency`), under one operation per server; " +
        "a Flexible Server is protected whole instead (400 `ALL_DATABASES_ON_FLEXIBLE_SERVER`). " +
        "What is cheap to check is checked first, and a request that cannot succeed starts nothing: " +
        "404 `DATASOURCE_NOT_FOUND`, `VAULT_NOT_FOUND`, `POLICY_NOT_FOUND` or `SECRET_NOT_FOUND`; " +
        "400 `BODY_INVALID`, `BODY_NOT_JSON`, `POLICY_DATASOURCE_TYPE_MISMATCH`, `SECRET_REQUIRED` (no secretUri), `ALL_DATABASES_ON_FLEXIBLE_SERVER`, " +
        "or a name outside the service's rules (`VAULT_NAME_INVALID`, `POLICY_NAME_INVALID`, `DATABASE_NAME_INVALID`). " +
        "Databases whose names differ only in case or characters are distinct datasources with distinct operations. " +
        "A repeat that asks for another vault, policy or secret than the existing protection is a 409 `PROTECTION_EXISTS_WITH_OTHER_SETTINGS` naming it.",
      requestBody: body("StartProtectionBody"),
      responses: {
        "202": accepted("ProtectionAccepted"),
        "404": problem(
          "The datasource, vault, policy or secret does not exist (`DATASOURCE_NOT_FOUND`, `VAULT_NOT_FOUND`, `POLICY_NOT_FOUND`, `SECRET_NOT_FOUND`)",
        ),
        "409": problem(
          "The target is already protected with other settings (`PROTECTION_EXISTS_WITH_OTHER_SETTINGS`)",
        ),
        "415": problem("The body is not JSON"),
        "422": problem(
          "The datasource breaks a documented limit of the service, cited with its link: `SERVER_TOO_LARGE_FOR_BACKUP`, `READ_REPLICA_NOT_PROTECTABLE`, `DATABASE_OWNED_BY_SERVICE_ROLE`, `BYTEA_VALUE_TOO_LARGE`",
        ),
        "503": problem("The operation could not start; try again"),
        ...common,
      },
    },
  },
  "/protections/{id}": {
    get: {
      operationId: "getProtection",
      summary:
        "A protection operation's steps, current step and, on failure, the service's error with a recommended action; for every database of a server, the progress and then the summary",
      parameters: [pathParameter("id", "The operation id a POST /protections answered.")],
      responses: { "200": ok("ProtectionStatus"), ...notFound, ...common },
    },
  },
  "/backup-instances": {
    get: {
      operationId: "listBackupInstances",
      summary:
        "Protected items with protection state, policy, last successful backup and next scheduled one",
      parameters: [vaultQuery],
      responses: { "200": ok("BackupInstanceList"), ...notFound, ...common },
    },
  },
  "/backup-instances/{name}": {
    get: {
      operationId: "showBackupInstance",
      summary: "One protected item",
      parameters: instanceParameters,
      responses: { "200": ok("BackupInstance"), ...notFound, ...common },
    },
    delete: {
      operationId: "deleteBackupInstance",
      summary:
        "Delete a backup instance with its recovery points (soft-deleted where the vault keeps deleted items)",
      parameters: instanceParameters,
      responses: lifecycleResponses,
    },
  },
  "/backup-instances/{name}/backups": {
    post: {
      operationId: "startBackup",
      summary: "An ad-hoc backup under a backup rule, kept under a retention tag",
      description:
        "`ruleName` is the policy's backup rule (e.g. `BackupWeekly`); the retention rule goes in `retentionTagOverride` (e.g. `Monthly`). " +
        "A retention rule given as `ruleName` is a 400 naming the backup rule to use. A whole Flexible Server gets one backup a week: " +
        "a second is a 409 saying when the next may run.",
      parameters: instanceParameters,
      requestBody: body("StartBackupBody"),
      responses: {
        "202": accepted("BackupAccepted"),
        ...notFound,
        ...conflict,
        ...common,
      },
    },
  },
  "/backup-instances/{name}/restores": {
    post: {
      operationId: "startRestore",
      summary: "Restore the latest or a chosen recovery point into a new database or as files",
      parameters: instanceParameters,
      requestBody: body("StartRestoreBody"),
      responses: {
        "202": accepted("RestoreAccepted"),
        ...notFound,
        ...conflict,
        ...common,
      },
    },
  },
  "/backup-instances/{name}/drills": {
    post: {
      operationId: "startDrill",
      summary:
        "A restore drill now: restore the latest recovery point into a scratch target, verify, time, remove",
      description:
        "Answers 202 with the drill's status URL. One drill of an instance runs at a time: another is a 409 `DRILL_RUNNING`; " +
        "like scheduled drills, a drill on demand waits its turn while DRILL_MAX_CONCURRENT drills run (its status URL says `state: waitingForTurn`), and runs after six hours of waiting at the latest; " +
        "an instance with no recovery point still drills, and fails (`NO_RECOVERY_POINT`). A provider without scratch targets answers 501 `DRILL_NOT_SUPPORTED`.",
      parameters: instanceParameters,
      responses: {
        "202": accepted("DrillAccepted"),
        ...notFound,
        ...conflict,
        "501": problem("The provider has no scratch target for drills (`DRILL_NOT_SUPPORTED`)"),
        ...common,
      },
    },
  },
  "/backup-instances/{name}/stop": {
    post: {
      operationId: "stopProtection",
      summary: "Stop protection, keeping every recovery point or deleting them with the instance",
      description:
        "`deleteData: false` stops protection and keeps every recovery point (`ProtectionStopped`); `deleteData: true` deletes the backup instance with its recovery points, soft-deleted where the vault keeps deleted items. " +
        "A state that does not allow it is a 409 `PROTECTION_STATE_CONFLICT`; an instance already stopped answers 200 `alreadyDone`.",
      parameters: instanceParameters,
      requestBody: body("StopProtectionBody"),
      responses: lifecycleResponses,
    },
  },
  "/backup-instances/{name}/suspend": {
    post: {
      operationId: "suspendBackups",
      summary: "Suspend the backup schedule; retention runs on (from ProtectionConfigured only)",
      parameters: instanceParameters,
      responses: lifecycleResponses,
    },
  },
  "/backup-instances/{name}/resume": {
    post: {
      operationId: "resumeProtection",
      summary: "Resume the backups of a suspended or stopped backup instance",
      parameters: instanceParameters,
      responses: lifecycleResponses,
    },
  },
  "/backup-instances/{name}/policy": {
    put: {
      operationId: "changeBackupPolicy",
      summary: "Move a backup instance to another policy of its vault",
      description:
        "Policies cannot be edited once in use: the instance is moved to another policy instead, validated by the service (`validateForModifyBackup`) before it is written. " +
        "A policy the vault lacks is a 404 `POLICY_NOT_FOUND`; one for another datasource type a 400 `POLICY_DATASOURCE_TYPE_MISMATCH`.",
      parameters: instanceParameters,
      requestBody: body("ChangePolicyBody"),
      responses: lifecycleResponses,
    },
  },
  "/backup-instances/{name}/undelete": {
    post: {
      operationId: "undeleteBackupInstance",
      summary:
        "Bring a soft-deleted backup instance back, stopped, within its soft-delete retention",
      parameters: instanceParameters,
      responses: lifecycleResponses,
    },
  },
  "/deleted-backup-instances": {
    get: {
      operationId: "listDeletedBackupInstances",
      summary: "Soft-deleted backup instances, newest deletion first, with their scheduled purge",
      parameters: [vaultQuery],
      responses: { "200": ok("DeletedBackupInstanceList"), ...notFound, ...common },
    },
  },
  "/restores/{id}": {
    get: {
      operationId: "getRestore",
      summary:
        "A restore's status to its end (Azure): its job, and for a restore to a server the new database, its verification and timings",
      parameters: [pathParameter("id", "The restoreId a restore request answered.")],
      responses: { "200": ok("Restore"), ...notFound, ...common },
    },
  },
  "/lifecycle-operations/{id}": {
    get: {
      operationId: "getLifecycleOperation",
      summary: "A lifecycle operation's status, the state it left the instance in, or its error",
      parameters: [pathParameter("id", "The operationId a lifecycle request answered.")],
      responses: { "200": ok("LifecycleOperation"), ...notFound, ...common },
    },
  },
  "/alerts": {
    post: {
      operationId: "receiveMonitorAlert",
      summary: "Azure Monitor alerts (common alert schema) from an action group's webhook",
      description:
        "Azure Backup's built-in alerts (job failures, security alerts), routed through the notification rules to Teams and email. " +
        "The same notification posted again is routed once; a job failure's alert and the job's own `Failed` event are one message. " +
        "Authenticated by the function key in the webhook URL, or, with App Service authentication, by Entra ID (secure webhook) with the `Backup.AlertSender` or `Backup.Operator` app role. " +
        "A delivery that may succeed later answers 503, and Azure retries.",
      requestBody: body("CommonAlert"),
      responses: {
        "200": ok("MonitorAlertAnswer"),
        "413": problem("The body is larger than the limit"),
        "415": problem("The body is not JSON"),
        "503": problem("A channel could not be reached; Azure retries the webhook"),
        ...common,
      },
    },
  },
  "/jobs": {
    get: {
      operationId: "listJobs",
      summary: "Backup and restore jobs across vaults, newest first, paged",
      parameters: [
        queryParameter("status", "Comma-separated: InProgress, Completed, Failed, Cancelled."),
        queryParameter("operation", "Comma-separated: OnDemandBackup, ScheduledBackup, Restore."),
        vaultQuery,
        queryParameter("datasource", "A datasource's ARM id or name (`sales`, `local/sales`)."),
        queryParameter("since", "Jobs started or ended at or after this instant.", instant),
        queryParameter(
          "from",
          "Jobs started at or after this instant; any age the job history keeps (HISTORY_RETENTION_DAYS).",
          instant,
        ),
        queryParameter("to", "Jobs started before this instant.", instant),
        parameter("Instance"),
        queryParameter(
          "format",
          "`csv` exports every job of the window as CSV (as `Accept: text/csv` does); `json` answers one page.",
          { type: "string", enum: ["json", "csv"], default: "json" },
        ),
        parameter("Top"),
        parameter("ContinuationToken"),
      ],
      responses: {
        "200": {
          description: "OK: a page of jobs, or with format=csv every job of the window as CSV",
          content: {
            "application/json": { schema: ref("JobList") },
            "text/csv": {
              schema: {
                type: "string",
                description:
                  "RFC 4180 with a header line; a Link header (rel=next) continues an export cut at 100000 rows.",
              },
            },
          },
        },
        ...notFound,
        ...common,
      },
    },
  },
  "/drills": {
    get: {
      operationId: "listDrills",
      summary: "Restore drills, newest first, paged: verdict and time to restore",
      parameters: [
        queryParameter("verdict", "Comma-separated: InProgress, Succeeded, Failed."),
        parameter("Instance"),
        queryParameter("schedule", "A drill schedule's name."),
        queryParameter("from", "Drills begun at or after this instant.", instant),
        queryParameter("to", "Drills begun before this instant.", instant),
        parameter("Top"),
        parameter("ContinuationToken"),
      ],
      responses: { "200": ok("DrillList"), ...common },
    },
  },
  "/drills/{id}": {
    get: {
      operationId: "getDrill",
      summary: "One restore drill: running, or how it ended",
      parameters: [pathParameter("id", "The drill's id.")],
      responses: { "200": ok("Drill"), ...notFound, ...common },
    },
  },
  "/jobs/{id}": {
    get: {
      operationId: "showJob",
      summary: "One job, by GUID or ARM id",
      parameters: [pathParameter("id", "The job's GUID, or its ARM id (as is, or URL-encoded).")],
      responses: { "200": ok("Job"), ...notFound, ...common },
    },
  },
  "/vaults": {
    get: {
      operationId: "listVaults",
      summary:
        "Every vault the app covers with its security posture and the warnings where it falls short of the recommended baseline",
      description:
        "Redundancy, immutability, soft delete and its retention, cross-region and cross-subscription restore, resource guard (multi-user authorization) " +
        "and built-in job-failure alerts, each compared with the baseline; a setting the vault's answer leaves out is `unknown` and warned of " +
        "(`VAULT_SETTING_UNKNOWN`). A vault that cannot be read is listed with its `error`.",
      responses: { "200": ok("VaultPostureList"), ...common },
    },
  },
  "/vaults/{name}": {
    get: {
      operationId: "getVault",
      summary: "One vault's security posture and its warnings",
      parameters: [pathParameter("name", "The vault's name.")],
      responses: { "200": ok("VaultPosture"), ...notFound, ...common },
    },
  },
  "/vaults/{vault}/policies": {
    get: {
      operationId: "listPolicies",
      summary: "A vault's backup policies",
      parameters: [pathParameter("vault", "The vault's name.")],
      responses: { "200": ok("BackupPolicyList"), ...notFound, ...common },
    },
  },
  "/vaults/{vault}/policies/{name}": {
    get: {
      operationId: "getPolicy",
      summary: "A backup policy",
      parameters: [
        pathParameter("vault", "The vault's name."),
        pathParameter("name", "The policy's name."),
      ],
      responses: { "200": ok("BackupPolicyResource"), ...notFound, ...common },
    },
    put: {
      operationId: "putPolicy",
      summary: "Create a backup policy from its JSON or a short spec",
      description:
        "Policies cannot be modified in place: the same body again answers 200 with the policy, a different one under an existing name is a 409 " +
        "(create a new policy and reassign the backup instances). Names ignore case, as in Azure (`WEEKLY` is the policy `weekly`). " +
        "The vault must exist (404 `VAULT_NOT_FOUND`: a policy never creates a vault; locally, `pgprotect local vault create NAME`).",
      parameters: [
        pathParameter("vault", "The vault's name."),
        pathParameter("name", "The policy's name."),
      ],
      requestBody: body("PutPolicyBody"),
      responses: {
        "200": ok("BackupPolicyResource", "The same policy exists already"),
        "201": {
          ...ok("BackupPolicyResource", "Created"),
          headers: locationHeader,
        },
        ...notFound,
        ...conflict,
        "415": problem("The body is not JSON"),
        ...common,
      },
    },
  },
  "/vaults/{vault}/policies/{name}/calendar.svg": {
    get: {
      operationId: "getPolicyCalendar",
      summary: "A policy's retention calendar as an SVG image, drawn from the policy simulator",
      description:
        "One cell per UTC day: the backups taken, the recovery points VaultStore and ArchiveStore hold, and the day each expires, with a " +
        "legend and a text alternative per day. The window is `year`, or `from` and `to` (default: the next 12 months); at most 10 years.",
      parameters: [
        pathParameter("vault", "The vault's name."),
        pathParameter("name", "The policy's name."),
        queryParameter("year", "A UTC year (`2027`); replaces `from` and `to`."),
        queryParameter("from", "An instant or date (`2027-01-01`); default today (UTC)."),
        queryParameter("to", "An instant or date (`2027-01-01`); default 12 months after from."),
      ],
      responses: {
        "200": {
          description: "The calendar",
          content: { "image/svg+xml": { schema: { type: "string" } } },
        },
        ...notFound,
        ...common,
      },
    },
  },
  "/dashboard": {
    get: {
      operationId: "getDashboard",
      summary:
        "The dashboard: a web page of protected items, recent jobs and policy calendars (open it with the key as `?code=`)",
      responses: {
        "200": {
          description: "The page",
          content: { "text/html": { schema: { type: "string" } } },
        },
        ...common,
      },
    },
  },
  "/dashboard/{asset}": {
    get: {
      operationId: "getDashboardAsset",
      summary: "The dashboard's script and styles; anonymous: they hold no data",
      security: [],
      parameters: [pathParameter("asset", "`dashboard.js` or `dashboard.css`.")],
      responses: {
        "200": {
          description: "The asset",
          content: {
            "text/javascript": { schema: { type: "string" } },
            "text/css": { schema: { type: "string" } },
          },
        },
        ...notFound,
      },
    },
  },
};

let built: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document (built once). */
export function openApiDocument(): Record<string, unknown> {
  built ??= {
    openapi: "3.1.0",
    info: {
      title: "pgprotect",
      version: "0.1.0",
      description:
        "Self-service backup of PostgreSQL under Azure Backup: protect datasources, run ad-hoc backups, follow jobs, restore, and manage policies. " +
        "Errors are RFC 9457 problem details with a stable `code`. Function keys protect the API; when App Service authentication is on, the " +
        "caller's app roles (from `x-ms-client-principal`) decide: `Backup.Reader` reads, `Backup.Operator` also protects, backs up, restores " +
        "and creates policies.",
    },
    servers: [{ url: "/api" }],
    security: [{ functionKeyHeader: [] }, { functionKeyQuery: [] }],
    paths,
    components: {
      schemas,
      parameters: sharedParameters,
      responses: {
        BadRequest: problem(
          "The request is not valid: `errors` lists every problem with its JSON path",
        ),
        Unauthorized: problem("Authentication is required"),
        Forbidden: problem("The caller lacks the app role this needs"),
        NotFound: problem("Not found"),
        Conflict: problem("Conflicts with the current state"),
        InternalError: problem("Internal error"),
      },
      securitySchemes: {
        functionKeyHeader: {
          type: "apiKey",
          in: "header",
          name: "x-functions-key",
          description: "A function or host key.",
        },
        functionKeyQuery: {
          type: "apiKey",
          in: "query",
          name: "code",
          description: "A function or host key.",
        },
      },
    },
  };
  return built;
}
