/**
 * The backup rule's tagging criteria: the Default tag, and the retention tags with the criteria
 * that decide which backups they mark.
 */
import { ErrorCodes } from "../../errorCodes.js";
import type { DatasourceManifest } from "../datasources.js";
import {
  absoluteMarkers,
  daysOfWeek,
  monthsOfYear,
  taggingPriorities,
  weekNumbers,
  type RetentionTagName,
} from "../types.js";
import { isObject, type PolicyProblems } from "./problems.js";

/** What tag checks need to know of the rest of the policy. */
export interface TagContext {
  readonly manifest: DatasourceManifest | undefined;
  readonly supportedTags: readonly string[];
  /** The weekdays (0 = Sunday) the schedule runs on; empty when unknown. */
  readonly scheduleWeekdays: ReadonlySet<number>;
  readonly problems: PolicyProblems;
}

/**
 * Checks `taggingCriteria`: exactly one Default tag, supported names at their priorities, and
 * criteria that can apply.
 *
 * @returns each tag name with the path of the tag that (last) defines it, for pairing with the
 * retention rules.
 */
export function validateTags(
  list: unknown,
  path: string,
  context: TagContext,
): Map<string, string> {
  const { manifest, supportedTags, problems } = context;
  const tagNames = new Map<string, string>();
  if (!Array.isArray(list)) {
    problems.error(
      path,
      ErrorCodes.TAG_DEFAULT_MISSING,
      'taggingCriteria must list at least the Default tag ({"isDefault": true, "taggingPriority": 99, "tagInfo": {"tagName": "Default"}}).',
    );
    return tagNames;
  }
  let defaults = 0;
  list.forEach((tag, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(tag) || !isObject(tag.tagInfo) || typeof tag.tagInfo.tagName !== "string") {
      problems.error(
        at,
        ErrorCodes.TAG_INVALID,
        "A tagging criterion needs tagInfo.tagName, isDefault and taggingPriority.",
      );
      return;
    }
    const name = tag.tagInfo.tagName;
    if (tagNames.has(name))
      problems.error(
        `${at}.tagInfo.tagName`,
        ErrorCodes.TAG_DUPLICATE,
        `The tag '${name}' is defined twice.`,
      );
    tagNames.set(name, at);
    if (typeof tag.isDefault !== "boolean") {
      problems.error(`${at}.isDefault`, ErrorCodes.TAG_INVALID, "isDefault must be true or false.");
    }
    if (tag.tagInfo.id !== undefined && tag.tagInfo.id !== null && tag.tagInfo.id !== `${name}_`) {
      problems.warn(
        `${at}.tagInfo.id`,
        ErrorCodes.TAG_ID_MISMATCH,
        `The service names this tag '${name}_', not ${JSON.stringify(tag.tagInfo.id)}.`,
      );
    }
    const expectedPriority = taggingPriorities[name as RetentionTagName];
    if (tag.isDefault === true) {
      defaults += 1;
      if (name !== "Default")
        problems.error(
          `${at}.tagInfo.tagName`,
          ErrorCodes.TAG_DEFAULT_INVALID,
          `The default tag must be named 'Default', not '${name}'.`,
        );
      if (tag.taggingPriority !== 99)
        problems.error(
          `${at}.taggingPriority`,
          ErrorCodes.TAG_PRIORITY_MISMATCH,
          "The Default tag's priority is 99.",
        );
      if (Array.isArray(tag.criteria) && tag.criteria.length > 0) {
        problems.error(
          `${at}.criteria`,
          ErrorCodes.TAG_DEFAULT_INVALID,
          "The Default tag applies to every backup no other tag claims; it takes no criteria.",
        );
      }
      return;
    }
    if (!supportedTags.includes(name)) {
      problems.error(
        `${at}.tagInfo.tagName`,
        ErrorCodes.TAG_NAME_UNSUPPORTED,
        `'${name}' is not a retention tag ${manifest ? `${manifest.kind} supports` : "PostgreSQL supports"}; use ${supportedTags.join(", ")}.`,
      );
    } else if (tag.taggingPriority !== expectedPriority) {
      problems.error(
        `${at}.taggingPriority`,
        ErrorCodes.TAG_PRIORITY_MISMATCH,
        `The service gives the ${name} tag priority ${expectedPriority}, not ${JSON.stringify(tag.taggingPriority)}.`,
      );
    }
    const criteria = tag.criteria;
    if (!Array.isArray(criteria) || criteria.length === 0) {
      problems.error(
        `${at}.criteria`,
        ErrorCodes.TAG_CRITERIA_EMPTY,
        `The ${name} tag has no criteria, so it never applies; add one such as FirstOfMonth.`,
      );
      return;
    }
    criteria.forEach((criterion, j) =>
      validateCriterion(criterion, `${at}.criteria[${j}]`, name, context),
    );
  });
  if (defaults === 0) {
    problems.error(
      path,
      ErrorCodes.TAG_DEFAULT_MISSING,
      'taggingCriteria has no default tag; add {"isDefault": true, "taggingPriority": 99, "tagInfo": {"tagName": "Default"}}.',
    );
  } else if (defaults > 1) {
    problems.error(path, ErrorCodes.TAG_DEFAULT_DUPLICATE, "Only one tag can be the default.");
  }
  return tagNames;
}

/**
 * Checks one criterion of a retention tag: known values in each list, days of the month that
 * exist in every month, at least one field set, and weekdays the schedule actually runs on.
 */
function validateCriterion(
  criterion: unknown,
  path: string,
  tagName: string,
  { scheduleWeekdays, problems }: TagContext,
): void {
  if (!isObject(criterion) || criterion.objectType !== "ScheduleBasedBackupCriteria") {
    problems.error(
      `${path}.objectType`,
      ErrorCodes.TAG_CRITERIA_INVALID,
      'A criterion needs objectType "ScheduleBasedBackupCriteria".',
    );
    return;
  }
  const checkList = (field: string, allowed: readonly string[]) => {
    const value = criterion[field];
    if (value === undefined || value === null) return false;
    if (!Array.isArray(value) || value.length === 0) {
      problems.error(
        `${path}.${field}`,
        ErrorCodes.TAG_CRITERIA_INVALID,
        `${field} must be a non-empty list or null.`,
      );
      return false;
    }
    value.forEach((item, k) => {
      if (!allowed.includes(item as string)) {
        problems.error(
          `${path}.${field}[${k}]`,
          ErrorCodes.TAG_CRITERIA_INVALID,
          `${JSON.stringify(item)} is not allowed in ${field}; use ${allowed.join(", ")}.`,
        );
      }
    });
    return true;
  };
  let any = false;
  any = checkList("absoluteCriteria", absoluteMarkers) || any;
  const hasWeekdays = checkList("daysOfTheWeek", daysOfWeek);
  any = hasWeekdays || any;
  any = checkList("monthsOfYear", monthsOfYear) || any;
  any = checkList("weeksOfTheMonth", weekNumbers) || any;
  const days = criterion.daysOfMonth;
  if (days !== undefined && days !== null) {
    if (!Array.isArray(days) || days.length === 0) {
      problems.error(
        `${path}.daysOfMonth`,
        ErrorCodes.TAG_CRITERIA_INVALID,
        "daysOfMonth must be a non-empty list or null.",
      );
    } else {
      any = true;
      days.forEach((day, k) => {
        const ok =
          isObject(day) &&
          (day.isLast === true ||
            (typeof day.date === "number" &&
              Number.isInteger(day.date) &&
              day.date >= 1 &&
              day.date <= 28));
        if (!ok) {
          problems.error(
            `${path}.daysOfMonth[${k}]`,
            ErrorCodes.TAG_CRITERIA_INVALID,
            'A day of the month is {"date": 1..28} or {"isLast": true}; days 29-31 do not exist in every month.',
          );
        }
      });
    }
  }
  const times = criterion.scheduleTimes;
  if (times !== undefined && times !== null) {
    if (
      !Array.isArray(times) ||
      times.some((t) => typeof t !== "string" || Number.isNaN(Date.parse(t)))
    ) {
      problems.error(
        `${path}.scheduleTimes`,
        ErrorCodes.TAG_CRITERIA_INVALID,
        "scheduleTimes must be a list of date-times.",
      );
    }
  }
  if (!any) {
    problems.error(
      path,
      ErrorCodes.TAG_CRITERIA_EMPTY,
      `This criterion of the ${tagName} tag sets no field, so it never applies.`,
    );
  }
  if (hasWeekdays && scheduleWeekdays.size > 0) {
    const wanted = (criterion.daysOfTheWeek as string[]).map((d) => daysOfWeek.indexOf(d as never));
    if (!wanted.some((d) => scheduleWeekdays.has(d))) {
      problems.warn(
        `${path}.daysOfTheWeek`,
        ErrorCodes.TAG_NEVER_MATCHES,
        `No scheduled backup falls on ${(criterion.daysOfTheWeek as string[]).join(" or ")}, so the ${tagName} tag never applies.`,
      );
    }
  }
}
