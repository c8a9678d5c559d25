/**
 * Which retention tag a scheduled backup gets: the tagging criteria of a backup rule's trigger,
 * compiled once into bit masks so that choosing the tag of one backup allocates nothing.
 *
 * @remarks Semantics (the service's, as far as its documentation and CLI define them):
 * - Every tagging criterion whose `criteria` match, plus the default tag (`isDefault: true`), which
 *   always matches, is a candidate; the candidate with the lowest `taggingPriority` wins (Yearly 10
 *   < Monthly 15 < Weekly 20 < Daily 25 < Default 99). Equal priorities: the first in the list wins.
 * - A `criteria` list matches when any of its `ScheduleBasedBackupCriteria` matches; an empty or
 *   missing list never matches (except for the default tag).
 * - Within one `ScheduleBasedBackupCriteria` every field that is present, non-null and non-empty
 *   must match (AND across fields); a field matches when any of its values does (OR within it).
 * - `absoluteCriteria`: `AllBackup` is every backup; `FirstOfDay`/`FirstOfWeek`/`FirstOfMonth`/
 *   `FirstOfYear` is a backup with no earlier scheduled backup of the same policy in the same
 *   calendar day, week (Sunday to Saturday), month or year.
 * - `daysOfTheWeek`, `monthsOfYear`; `daysOfMonth` (`{date}` is that day, `{isLast: true}` the last
 *   day of the month); `weeksOfTheMonth` (First = days 1-7, Second 8-14, Third 15-21, Fourth
 *   22-28, Last = the month's last 7 days, so a day may be both Fourth and Last);
 *   `scheduleTimes` (the wall-clock time of day of any listed date-time, its date ignored).
 * - Calendar fields are read in the schedule's time zone (`schedule.timeZone`, UTC by default).
 */
import type { InputProblem } from "../errors.js";
import {
  absoluteMarkers,
  daysOfWeek,
  monthsOfYear,
  weekNumbers,
  type AbsoluteMarker,
  type ScheduleBasedBackupCriteria,
  type TaggingCriteria,
} from "./types.js";

const msPerDay = 86_400_000;

/** Bits of {@link FirstOfFlags}: which absolute markers a backup satisfies. */
export const absoluteBits: Readonly<Record<AbsoluteMarker, number>> = {
  AllBackup: 1,
  FirstOfDay: 2,
  FirstOfWeek: 4,
  FirstOfMonth: 8,
  FirstOfYear: 16,
};

/**
 * A bit set of {@link absoluteBits}: `AllBackup` plus every `FirstOf*` period in which the backup
 * is the first scheduled one.
 */
export type FirstOfFlags = number;

/** The calendar fields of an instant in some wall clock. Reused between calls to avoid garbage. */
export interface CalendarFields {
  /** Days since 1970-01-01 of the wall-clock date. */
  dayNumber: number;
  year: number;
  /** 0 = January. */
  month: number;
  /** 1-31. */
  day: number;
  /** 0 = Sunday. */
  weekday: number;
  daysInMonth: number;
  /** Milliseconds since the wall clock's midnight. */
  msOfDay: number;
}

/** Days in a month (`month` 0 = January), by the Gregorian leap-year rule. */
export function daysInMonthOf(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  // 31 for January, March, May, July, August, October, December.
  const month1 = month + 1;
  return 30 + ((month1 + (month1 >> 3)) & 1);
}

/** A fresh, zeroed {@link CalendarFields} to pass to {@link readCalendar}. */
export function emptyCalendarFields(): CalendarFields {
  return { dayNumber: 0, year: 1970, month: 0, day: 1, weekday: 4, daysInMonth: 31, msOfDay: 0 };
}

/**
 * Fills `out` with the calendar fields of `epochMs` in the wall clock `offsetMinutes` ahead of UTC.
 *
 * @remarks Integer arithmetic (H. Hinnant's days-to-civil) instead of `Date`, so the hot loop of a
 * simulation creates no objects.
 */
export function readCalendar(
  epochMs: number,
  offsetMinutes: number,
  out: CalendarFields,
): CalendarFields {
  const wall = epochMs + offsetMinutes * 60_000;
  const dayNumber = Math.floor(wall / msPerDay);
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month1 = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month1 <= 2 ? 1 : 0);
  out.dayNumber = dayNumber;
  out.year = year;
  out.month = month1 - 1;
  out.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  // 1970-01-01 was a Thursday.
  out.weekday = (((dayNumber + 4) % 7) + 7) % 7;
  out.daysInMonth = daysInMonthOf(year, month1 - 1);
  out.msOfDay = wall - dayNumber * msPerDay;
  return out;
}

/** One `ScheduleBasedBackupCriteria` as masks; a mask of 0 means the field does not constrain. */
interface CompiledCriterion {
  readonly absolute: number;
  readonly weekdays: number;
  readonly months: number;
  /** Bit n (1-31) = date n; bit 0 = the last day of the month. */
  readonly days: number;
  /** Bit 0 First ... bit 3 Fourth, bit 4 Last. */
  readonly weeks: number;
  /** Times of day in ms, or undefined when the field does not constrain. */
  readonly times: readonly number[] | undefined;
}

/** A tagging criterion ready to test. */
export interface CompiledTag {
  readonly tagName: string;
  readonly isDefault: boolean;
  readonly priority: number;
  /** Index in the trigger's `taggingCriteria`. */
  readonly index: number;
  readonly criteria: readonly CompiledCriterion[];
}

/** The tagging criteria of a trigger, sorted by priority, ready for {@link selectTag}. */
export interface TagSelector {
  /** Candidates, lowest priority first; nothing after a default tag is ever chosen. */
  readonly tags: readonly CompiledTag[];
  /** Which `FirstOf*` periods any criterion asks about (bits of {@link absoluteBits}). */
  readonly firstOfBitsUsed: number;
}

function maskOf(
  values: readonly (string | null)[] | null | undefined,
  names: readonly string[],
  path: string,
  problems: InputProblem[],
): number {
  if (values === null || values === undefined) return 0;
  let mask = 0;
  values.forEach((value, i) => {
    const bit = value === null ? -1 : names.indexOf(value);
    if (bit < 0) {
      problems.push({
        path: `${path}[${i}]`,
        code: "POLICY_TAG_CRITERIA_VALUE_INVALID",
        message: `'${String(value)}' is not one of ${names.join(", ")}`,
      });
    } else {
      mask |= 1 << bit;
    }
  });
  return mask;
}

const timeOfDayPattern = /T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?/;

function compileCriterion(
  criterion: ScheduleBasedBackupCriteria,
  path: string,
  problems: InputProblem[],
): CompiledCriterion {
  let absolute = 0;
  (criterion.absoluteCriteria ?? []).forEach((marker, i) => {
    const bit = absoluteBits[marker as AbsoluteMarker];
    if (bit === undefined) {
      problems.push({
        path: `${path}.absoluteCriteria[${i}]`,
        code: "POLICY_TAG_CRITERIA_VALUE_INVALID",
        message: `'${String(marker)}' is not one of ${absoluteMarkers.join(", ")}`,
      });
    } else {
      absolute |= bit;
    }
  });
  let days = 0;
  (criterion.daysOfMonth ?? []).forEach((day, i) => {
    if (day?.isLast === true) {
      days |= 1;
    } else if (
      typeof day?.date === "number" &&
      Number.isInteger(day.date) &&
      day.date >= 1 &&
      day.date <= 31
    ) {
      days |= 1 << day.date;
    } else {
      problems.push({
        path: `${path}.daysOfMonth[${i}]`,
        code: "POLICY_TAG_CRITERIA_VALUE_INVALID",
        message: "a day of the month is {date: 1..28} or {isLast: true}",
      });
    }
  });
  let times: number[] | undefined;
  if (criterion.scheduleTimes && criterion.scheduleTimes.length > 0) {
    times = [];
    for (const [i, text] of criterion.scheduleTimes.entries()) {
      const match = timeOfDayPattern.exec(text);
      if (!match) {
        problems.push({
          path: `${path}.scheduleTimes[${i}]`,
          code: "POLICY_TAG_CRITERIA_VALUE_INVALID",
          message: `'${text}' is not a date and time like 2021-08-15T22:00:00`,
        });
        continue;
      }
      const [, h, m, s, frac] = match;
      times.push(
        (Number(h) * 3600 + Number(m) * 60 + Number(s ?? 0)) * 1000 +
          Math.round(Number(`0.${frac ?? 0}`) * 1000),
      );
    }
  }
  return {
    absolute,
    weekdays: maskOf(criterion.daysOfTheWeek, daysOfWeek, `${path}.daysOfTheWeek`, problems),
    months: maskOf(criterion.monthsOfYear, monthsOfYear, `${path}.monthsOfYear`, problems),
    days,
    weeks: maskOf(criterion.weeksOfTheMonth, weekNumbers, `${path}.weeksOfTheMonth`, problems),
    times,
  };
}

/**
 * Compiles a trigger's tagging criteria.
 *
 * @param taggingCriteria - the trigger's `taggingCriteria`.
 * @param path - JSON path of that array, for problems.
 * @param problems - receives one entry per value that cannot be read.
 */
export function compileTagSelector(
  taggingCriteria: readonly TaggingCriteria[],
  path: string,
  problems: InputProblem[],
): TagSelector {
  const tags: CompiledTag[] = taggingCriteria.map((tagging, index) => ({
    tagName: tagging.tagInfo.tagName,
    isDefault: tagging.isDefault === true,
    priority: tagging.taggingPriority,
    index,
    criteria:
      tagging.isDefault === true
        ? []
        : (tagging.criteria ?? []).map((criterion, i) =>
            compileCriterion(criterion, `${path}[${index}].criteria[${i}]`, problems),
          ),
  }));
  // Array.prototype.sort is stable: equal priorities keep their order in the policy.
  tags.sort((a, b) => a.priority - b.priority);
  const firstDefault = tags.findIndex((tag) => tag.isDefault);
  const candidates = firstDefault < 0 ? tags : tags.slice(0, firstDefault + 1);
  let firstOfBitsUsed = 0;
  for (const tag of candidates)
    for (const criterion of tag.criteria) firstOfBitsUsed |= criterion.absolute;
  return { tags: candidates, firstOfBitsUsed: firstOfBitsUsed & ~absoluteBits.AllBackup };
}

function criterionMatches(
  criterion: CompiledCriterion,
  fields: CalendarFields,
  firstOf: FirstOfFlags,
): boolean {
  if (criterion.absolute !== 0 && (criterion.absolute & firstOf) === 0) return false;
  if (criterion.weekdays !== 0 && (criterion.weekdays & (1 << fields.weekday)) === 0) return false;
  if (criterion.months !== 0 && (criterion.months & (1 << fields.month)) === 0) return false;
  if (criterion.days !== 0) {
    const isLast = fields.day === fields.daysInMonth;
    if ((criterion.days & (1 << fields.day)) === 0 && !(isLast && (criterion.days & 1) !== 0))
      return false;
  }
  if (criterion.weeks !== 0) {
    // First..Fourth by the day's position from the start; Last by its distance from the end.
    const fromStart = fields.day <= 28 ? 1 << Math.floor((fields.day - 1) / 7) : 0;
    const last = fields.day > fields.daysInMonth - 7 ? 16 : 0;
    if ((criterion.weeks & (fromStart | last)) === 0) return false;
  }
  if (criterion.times !== undefined && !criterion.times.includes(fields.msOfDay)) return false;
  return true;
}

/**
 * The tag a scheduled backup gets.
 *
 * @param selector - from {@link compileTagSelector}.
 * @param fields - the backup's calendar fields in the schedule's time zone.
 * @param firstOf - `AllBackup` plus the `FirstOf*` periods in which the backup is the first.
 * @returns the winning tag, or `undefined` when nothing matches and the trigger has no default tag.
 */
export function selectTag(
  selector: TagSelector,
  fields: CalendarFields,
  firstOf: FirstOfFlags,
): CompiledTag | undefined {
  const tags = selector.tags;
  for (let i = 0; i < tags.length; i += 1) {
    const tag = tags[i] as CompiledTag;
    if (tag.isDefault) return tag;
    const criteria = tag.criteria;
    for (let j = 0; j < criteria.length; j += 1) {
      if (criterionMatches(criteria[j] as CompiledCriterion, fields, firstOf)) return tag;
    }
  }
  return undefined;
}
