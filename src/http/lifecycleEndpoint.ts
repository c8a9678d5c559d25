/**
 * The one answer of the lifecycle endpoints (stop, suspend, resume, change of policy, delete,
 * undelete): each trigger says only which action its route asks for and how its body reads.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { logLifecycleRequest, startLifecycleAction } from "../application/lifecycle.js";
import { appDependencies } from "../composition.js";
import type { LifecycleAction } from "../domain/protection/lifecycle.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { durableOrchestrations } from "./durableStatus.js";
import { discardUnreadBody } from "./handler.js";
import { lifecycleRequestOf, lifecycleResponse } from "./lifecycleRequests.js";
import { authorize } from "./principal.js";

/** What a lifecycle route asks for: the action, and what its body adds (the vault, the policy). */
export interface LifecycleAsk {
  readonly action: LifecycleAction;
  readonly body?: { readonly vaultName?: string | undefined; readonly policyName?: string };
}

/**
 * What the request asks for, read once it is authorized: `() => Promise<LifecycleAsk>` for a route
 * with a body, or the action itself for a route without one (its body is dropped).
 */
export type LifecycleAskReader = LifecycleAction | (() => Promise<LifecycleAsk>);

/**
 * Authorizes a `Backup.Operator`, reads the request, starts the action once on the instance the
 * route names, logs the request and answers 202 with the operation to follow, or 200 when nothing
 * was left to do.
 */
export async function answerLifecycleRequest(
  request: HttpRequest,
  context: InvocationContext,
  readAsk: LifecycleAskReader,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  const requestedBy = authorize(request, "Backup.Operator", deps.config.WEBSITE_AUTH_ENABLED);
  const { action, body } = await askOf(request, readAsk);
  const log = invocationLogger(context);
  const asked = lifecycleRequestOf(request, action, log, requestedBy, body);
  const orchestrations = durableOrchestrations(() => df.getClient(context));
  const answer = await startLifecycleAction(deps, orchestrations, asked, new Date());
  logLifecycleRequest(log, answer, requestedBy);
  return lifecycleResponse(request, answer);
}

async function askOf(request: HttpRequest, readAsk: LifecycleAskReader): Promise<LifecycleAsk> {
  if (typeof readAsk === "function") return readAsk();
  // A route without a body: whatever the caller sent is read and dropped before the answer.
  await discardUnreadBody(request);
  return { action: readAsk };
}
