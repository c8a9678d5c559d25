/**
 * Azure Monitor's common alert schema, as an action group's webhook posts it: only the fields
 * pgprotect reads are required, everything else may be absent or null and is kept as sent, so a
 * payload valid under the schema's documentation is never refused for a field it leaves out.
 *
 * @see https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema
 */
import { z } from "zod";
import { InvalidInputError, type InputProblem } from "../errors.js";

/** The `schemaId` of a common-schema payload. */
export const COMMON_ALERT_SCHEMA_ID = "azureMonitorCommonAlertSchema";

const time = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { message: "expected a date and time" });

const essentialsSchema = z
  .object({
    /** The alert instance's ARM id: stable across notifications of the same alert. */
    alertId: z.string().min(1),
    alertRule: z.string().min(1),
    severity: z.string().nullish(),
    signalType: z.string().nullish(),
    monitorCondition: z.enum(["Fired", "Resolved"]),
    monitoringService: z.string().nullish(),
    alertTargetIDs: z.array(z.string()).nullish(),
    configurationItems: z.array(z.string()).nullish(),
    originAlertId: z.string().nullish(),
    firedDateTime: time.nullish(),
    resolvedDateTime: time.nullish(),
    description: z.string().nullish(),
    investigationLink: z.string().nullish(),
  })
  .loose();

/** The zod schema of a common-schema alert notification. */
export const commonAlertSchema = z
  .object({
    schemaId: z.literal(COMMON_ALERT_SCHEMA_ID),
    data: z
      .object({
        essentials: essentialsSchema,
        /** Differs by monitoring service; read with {@link backupAlertContextSchema}. */
        alertContext: z.unknown().optional(),
        customProperties: z.record(z.string(), z.unknown()).nullish(),
      })
      .loose(),
  })
  .loose();

/** A parsed common-schema alert notification. */
export type CommonAlert = z.infer<typeof commonAlertSchema>;
/** The `essentials` of a notification. */
export type AlertEssentials = CommonAlert["data"]["essentials"];

/**
 * The alert context Azure Backup's built-in alerts carry (`monitoringService: Azure Backup`):
 * the category (`Jobs` or `Security`), the affected item and, for job failures, the job.
 */
export const backupAlertContextSchema = z
  .object({
    category: z.string().nullish(),
    sourceId: z.string().nullish(),
    sourceType: z.string().nullish(),
    linkedResourceId: z.string().nullish(),
    linkedResourceName: z.string().nullish(),
    protectedItemId: z.string().nullish(),
    affectedItems: z.union([z.string(), z.array(z.string())]).nullish(),
    extendedInfo: z
      .object({
        jobId: z.string().nullish(),
        recommendedActions: z.union([z.string(), z.array(z.string())]).nullish(),
        possibleCauses: z.union([z.string(), z.array(z.string())]).nullish(),
        occurrenceCount: z.number().nullish(),
      })
      .loose()
      .nullish(),
    condition: z
      .object({
        allOf: z
          .array(
            z
              .object({
                dimensions: z
                  .array(z.object({ name: z.string(), value: z.string() }).loose())
                  .nullish(),
              })
              .loose(),
          )
          .nullish(),
      })
      .loose()
      .nullish(),
  })
  .loose();

/** What Azure Backup's alert context holds, as far as pgprotect reads it. */
export type BackupAlertContext = z.infer<typeof backupAlertContextSchema>;

/**
 * Validates a webhook body against the common alert schema.
 *
 * @throws InvalidInputError `ALERT_INVALID` listing every field at fault by JSON path.
 */
export function parseCommonAlert(value: unknown): CommonAlert {
  const result = commonAlertSchema.safeParse(value);
  if (result.success) return result.data;
  const problems: InputProblem[] = result.error.issues.map((issue) => ({
    path: `$${issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("")}`,
    code: "ALERT_INVALID",
    message: issue.message,
  }));
  throw new InvalidInputError(
    "ALERT_INVALID",
    `The body is not an alert in Azure Monitor's common alert schema: ${problems
      .map((p) => `${p.path} ${p.message}`)
      .join("; ")}`,
    problems,
  );
}
