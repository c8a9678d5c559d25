import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { appDependencies } from "../composition.js";
import { checkAdhocBackupRequest } from "../domain/policy/adhoc.js";
import { AppError } from "../domain/errors.js";
import { BACKUP_IN_PROGRESS_CODE } from "../domain/protection/backupConcurrency.js";
import { parseVaultId } from "../domain/protection/ids.js";
import type { BackupJob } from "../domain/protection/types.js";
import { weeklyBackupLimitViolation } from "../domain/protection/rules.js";
import { findBackupInstance, isServerKind, policyOf } from "../http/backupLookup.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";
import { readBody } from "../http/requestBody.js";
import type { AdhocBackupInput } from "../orchestrations/adhocBackup.js";
import { orchestrationNames } from "../orchestrations/names.js";

/** The body of `POST /api/backup-instances/{name}/backups`. */
export const startBackupBody = z
  .object({
    /** The policy's backup rule, e.g. `BackupWeekly`. */
    ruleName: z.string().min(1),
    /** The retention rule the recovery point is kept under, e.g. `Monthly`; `Default` when absent. */
    retentionTagOverride: z.string().min(1).optional(),
    /** The vault of the instance (or `?vault=`); every vault the app covers when absent. */
    vaultName: z.string().min(1).optional(),
  })
  .strict();

/** The refusal of a second backup while one runs (the local provider raises the same). */
function backupRunning(instanceName: string, running: BackupJob): AppError {
  return new AppError(
    BACKUP_IN_PROGRESS_CODE,
    `Backup instance '${instanceName}' has a backup running: job ${running.name} (${running.operation}, started ${running.startTime}); one backup runs at a time`,
    {
      httpStatus: 409,
      recommendedAction: `Follow the running job (GET /api/jobs/${running.name}) and ask again once it has ended`,
    },
  );
}

/** The durable instance that follows an ad-hoc backup job. */
export function adhocBackupInstanceId(jobName: string): string {
  return `adhoc-${jobName.toLowerCase()}`;
}

/**
 * `POST /api/backup-instances/{name}/backups[?vault=name]`: an ad-hoc backup under a backup rule
 * and, optionally, a retention tag. The request is checked against the instance's policy (a
 * retention rule given as `ruleName` is answered with the backup rule to use) and, for a whole
 * Flexible Server, against the one-backup-a-week rule; the backup is then triggered, so the answer
 * carries the job's id, and an `adhocBackup` orchestration follows the job and publishes its states.
 */
export async function startBackup(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const body = await readBody(request, startBackupBody);
  const located = await findBackupInstance(
    deps,
    request.params.name ?? "",
    request.query.get("vault") ?? body.vaultName,
  );
  const { vaultId, instance } = located;
  const policy = await policyOf(deps, located);
  const { ruleName, retentionTag } = checkAdhocBackupRequest(
    policy.properties,
    body.ruleName,
    body.retentionTagOverride,
  );

  if (isServerKind(instance)) {
    const earlier = await deps.provider.backup.listJobs(vaultId, {
      backupInstanceName: instance.name,
      operation: ["OnDemandBackup", "ScheduledBackup"],
      status: ["InProgress", "Completed"],
    });
    // A running backup is the answer to give, not the weekly limit it will use up.
    const running = earlier.find((job) => job.status === "InProgress");
    if (running) throw backupRunning(instance.name, running);
    const violation = weeklyBackupLimitViolation(
      instance.dataSourceInfo.datasourceType,
      earlier.map((job) => new Date(job.startTime)),
      new Date(),
    );
    if (violation) throw violation;
  }

  const { jobId } = await deps.provider.backup.triggerBackup(vaultId, instance.name, {
    ruleName,
    ...(body.retentionTagOverride ? { retentionTagOverride: retentionTag } : {}),
  });
  const jobName = jobId.split("/").pop() ?? jobId;
  const statusUrl = new URL(`/api/jobs/${jobName}`, request.url).toString();
  const input: AdhocBackupInput = {
    vaultId,
    backupInstanceName: instance.name,
    ruleName,
    ...(body.retentionTagOverride ? { retentionTagOverride: retentionTag } : {}),
    whenWeeklyLimitReached: "refuse",
    jobId,
    ...(requestedBy ? { requestedBy } : {}),
  };
  const operationId = adhocBackupInstanceId(jobName);
  let followed = true;
  try {
    await df
      .getClient(context)
      .startNew(orchestrationNames.adhocBackup, { instanceId: operationId, input });
  } catch (error) {
    // The backup runs whatever happens here; asking again would start a second one. The job
    // watcher still reports its states.
    followed = false;
    context.warn(
      `The ad-hoc backup job ${jobName} runs, but the orchestration following it did not start`,
      error,
    );
  }
  return json(
    202,
    {
      jobId,
      jobName,
      backupInstanceName: instance.name,
      vaultName: parseVaultId(vaultId).vaultName,
      ruleName,
      retentionTag,
      status: "InProgress",
      statusUrl,
      operationId: followed ? operationId : null,
    },
    { location: statusUrl },
  );
}

app.http("startBackup", {
  route: "backup-instances/{name}/backups",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: withProblemDetails(startBackup),
});
