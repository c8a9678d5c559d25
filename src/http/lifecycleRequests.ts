/**
 * The protection lifecycle's requests and answers: the bodies of stop and change of policy, the
 * request a trigger hands the use case, and the answer: 202 with the operation to follow, or 200
 * when the instance already was where the action leads.
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { z } from "zod";
import type { LifecycleAnswer, LifecycleRequest } from "../application/lifecycle.js";
import type { LifecycleAction } from "../domain/protection/lifecycle.js";
import { startedFrom, type EventLogger } from "../observability/eventLogger.js";
import { json } from "./handler.js";

/** The body of `POST /api/backup-instances/{name}/stop`. */
export const stopProtectionBody = z
  .object({
    /**
     * `false`: stop and keep every recovery point; `true`: delete the backup instance with its
     * recovery points (soft-deleted where the vault keeps deleted items, undeletable until purged).
     */
    deleteData: z.boolean(),
    /** The vault of the instance (or `?vault=`); every vault the app covers when absent. */
    vaultName: z.string().min(1).optional(),
  })
  .strict();

/** The body of `PUT /api/backup-instances/{name}/policy`. */
export const changePolicyBody = z
  .object({
    /** A policy of the instance's vault that protects its datasource type. */
    policyName: z.string().min(1),
    /** The vault of the instance (or `?vault=`); every vault the app covers when absent. */
    vaultName: z.string().min(1).optional(),
  })
  .strict();

/** The use case's request for an action on the instance a route names. */
export function lifecycleRequestOf(
  request: HttpRequest,
  action: LifecycleAction,
  log: EventLogger,
  requestedBy: string | undefined,
  body: { readonly vaultName?: string | undefined; readonly policyName?: string } = {},
): LifecycleRequest {
  const correlation = startedFrom(log);
  return {
    action,
    backupInstanceName: request.params.name ?? "",
    vaultName: request.query.get("vault") ?? body.vaultName,
    ...(body.policyName ? { policyName: body.policyName } : {}),
    ...(requestedBy ? { requestedBy } : {}),
    ...(correlation ? { correlation } : {}),
  };
}

/**
 * 202 with `statusUrl` (and `Location`) to follow the operation, or 200 when nothing was left to
 * do (`outcome: alreadyDone`).
 */
export function lifecycleResponse(request: HttpRequest, answer: LifecycleAnswer): HttpResponseInit {
  if (answer.operationId === null) return json(200, { ...answer, statusUrl: null });
  const statusUrl = new URL(
    `/api/lifecycle-operations/${answer.operationId}`,
    request.url,
  ).toString();
  return json(202, { ...answer, statusUrl }, { location: statusUrl });
}
