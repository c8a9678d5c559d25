/**
 * The short policy spec: what people write by hand, compiled to the service's policy JSON so
 * self-service callers never edit that JSON.
 *
 * @example
 * ```json
 * {
 *   "datasourceType": "AzureDatabaseForPostgreSQLFlexibleServer",
 *   "schedule": { "days": ["Sunday"], "time": "22:00", "timeZone": "UTC" },
 *   "retention": {
 *     "default": "3 months",
 *     "monthly": { "vault": "6 months", "archive": "24 months" },
 *     "yearly": { "vault": "P1Y", "archive": "P9Y" }
 *   }
 * }
 * ```
 */
import { z } from "zod";
import { InvalidInputError, type InputProblem } from "../errors.js";
import { datasourceKinds, manifestForDatasourceType, manifestForKind } from "./datasources.js";
import { parseIsoDuration } from "./duration.js";
import { createLifecycle, setRetentionRule } from "./lifecycle.js";
import { setTriggerSchedule } from "./schedule.js";
import { setTag } from "./tagging.js";
import { defaultPolicyTemplate } from "./template.js";
import { formatUtcOffset, resolveTimeZone } from "./timeZone.js";
import {
  daysOfWeek,
  monthsOfYear,
  weekNumbers,
  type BackupPolicy,
  type ScheduleBasedBackupCriteria,
} from "./types.js";
import { assertValidPolicy } from "./validation.js";

const unitWords: Record<string, string> = {
  d: "D",
  day: "D",
  days: "D",
  w: "W",
  week: "W",
  weeks: "W",
  m: "M",
  month: "M",
  months: "M",
  y: "Y",
  year: "Y",
  years: "Y",
};

/**
 * Reads a retention duration written as ISO 8601 (`P6M`), shorthand (`6M`) or words (`6 months`).
 *
 * @returns the ISO 8601 form, or `undefined` when the text is none of those.
 */
export function normaliseDuration(text: string): string | undefined {
  const trimmed = text.trim();
  if (/^P/i.test(trimmed))
    return parseIsoDuration(trimmed.toUpperCase()) ? trimmed.toUpperCase() : undefined;
  const match = /^(\d+)\s*([A-Za-z]+)$/.exec(trimmed);
  const unit = match?.[2] ? unitWords[match[2].toLowerCase()] : undefined;
  if (!match || !unit || Number(match[1]) <= 0) return undefined;
  return `P${Number(match[1])}${unit}`;
}

const duration = z.string().refine((text) => normaliseDuration(text) !== undefined, {
  message: "must be a duration such as P6M, 6M or '6 months'",
});

const criteriaOverride = z
  .object({
    daysOfWeek: z
      .array(z.enum(daysOfWeek as [string, ...string[]]))
      .min(1)
      .optional(),
    weeksOfMonth: z
      .array(z.enum(weekNumbers as [string, ...string[]]))
      .min(1)
      .optional(),
    monthsOfYear: z
      .array(z.enum(monthsOfYear as [string, ...string[]]))
      .min(1)
      .optional(),
    daysOfMonth: z
      .array(z.union([z.number().int().min(1).max(28), z.literal("Last")]))
      .min(1)
      .optional(),
  })
  .strict();

const taggedRule = z
  .object({
    vault: duration,
    archive: duration.optional(),
    /** Which backups the tag picks; by default the first of the week, month or year. */
    on: criteriaOverride.optional(),
  })
  .strict();

/** The schema of the short policy spec. */
export const policySpecSchema = z
  .object({
    datasourceType: z.string().default("AzureDatabaseForPostgreSQLFlexibleServer"),
    name: z.string().min(1).optional(),
    schedule: z
      .object({
        days: z.array(z.enum(daysOfWeek as [string, ...string[]])).min(1),
        time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time such as 22:00"),
        timeZone: z.string().default("UTC"),
      })
      .strict(),
    retention: z
      .object({
        default: z.union([duration, z.object({ vault: duration }).strict()]),
        weekly: taggedRule.optional(),
        monthly: taggedRule.optional(),
        yearly: taggedRule.optional(),
      })
      .strict(),
  })
  .strict();

/** A short policy spec as written. */
export type PolicySpec = z.input<typeof policySpecSchema>;

// A week whose days are the seed's: 2021-08-15 is a Sunday.
const anchorSunday = Date.UTC(2021, 7, 15);

function toPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    "$",
  );
}

/**
 * Compiles a short spec to the full policy JSON and validates the result.
 *
 * @throws InvalidInputError with JSON paths into the spec (or the policy) for every problem.
 */
export function compilePolicySpec(input: unknown): BackupPolicy {
  const parsed = policySpecSchema.safeParse(input);
  if (!parsed.success) {
    const problems: InputProblem[] = parsed.error.issues.map((issue) => ({
      path: toPath(issue.path),
      code: "POLICY_SPEC_INVALID",
      message: issue.message,
    }));
    throw new InvalidInputError(
      "POLICY_SPEC_INVALID",
      `The policy spec is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join("; ")}`,
      problems,
    );
  }
  const spec = parsed.data;
  const manifest = datasourceKinds.includes(spec.datasourceType as never)
    ? manifestForKind(spec.datasourceType, "$.datasourceType")
    : (manifestForDatasourceType(spec.datasourceType) ??
      manifestForKind(spec.datasourceType, "$.datasourceType"));
  const zone = resolveTimeZone(spec.schedule.timeZone);
  if (!zone) {
    throw new InvalidInputError(
      "POLICY_SPEC_INVALID",
      `$.schedule.timeZone: unknown time zone '${spec.schedule.timeZone}'`,
      [
        {
          path: "$.schedule.timeZone",
          code: "POLICY_SPEC_INVALID",
          message: `unknown time zone '${spec.schedule.timeZone}'`,
        },
      ],
    );
  }

  let policy = defaultPolicyTemplate(manifest.kind);
  if (spec.name) policy.name = spec.name;
  const [hours, minutes] = spec.schedule.time.split(":").map(Number) as [number, number];
  const intervals = spec.schedule.days.map((day) => {
    const date = new Date(anchorSunday + daysOfWeek.indexOf(day as never) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const wall = `${date}T${String(hours).padStart(2, "0")}:${String(minutes).padStart(2, "0")}:00`;
    const offset = zone.offsetMinutesAt(zone.wallToEpoch(Date.parse(`${wall}Z`)));
    return `R/${wall}${formatUtcOffset(offset)}/P1W`;
  });
  policy = setTriggerSchedule(policy, intervals);
  policy = withTimeZone(policy, spec.schedule.timeZone);

  const defaultVault =
    typeof spec.retention.default === "string"
      ? spec.retention.default
      : spec.retention.default.vault;
  policy = setRetentionRule(policy, "Default", [lifecycleFor(defaultVault)]);

  const tagged = [
    ["Weekly", spec.retention.weekly, "FirstOfWeek"],
    ["Monthly", spec.retention.monthly, "FirstOfMonth"],
    ["Yearly", spec.retention.yearly, "FirstOfYear"],
  ] as const;
  for (const [name, rule, marker] of tagged) {
    if (!rule) continue;
    const lifecycles = rule.archive
      ? [lifecycleFor(rule.vault, true), lifecycleFor(rule.archive, false, "ArchiveStore")]
      : [lifecycleFor(rule.vault)];
    policy = setRetentionRule(policy, name, lifecycles);
    const criteria: ScheduleBasedBackupCriteria = rule.on
      ? {
          objectType: "ScheduleBasedBackupCriteria",
          ...(rule.on.daysOfMonth
            ? {
                daysOfMonth: rule.on.daysOfMonth.map((d) =>
                  d === "Last" ? { isLast: true } : { date: d, isLast: false },
                ),
              }
            : {}),
          ...(rule.on.daysOfWeek ? { daysOfTheWeek: rule.on.daysOfWeek } : {}),
          ...(rule.on.monthsOfYear ? { monthsOfYear: rule.on.monthsOfYear } : {}),
          ...(rule.on.weeksOfMonth ? { weeksOfTheMonth: rule.on.weeksOfMonth } : {}),
        }
      : { absoluteCriteria: [marker], objectType: "ScheduleBasedBackupCriteria" };
    policy = setTag(policy, name, [criteria]);
  }
  return assertValidPolicy(policy);
}

function lifecycleFor(text: string, copyToArchive = false, source = "VaultStore") {
  const iso = normaliseDuration(text) ?? text;
  const match = /^P(\d+)([DWMY])$/.exec(iso);
  const lifecycle = createLifecycle({
    retentionDurationCount: match ? Number(match[1]) : 1,
    retentionDurationType: ({ D: "Days", W: "Weeks", M: "Months", Y: "Years" } as const)[
      (match?.[2] ?? "D") as "D"
    ],
    sourceDatastore: source,
    ...(copyToArchive ? { targetDatastore: "ArchiveStore", copyOption: "CopyOnExpiryOption" } : {}),
  });
  // Durations with several fields (P1Y6M) keep their exact text.
  return match
    ? lifecycle
    : { ...lifecycle, deleteAfter: { ...lifecycle.deleteAfter, duration: iso } };
}

function withTimeZone(policy: BackupPolicy, timeZone: string): BackupPolicy {
  return {
    ...policy,
    policyRules: policy.policyRules.map((rule) =>
      rule.objectType === "AzureBackupRule"
        ? {
            ...rule,
            trigger: { ...rule.trigger, schedule: { ...rule.trigger.schedule, timeZone } },
          }
        : rule,
    ),
  };
}
