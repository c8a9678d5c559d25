/**
 * Restore drill schedules: "prove these backup instances restorable, on this schedule". They are
 * configured in `DRILL_SCHEDULES` as a JSON list, beside the backup plans and read the same way:
 *
 * ```json
 * [{ "name": "sunday-drill", "schedule": "0 0 3 * * 0",
 *    "select": { "tags": { "tier": "gold" }, "policies": ["weekly"], "plans": ["month-end"] } }]
 * ```
 *
 * Schedules are six-field NCRONTAB in UTC. A drill schedule selects the backup instances it names
 * (by instance name or friendly name `server/db`), every instance under one of the named policies,
 * every instance a named backup plan selects, and every instance whose datasource carries all the
 * given tags; only instances whose protection is configured are drilled.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors.js";
import { planSelects, type BackupPlan, type PlanCandidate } from "../plans/plans.js";
import {
  parseScheduledSetting,
  scheduledFields,
  selectionFields,
} from "../plans/scheduledSettings.js";

const scheduleSchema = z
  .object({
    ...scheduledFields,
    select: z
      .object({
        ...selectionFields,
        /** Policy names: every instance under one of them. */
        policies: z.array(z.string().min(1)).optional(),
        /** Backup plan names (`BACKUP_PLANS`): every instance the plan selects. */
        plans: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .refine(
        (s) =>
          (s.backupInstances?.length ?? 0) > 0 ||
          Object.keys(s.tags ?? {}).length > 0 ||
          (s.policies?.length ?? 0) > 0 ||
          (s.plans?.length ?? 0) > 0,
        { message: "select backup instances by name, by datasource tags, by policy or by plan" },
      ),
  })
  .strict();

/** One configured drill schedule. */
export type DrillSchedule = z.infer<typeof scheduleSchema>;

/**
 * Parses `DRILL_SCHEDULES`.
 *
 * @param plans - the backup plans, so that a schedule naming a plan that does not exist is
 * refused; without them, plan names are not checked.
 * @throws InvalidInputError `DRILL_SCHEDULES_INVALID` with a JSON path per problem.
 */
export function parseDrillSchedules(
  text: string,
  plans?: readonly Pick<BackupPlan, "name">[],
): DrillSchedule[] {
  const schedules = parseScheduledSetting(text, scheduleSchema, {
    setting: "DRILL_SCHEDULES",
    code: "DRILL_SCHEDULES_INVALID",
    entry: "schedule",
  });
  const planNames = plans && new Set(plans.map((plan) => plan.name.toLowerCase()));
  for (const [index, schedule] of schedules.entries()) {
    for (const [at, plan] of (schedule.select.plans ?? []).entries()) {
      if (!planNames || planNames.has(plan.toLowerCase())) continue;
      throw new InvalidInputError(
        "DRILL_SCHEDULES_INVALID",
        `The drill schedule '${schedule.name}' names the backup plan '${plan}', which BACKUP_PLANS does not have`,
        [
          {
            path: `$[${index}].select.plans[${at}]`,
            code: "DRILL_SCHEDULES_INVALID",
            message: "not a plan of BACKUP_PLANS",
          },
        ],
      );
    }
  }
  return schedules;
}

/** What drill selection needs to know of a backup instance: a plan's view and its policy. */
export interface DrillCandidate extends PlanCandidate {
  /** The policy's name (the last segment of its id). */
  readonly policyName: string;
}

/**
 * Whether a drill schedule selects an instance (see the module's remarks).
 *
 * @param plans - the backup plans its `select.plans` may name.
 */
export function drillSelects(
  schedule: Pick<DrillSchedule, "select">,
  candidate: DrillCandidate,
  plans: readonly BackupPlan[] = [],
): boolean {
  if (candidate.protectionStatus !== "ProtectionConfigured") return false;
  const { select } = schedule;
  // The name and tag rules are the plans' own, so that a selector reads the same in both settings.
  const byNameOrTags =
    (select.backupInstances?.length ?? 0) > 0 || Object.keys(select.tags ?? {}).length > 0;
  if (
    byNameOrTags &&
    planSelects(
      {
        select: {
          ...(select.backupInstances ? { backupInstances: select.backupInstances } : {}),
          ...(select.tags ? { tags: select.tags } : {}),
        },
      },
      candidate,
    )
  )
    return true;
  const policy = candidate.policyName.toLowerCase();
  if ((select.policies ?? []).some((name) => name.toLowerCase() === policy)) return true;
  const named = new Set((select.plans ?? []).map((name) => name.toLowerCase()));
  return plans.some((plan) => named.has(plan.name.toLowerCase()) && planSelects(plan, candidate));
}
