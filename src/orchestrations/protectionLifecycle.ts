/**
 * `protectionLifecycle`: one lifecycle action on a backup instance (stop, suspend, resume, change
 * of policy, delete, undelete), carried out by an activity, followed with durable timers while the
 * service's operation runs on, and announced by its `PgProtect.Protection.*` event.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { activityNames, type EventRequest } from "../activities/names.js";
import type { ErrorCode } from "../domain/errorCodes.js";
import { lifecycleActions, type LifecycleAction } from "../domain/protection/lifecycle.js";
import type { RequestCorrelation } from "../observability/eventLogger.js";
import { logEvents } from "../observability/logEvents.js";
import { replaySafeLogger } from "../observability/orchestrationLogger.js";
import { callActivity } from "./callActivity.js";
import { orchestrationNames } from "./names.js";
import { orchestrationInput, requestCorrelationSchema } from "./orchestrationInput.js";

/** How the orchestration follows an action whose service operation outlasted the activity's wait. */
export const lifecyclePolling = {
  intervalSeconds: 15,
  /** An hour of following; the service's lifecycle operations end within minutes. */
  maxPolls: 240,
} as const;

/** What a caller asks for. */
export interface ProtectionLifecycleInput {
  readonly action: LifecycleAction;
  readonly vaultId: string;
  readonly backupInstanceName: string;
  /** `changePolicy`: the ARM id of the policy to move the instance to. */
  readonly policyId?: string;
  readonly requestedBy?: string;
  /** The request that asked for the action, named in the logs of the orchestration. */
  readonly correlation?: RequestCorrelation;
}

/** The input's schema: what `orchestrationInput` checks. */
export const protectionLifecycleInputSchema = z.object({
  action: z.enum(lifecycleActions),
  vaultId: z.string(),
  backupInstanceName: z.string(),
  policyId: z.string().optional(),
  requestedBy: z.string().optional(),
  correlation: requestCorrelationSchema.optional(),
}) satisfies z.ZodType<ProtectionLifecycleInput>;

/** The orchestration's output. */
export interface ProtectionLifecycleOutput {
  readonly outcome: "Succeeded" | "Failed";
  readonly action: LifecycleAction;
  /** The state the instance was left in. */
  readonly state?: string;
  readonly error?: {
    readonly code: ErrorCode;
    readonly serviceCode?: string;
    readonly message: string;
    readonly recommendedAction?: string;
  };
}

/** The orchestrator function. */
export function* protectionLifecycle(
  context: OrchestrationContext,
): Generator<Task, ProtectionLifecycleOutput, unknown> {
  const input = orchestrationInput(context, protectionLifecycleInputSchema);
  const log = replaySafeLogger(context, input.correlation);
  const orchestration = orchestrationNames.protectionLifecycle;
  const { action } = input;
  log.emit(logEvents.orchestrationStarted, { orchestration, target: input.backupInstanceName });
  const key = { vaultId: input.vaultId, backupInstanceName: input.backupInstanceName };
  let output: ProtectionLifecycleOutput;
  try {
    context.df.setCustomStatus({ step: "apply", action });
    const applied = yield* callActivity(context, activityNames.applyLifecycleAction, {
      ...key,
      action,
      ...(input.policyId ? { policyId: input.policyId } : {}),
    });
    if (!applied.ok) {
      const { ok: _failed, ...error } = applied;
      output = { outcome: "Failed", action, error };
    } else {
      let { state } = applied.value;
      for (let poll = 0; applied.value.running && state !== applied.value.targetState; poll += 1) {
        if (poll >= lifecyclePolling.maxPolls) break;
        const until = new Date(
          context.df.currentUtcDateTime.getTime() + lifecyclePolling.intervalSeconds * 1000,
        );
        context.df.setCustomStatus({ step: "follow", action, state });
        log.emit(logEvents.orchestrationWaiting, {
          orchestration,
          step: "follow",
          until: until.toISOString(),
          attempt: poll + 1,
        });
        yield context.df.createTimer(until);
        ({ state } = yield* callActivity(context, activityNames.readLifecycleState, {
          ...key,
          action,
        }));
      }
      if (state !== applied.value.targetState) {
        output = {
          outcome: "Failed",
          action,
          state,
          error: {
            code: "PROTECTION_ACTION_FAILED",
            message: `The backup instance stayed ${state}: it did not reach ${applied.value.targetState} while it was followed`,
            recommendedAction: "Read the backup instance's state; ask again if it is unchanged",
          },
        };
      } else {
        context.df.setCustomStatus({ step: "publish", action, state });
        yield* callActivity(context, activityNames.publishEvents, [
          {
            kind: "protectionLifecycle",
            action,
            vaultId: input.vaultId,
            backupInstanceName: input.backupInstanceName,
            ...(applied.value.instance ? { instance: applied.value.instance } : {}),
            ...(applied.value.previousPolicyId
              ? { previousPolicyId: applied.value.previousPolicyId }
              : {}),
            state,
            operationId: context.df.instanceId,
            ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
            time: context.df.currentUtcDateTime.toISOString(),
          } satisfies EventRequest,
        ]);
        output = { outcome: "Succeeded", action, state };
      }
    }
  } catch (error) {
    output = {
      outcome: "Failed",
      action,
      error: {
        code: "PROTECTION_ACTION_FAILED",
        message: `The ${action} still failed after its retries: ${error instanceof Error ? error.message : String(error)}`,
        recommendedAction: "Read the backup instance's state, then ask again",
      },
    };
  }
  context.df.setCustomStatus({
    step: "done",
    action,
    ...(output.state ? { state: output.state } : {}),
  });
  if (output.outcome === "Failed") {
    log.emit(logEvents.orchestrationFailed, {
      orchestration,
      outcome: output.outcome,
      errorCode: output.error?.code ?? output.outcome,
      errorMessage: output.error?.message ?? `The ${action} failed`,
    });
  } else {
    log.emit(logEvents.orchestrationCompleted, {
      orchestration,
      outcome: output.outcome,
      detail: output.state,
    });
  }
  return output;
}
