/**
 * Backup plans: "run an ad-hoc backup under this rule, for these instances, on this schedule".
 * A plan is configured in `BACKUP_PLANS` as a JSON list:
 *
 * ```json
 * [{ "name": "month-end", "schedule": "0 0 22 * * *", "calendar": "lastBusinessDayOfMonth",
 *    "select": { "tags": { "tier": "gold" } }, "ruleName": "BackupWeekly",
 *    "retentionTagOverride": "Monthly", "vault": "pgprotect-vault" }]
 * ```
 *
 * Schedules are six-field NCRONTAB in UTC. A plan selects the backup instances it names (by
 * instance name or friendly name `server/db`) together with every instance whose datasource carries
 * all the given tags; only instances whose protection is configured are backed up.
 */
import { z } from "zod";
import { refinementAllows, type CalendarRefinement } from "./calendar.js";
import { occurrencesBetween, parseCronSchedule } from "./cron.js";
import { parseScheduledSetting, scheduledFields, selectionFields } from "./scheduledSettings.js";

const planSchema = z
  .object({
    ...scheduledFields,
    select: z
      .object(selectionFields)
      .strict()
      .refine((s) => (s.backupInstances?.length ?? 0) > 0 || Object.keys(s.tags ?? {}).length > 0, {
        message: "select backup instances by name, by datasource tags, or both",
      }),
    ruleName: z.string().min(1),
    retentionTagOverride: z.string().min(1).optional(),
  })
  .strict();

/** One configured backup plan. */
export type BackupPlan = z.infer<typeof planSchema>;

/**
 * Parses `BACKUP_PLANS`.
 *
 * @throws InvalidInputError `PLANS_INVALID` with a JSON path per problem.
 */
export function parseBackupPlans(text: string): BackupPlan[] {
  return parseScheduledSetting(text, planSchema, {
    setting: "BACKUP_PLANS",
    code: "PLANS_INVALID",
    entry: "plan",
  });
}

/**
 * The occurrence of a plan to run now: the latest one in `(now - catchUpHours, now]` that its
 * calendar refinement keeps, or `undefined`.
 *
 * @remarks Only the latest counts: after an outage the plan backs up once, not once per missed
 * occurrence.
 */
export function dueOccurrence(
  plan: Pick<BackupPlan, "schedule" | "calendar" | "catchUpHours">,
  now: Date,
): Date | undefined {
  const after = new Date(now.getTime() - plan.catchUpHours * 3_600_000);
  const occurrences = occurrencesBetween(parseCronSchedule(plan.schedule), after, now).filter(
    (at) => refinementAllows(plan.calendar as CalendarRefinement | undefined, at),
  );
  return occurrences.at(-1);
}

/** What plan selection needs to know of a backup instance. */
export interface PlanCandidate {
  readonly name: string;
  readonly friendlyName: string;
  readonly protectionStatus: string;
  /** The datasource's tags, as the resource directory reports them. */
  readonly tags: Readonly<Record<string, string>>;
}

/** Whether a plan selects an instance (see the module's remarks). */
export function planSelects(plan: Pick<BackupPlan, "select">, candidate: PlanCandidate): boolean {
  if (candidate.protectionStatus !== "ProtectionConfigured") return false;
  const names = (plan.select.backupInstances ?? []).map((n) => n.toLowerCase());
  if (
    names.includes(candidate.name.toLowerCase()) ||
    names.includes(candidate.friendlyName.toLowerCase())
  )
    return true;
  const tags = Object.entries(plan.select.tags ?? {});
  return (
    tags.length > 0 &&
    tags.every(
      ([key, value]) => tagValue(candidate.tags, key)?.toLowerCase() === value.toLowerCase(),
    )
  );
}

/** A tag's value; ARM compares tag names case-insensitively. */
export function tagValue(tags: Readonly<Record<string, string>>, name: string): string | undefined {
  const key = Object.keys(tags).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : tags[key];
}

/** The instance id of one plan occurrence (see `domain/protection/operationIds.ts`). */
export { planRunInstanceId } from "../protection/operationIds.js";
