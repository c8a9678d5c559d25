/**
 * Retention tags: tagging criteria (`tag create-absolute-criteria`, `tag create-generic-criteria`)
 * and tags on a policy's backup rule (`tag set`, `tag remove`).
 */
import { InvalidInputError, type InputProblem } from "../errors.js";
import { manifestForPolicy } from "./datasources.js";
import { backupRuleOf } from "./schedule.js";
import {
  absoluteMarkers,
  daysOfWeek,
  monthsOfYear,
  taggingPriorities,
  weekNumbers,
  type AbsoluteMarker,
  type BackupPolicy,
  type Day,
  type DayOfWeek,
  type Month,
  type RetentionTagName,
  type ScheduleBasedBackupCriteria,
  type TaggingCriteria,
  type WeekNumber,
} from "./types.js";

function fail(problems: InputProblem[]): never {
  throw new InvalidInputError(
    problems[0]?.code ?? "INVALID_INPUT",
    problems.map((p) => `${p.path}: ${p.message}`).join("; "),
    problems,
  );
}

/**
 * `tag create-absolute-criteria`: a criterion such as "the first backup of the month".
 *
 * @throws InvalidInputError for a marker the service does not know.
 */
export function createAbsoluteCriteria(marker: string): ScheduleBasedBackupCriteria {
  if (!absoluteMarkers.includes(marker as AbsoluteMarker)) {
    fail([
      {
        path: "--absolute-criteria",
        code: "TAG_CRITERIA_INVALID",
        message: `'${marker}' is not an absolute criterion; use ${absoluteMarkers.join(", ")}`,
      },
    ]);
  }
  return { absoluteCriteria: [marker], objectType: "ScheduleBasedBackupCriteria" };
}

/** Options of `tag create-generic-criteria`; every given list narrows the criterion. */
export interface GenericCriteriaOptions {
  readonly daysOfWeek?: readonly string[] | undefined;
  readonly weeksOfMonth?: readonly string[] | undefined;
  readonly monthsOfYear?: readonly string[] | undefined;
  /** `1`..`28` or `Last`. */
  readonly daysOfMonth?: readonly string[] | undefined;
}

/**
 * `tag create-generic-criteria`: a criterion by days of the week, weeks of the month, months of
 * the year and days of the month (1-28 or Last).
 *
 * @throws InvalidInputError naming the flag and value at fault.
 */
export function createGenericCriteria(
  options: GenericCriteriaOptions,
): ScheduleBasedBackupCriteria {
  const problems: InputProblem[] = [];
  const check = <T extends string>(
    flag: string,
    values: readonly string[] | undefined,
    allowed: readonly T[],
  ) => {
    for (const value of values ?? []) {
      if (!allowed.includes(value as T)) {
        problems.push({
          path: flag,
          code: "TAG_CRITERIA_INVALID",
          message: `'${value}' is not allowed; use ${allowed.join(", ")}`,
        });
      }
    }
  };
  check<DayOfWeek>("--days-of-week", options.daysOfWeek, daysOfWeek);
  check<WeekNumber>("--weeks-of-month", options.weeksOfMonth, weekNumbers);
  check<Month>("--months-of-year", options.monthsOfYear, monthsOfYear);
  const days: Day[] = [];
  for (const value of options.daysOfMonth ?? []) {
    if (value.toLowerCase() === "last") {
      days.push({ isLast: true });
    } else if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 28) {
      days.push({ date: Number(value), isLast: false });
    } else {
      problems.push({
        path: "--days-of-month",
        code: "TAG_CRITERIA_INVALID",
        message: `'${value}' is not a day of the month; use 1 to 28, or Last`,
      });
    }
  }
  const given = [
    options.daysOfWeek,
    options.weeksOfMonth,
    options.monthsOfYear,
    options.daysOfMonth,
  ].some((list) => list !== undefined && list.length > 0);
  if (!given) {
    problems.push({
      path: "--days-of-week",
      code: "TAG_CRITERIA_EMPTY",
      message:
        "give at least one of --days-of-week, --weeks-of-month, --months-of-year, --days-of-month",
    });
  }
  if (problems.length > 0) fail(problems);
  const criteria: ScheduleBasedBackupCriteria = { objectType: "ScheduleBasedBackupCriteria" };
  if (days.length > 0) criteria.daysOfMonth = days;
  if (options.daysOfWeek?.length) criteria.daysOfTheWeek = [...options.daysOfWeek];
  if (options.monthsOfYear?.length) criteria.monthsOfYear = [...options.monthsOfYear];
  if (options.weeksOfMonth?.length) criteria.weeksOfTheMonth = [...options.weeksOfMonth];
  return criteria;
}

function supportedTags(policy: BackupPolicy): string[] {
  return [
    ...(manifestForPolicy(policy)?.supportedRetentionTags ?? [
      "Daily",
      "Weekly",
      "Monthly",
      "Yearly",
    ]),
  ];
}

/**
 * `tag set`: adds a retention tag with its criteria to the backup rule's trigger, or replaces the
 * criteria of an existing tag. The tag gets the service's priority and id `<name>_`.
 *
 * @throws InvalidInputError for an unsupported tag name or empty criteria.
 */
export function setTag(
  policy: BackupPolicy,
  name: string,
  criteria: readonly ScheduleBasedBackupCriteria[],
): BackupPolicy {
  const allowed = supportedTags(policy);
  const problems: InputProblem[] = [];
  if (!allowed.includes(name)) {
    problems.push({
      path: "--name",
      code: "TAG_NAME_UNSUPPORTED",
      message: `'${name}' is not a retention tag this datasource supports; use ${allowed.join(", ")}`,
    });
  }
  if (criteria.length === 0) {
    problems.push({
      path: "--criteria",
      code: "TAG_CRITERIA_EMPTY",
      message: "give at least one criterion",
    });
  }
  if (problems.length > 0) fail(problems);
  const rule = backupRuleOf(policy);
  const existing = rule.trigger.taggingCriteria.find((tag) => tag.tagInfo.tagName === name);
  const tag: TaggingCriteria = existing
    ? { ...existing, criteria: [...criteria] }
    : {
        criteria: [...criteria],
        isDefault: false,
        tagInfo: { id: `${name}_`, tagName: name },
        taggingPriority: taggingPriorities[name as RetentionTagName],
      };
  const taggingCriteria = existing
    ? rule.trigger.taggingCriteria.map((t) => (t === existing ? tag : t))
    : [...rule.trigger.taggingCriteria, tag];
  return replaceTagging(policy, taggingCriteria);
}

/**
 * `tag remove`: removes a retention tag. The default tag cannot be removed.
 *
 * @throws InvalidInputError for `Default` or a tag the policy does not have.
 */
export function removeTag(policy: BackupPolicy, name: string): BackupPolicy {
  const rule = backupRuleOf(policy);
  const target = rule.trigger.taggingCriteria.find((tag) => tag.tagInfo.tagName === name);
  if (!target) {
    fail([
      {
        path: "--name",
        code: "TAG_NOT_FOUND",
        message: `the policy has no retention tag named '${name}'`,
      },
    ]);
  }
  if (target.isDefault) {
    fail([
      {
        path: "--name",
        code: "TAG_DEFAULT_REQUIRED",
        message: "the Default tag cannot be removed",
      },
    ]);
  }
  return replaceTagging(
    policy,
    rule.trigger.taggingCriteria.filter((tag) => tag !== target),
  );
}

function replaceTagging(policy: BackupPolicy, taggingCriteria: TaggingCriteria[]): BackupPolicy {
  const rule = backupRuleOf(policy);
  return {
    ...policy,
    policyRules: policy.policyRules.map((r) =>
      r === rule ? { ...rule, trigger: { ...rule.trigger, taggingCriteria } } : r,
    ),
  };
}
