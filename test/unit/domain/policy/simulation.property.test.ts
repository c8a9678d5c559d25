/**
 * Properties of the simulator over random schedules, time zones and rule sets, each checked
 * against a deliberately naive reference written here: occurrences walked one by one from the
 * schedule's start, calendar fields read through `Date` after an offset found with
 * `Intl`'s `longOffset`, "first of period" by remembering every period seen, month arithmetic
 * through `Date.UTC`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addDuration, parseIsoDuration } from "../../../../src/domain/policy/duration.js";
import { addPrepared, prepareDuration } from "../../../../src/domain/policy/retention.js";
import {
  recoveryPointsAt,
  simulatePolicy,
  type SimulatedBackup,
} from "../../../../src/domain/policy/simulation.js";
import type {
  AzureRetentionRule,
  BackupPolicy,
  Day,
  ScheduleBasedBackupCriteria,
  SourceLifeCycle,
  TaggingCriteria,
} from "../../../../src/domain/policy/types.js";

const msPerDay = 86_400_000;
const epoch = Date.UTC(2023, 5, 1);

// ---------------------------------------------------------------------------------------------
// The model the generators produce.

interface ZoneSpec {
  readonly name: string;
  /** IANA name for Intl, or undefined for a fixed offset. */
  readonly iana: string | undefined;
  readonly fixedMinutes: number;
  readonly intervalOffset: string;
}

const zones: readonly ZoneSpec[] = [
  { name: "UTC", iana: undefined, fixedMinutes: 0, intervalOffset: "+00:00" },
  { name: "+05:30", iana: undefined, fixedMinutes: 330, intervalOffset: "+05:30" },
  { name: "-03:00", iana: undefined, fixedMinutes: -180, intervalOffset: "-03:00" },
  { name: "Europe/Berlin", iana: "Europe/Berlin", fixedMinutes: 0, intervalOffset: "+01:00" },
  {
    name: "W. Europe Standard Time",
    iana: "Europe/Berlin",
    fixedMinutes: 0,
    intervalOffset: "+01:00",
  },
  { name: "America/New_York", iana: "America/New_York", fixedMinutes: 0, intervalOffset: "-05:00" },
  { name: "Australia/Sydney", iana: "Australia/Sydney", fixedMinutes: 0, intervalOffset: "+10:00" },
];

interface IntervalSpec {
  readonly startDay: number;
  readonly hour: number;
  readonly minute: number;
  readonly periodDays: 1 | 7;
}

type DurationSpec = { readonly count: number; readonly unit: "D" | "W" | "M" | "Y" };
type CopySpec =
  | { readonly kind: "none" }
  | { readonly kind: "CopyOnExpiryOption" }
  | { readonly kind: "ImmediateCopyOption" }
  | { readonly kind: "CustomCopyOption"; readonly days: number };

interface RuleSpec {
  readonly vault: DurationSpec;
  readonly copy: CopySpec;
  readonly archive: DurationSpec;
}

interface TagSpec {
  readonly name: "Yearly" | "Monthly" | "Weekly" | "Daily";
  readonly criteria: readonly Partial<ScheduleBasedBackupCriteria>[];
  readonly rule: RuleSpec;
}

interface Scenario {
  readonly zone: ZoneSpec;
  readonly intervals: readonly IntervalSpec[];
  readonly tags: readonly TagSpec[];
  readonly defaultRule: RuleSpec;
  readonly from: number;
  readonly to: number;
  readonly adhoc: readonly { at: number; override: string | undefined }[];
}

const priorities = { Yearly: 10, Monthly: 15, Weekly: 20, Daily: 25 } as const;
const dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const monthNames = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const weekNames = ["First", "Second", "Third", "Fourth", "Last"];
const markers = ["AllBackup", "FirstOfDay", "FirstOfWeek", "FirstOfMonth", "FirstOfYear"];

// ---------------------------------------------------------------------------------------------
// Generators.

/** A field that is usually absent, sometimes null (as the service writes it), sometimes set. */
function sometimes<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: value, weight: 3 },
  );
}

const criterionArb: fc.Arbitrary<Partial<ScheduleBasedBackupCriteria>> = fc.record({
  absoluteCriteria: sometimes(fc.subarray(markers, { minLength: 1, maxLength: 2 })),
  daysOfTheWeek: sometimes(fc.subarray(dayNames, { minLength: 1, maxLength: 4 })),
  monthsOfYear: sometimes(fc.subarray(monthNames, { minLength: 1, maxLength: 8 })),
  daysOfMonth: sometimes(
    fc.array(
      fc.oneof(
        fc.integer({ min: 1, max: 28 }).map((date): Day => ({ date, isLast: false })),
        fc.constant<Day>({ isLast: true }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  ),
  weeksOfTheMonth: sometimes(fc.subarray(weekNames, { minLength: 1, maxLength: 2 })),
});

const durationArb: fc.Arbitrary<DurationSpec> = fc.oneof(
  fc.record({ count: fc.integer({ min: 1, max: 120 }), unit: fc.constant("D" as const) }),
  fc.record({ count: fc.integer({ min: 1, max: 30 }), unit: fc.constant("W" as const) }),
  fc.record({ count: fc.integer({ min: 1, max: 30 }), unit: fc.constant("M" as const) }),
  fc.record({ count: fc.integer({ min: 1, max: 3 }), unit: fc.constant("Y" as const) }),
);

/** The fewest days a duration can last (months of 28 days, years of 365). */
function minimumDays(duration: DurationSpec): number {
  return duration.count * { D: 1, W: 7, M: 28, Y: 365 }[duration.unit];
}

const ruleArb: fc.Arbitrary<RuleSpec> = fc
  .record({
    vault: durationArb,
    archive: durationArb,
    copyKind: fc.constantFrom(
      "none",
      "CopyOnExpiryOption",
      "ImmediateCopyOption",
      "CustomCopyOption",
    ),
    copyFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ vault, archive, copyKind, copyFraction }) => {
    // A custom copy no later than the vault copy's deletion, in whole days.
    const copy: CopySpec =
      copyKind === "CustomCopyOption"
        ? { kind: copyKind, days: Math.max(1, Math.floor(copyFraction * minimumDays(vault))) }
        : copyKind === "none"
          ? { kind: "none" }
          : { kind: copyKind };
    return { vault, archive, copy };
  });

const intervalArb: fc.Arbitrary<IntervalSpec> = fc.record({
  startDay: fc.integer({ min: 0, max: 3 * 365 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.constantFrom(0, 15, 30, 45),
  periodDays: fc.constantFrom(1 as const, 7 as const),
});

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    zone: fc.constantFrom(...zones),
    intervals: fc.array(intervalArb, { minLength: 1, maxLength: 3 }),
    tagNames: fc.shuffledSubarray(["Yearly", "Monthly", "Weekly", "Daily"] as const),
    criteria: fc.array(fc.array(criterionArb, { minLength: 1, maxLength: 2 }), {
      minLength: 4,
      maxLength: 4,
    }),
    rules: fc.array(ruleArb, { minLength: 5, maxLength: 5 }),
    fromDay: fc.integer({ min: 0, max: 4 * 365 }),
    fromMinute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
    lengthDays: fc.integer({ min: 1, max: 150 }),
    adhoc: fc.array(
      fc.record({ fraction: fc.double({ min: 0, max: 0.999, noNaN: true }), pick: fc.nat() }),
      {
        maxLength: 3,
      },
    ),
  })
  .map(({ zone, intervals, tagNames, criteria, rules, fromDay, fromMinute, lengthDays, adhoc }) => {
    const tags = tagNames.map((name, i) => ({
      name,
      criteria: criteria[i] ?? [],
      rule: rules[i] as RuleSpec,
    }));
    const from = epoch + fromDay * msPerDay + fromMinute * 60_000;
    const to = from + lengthDays * msPerDay;
    const overrides = [undefined, "Default", ...tagNames];
    return {
      zone,
      intervals,
      tags,
      defaultRule: rules[4] as RuleSpec,
      from,
      to,
      adhoc: adhoc.map(({ fraction, pick }) => ({
        at: Math.floor(from + fraction * (to - from)),
        override: overrides[pick % overrides.length],
      })),
    };
  });

// ---------------------------------------------------------------------------------------------
// Building the policy JSON from a scenario.

const durationText = (d: DurationSpec): string => `P${d.count}${d.unit}`;
const pad = (n: number): string => String(n).padStart(2, "0");

function intervalText(interval: IntervalSpec, zone: ZoneSpec): string {
  const start = new Date(epoch + interval.startDay * msPerDay);
  const date = `${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`;
  const period = interval.periodDays === 7 ? "P1W" : "P1D";
  return `R/${date}T${pad(interval.hour)}:${pad(interval.minute)}:00${zone.intervalOffset}/${period}`;
}

function lifecyclesOf(rule: RuleSpec): SourceLifeCycle[] {
  const vault: SourceLifeCycle = {
    deleteAfter: { duration: durationText(rule.vault), objectType: "AbsoluteDeleteOption" },
    sourceDataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
    targetDataStoreCopySettings: [],
  };
  if (rule.copy.kind === "none") return [vault];
  vault.targetDataStoreCopySettings = [
    {
      copyAfter:
        rule.copy.kind === "CustomCopyOption"
          ? { objectType: "CustomCopyOption", duration: `P${rule.copy.days}D` }
          : { objectType: rule.copy.kind },
      dataStore: { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" },
    },
  ];
  const archive: SourceLifeCycle = {
    deleteAfter: { duration: durationText(rule.archive), objectType: "AbsoluteDeleteOption" },
    sourceDataStore: { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" },
  };
  return [vault, archive];
}

function policyOf(scenario: Scenario): BackupPolicy {
  const tagging: TaggingCriteria[] = scenario.tags.map((tag) => ({
    isDefault: false,
    taggingPriority: priorities[tag.name],
    tagInfo: { tagName: tag.name, id: `${tag.name}_` },
    criteria: tag.criteria.map((c) => ({ objectType: "ScheduleBasedBackupCriteria", ...c })),
  }));
  tagging.push({
    isDefault: true,
    taggingPriority: 99,
    tagInfo: { tagName: "Default", id: "Default_" },
  });
  const rules: AzureRetentionRule[] = [
    {
      name: "Default",
      objectType: "AzureRetentionRule",
      isDefault: true,
      lifecycles: lifecyclesOf(scenario.defaultRule),
    },
    ...scenario.tags.map((tag): AzureRetentionRule => ({
      name: tag.name,
      objectType: "AzureRetentionRule",
      isDefault: false,
      lifecycles: lifecyclesOf(tag.rule),
    })),
  ];
  return {
    objectType: "BackupPolicy",
    datasourceTypes: ["Microsoft.DBforPostgreSQL/flexibleServers"],
    policyRules: [
      {
        name: "BackupWeekly",
        objectType: "AzureBackupRule",
        backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
        dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
        trigger: {
          objectType: "ScheduleBasedTriggerContext",
          schedule: {
            repeatingTimeIntervals: scenario.intervals.map((i) => intervalText(i, scenario.zone)),
            timeZone: scenario.zone.name,
          },
          taggingCriteria: tagging,
        },
      },
      ...rules,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The reference.

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset at an instant, read from Intl's `longOffset` name ("GMT+05:30"). */
function refOffsetMinutes(zone: ZoneSpec, at: number): number {
  if (zone.iana === undefined) return zone.fixedMinutes;
  let format = offsetFormats.get(zone.iana);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone.iana, timeZoneName: "longOffset" });
    offsetFormats.set(zone.iana, format);
  }
  const name =
    format.formatToParts(new Date(at)).find((p) => p.type === "timeZoneName")?.value ?? "";
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!match) return 0;
  return (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

/**
 * The instant a wall-clock time names: of the instants that show it, the earliest; when the clock
 * skips it, the wall time read with the offset before the skip (so it moves forward by the gap).
 */
function refWallToEpoch(zone: ZoneSpec, wall: number): number {
  if (zone.iana === undefined) return wall - zone.fixedMinutes * 60_000;
  const nearby = [
    refOffsetMinutes(zone, wall - 2 * msPerDay),
    refOffsetMinutes(zone, wall + 2 * msPerDay),
  ];
  const valid = nearby
    .map((offset) => wall - offset * 60_000)
    .filter((candidate) => candidate + refOffsetMinutes(zone, candidate) * 60_000 === wall);
  if (valid.length > 0) return Math.min(...valid);
  return wall - (nearby[0] as number) * 60_000;
}

/** Every occurrence from each interval's start up to `to`, walked one period at a time. */
function refOccurrences(scenario: Scenario): number[] {
  const all = new Set<number>();
  for (const interval of scenario.intervals) {
    const start = new Date(epoch + interval.startDay * msPerDay);
    for (let n = 0; ; n += 1) {
      const wall = Date.UTC(
        start.getUTCFullYear(),
        start.getUTCMonth(),
        start.getUTCDate() + n * interval.periodDays,
        interval.hour,
        interval.minute,
      );
      const at = refWallToEpoch(scenario.zone, wall);
      if (at >= scenario.to) break;
      all.add(at);
    }
  }
  return [...all].sort((a, b) => a - b);
}

interface RefCalendar {
  year: number;
  month: number;
  day: number;
  weekday: number;
  daysInMonth: number;
  dayKey: string;
  weekKey: string;
  monthKey: string;
  yearKey: string;
}

function refCalendar(zone: ZoneSpec, at: number): RefCalendar {
  const wall = new Date(at + refOffsetMinutes(zone, at) * 60_000);
  const year = wall.getUTCFullYear();
  const month = wall.getUTCMonth();
  const day = wall.getUTCDate();
  const weekday = wall.getUTCDay();
  const sunday = new Date(Date.UTC(year, month, day - weekday));
  return {
    year,
    month,
    day,
    weekday,
    daysInMonth: new Date(Date.UTC(year, month + 1, 0)).getUTCDate(),
    dayKey: `${year}-${month}-${day}`,
    weekKey: sunday.toISOString().slice(0, 10),
    monthKey: `${year}-${month}`,
    yearKey: String(year),
  };
}

type Firsts = Record<string, boolean>;

function listed<T>(values: readonly T[] | null | undefined): values is readonly T[] {
  return values !== null && values !== undefined && values.length > 0;
}

function refMatches(
  c: Partial<ScheduleBasedBackupCriteria>,
  cal: RefCalendar,
  firsts: Firsts,
): boolean {
  if (listed(c.absoluteCriteria) && !c.absoluteCriteria.some((m) => firsts[m] === true))
    return false;
  if (listed(c.daysOfTheWeek) && !c.daysOfTheWeek.includes(dayNames[cal.weekday] as string))
    return false;
  if (listed(c.monthsOfYear) && !c.monthsOfYear.includes(monthNames[cal.month] as string))
    return false;
  if (
    listed(c.daysOfMonth) &&
    !c.daysOfMonth.some((d) =>
      d.isLast === true ? cal.day === cal.daysInMonth : d.date === cal.day,
    )
  ) {
    return false;
  }
  if (
    listed(c.weeksOfTheMonth) &&
    !c.weeksOfTheMonth.some((w) => {
      if (w === "Last") return cal.day > cal.daysInMonth - 7;
      const index = weekNames.indexOf(w);
      return cal.day >= index * 7 + 1 && cal.day <= index * 7 + 7;
    })
  ) {
    return false;
  }
  return true;
}

/** Adds PnD, PnW, PnM or PnY in a wall clock `offset` minutes ahead of UTC. */
function refAdd(at: number, duration: DurationSpec, offset: number): number {
  if (duration.unit === "D" || duration.unit === "W") {
    return at + duration.count * (duration.unit === "W" ? 7 : 1) * msPerDay;
  }
  const months = duration.unit === "Y" ? 12 * duration.count : duration.count;
  const wall = new Date(at + offset * 60_000);
  const timeOfDay =
    wall.getTime() - Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate());
  const target = wall.getUTCMonth() + months;
  const year = wall.getUTCFullYear() + Math.floor(target / 12);
  const month = target % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(year, month, Math.min(wall.getUTCDate(), lastDay)) + timeOfDay - offset * 60_000;
}

interface RefBackup {
  at: number;
  adhoc: boolean;
  tag: string;
  vaultTo: number;
  archiveFrom: number | undefined;
  archiveTo: number | undefined;
}

function refPlace(
  scenario: Scenario,
  at: number,
  rule: RuleSpec,
): Pick<RefBackup, "vaultTo" | "archiveFrom" | "archiveTo"> {
  const offset = refOffsetMinutes(scenario.zone, at);
  const vaultTo = refAdd(at, rule.vault, offset);
  if (rule.copy.kind === "none") return { vaultTo, archiveFrom: undefined, archiveTo: undefined };
  const archiveFrom =
    rule.copy.kind === "CopyOnExpiryOption"
      ? vaultTo
      : rule.copy.kind === "ImmediateCopyOption"
        ? at
        : at + rule.copy.days * msPerDay;
  const archiveTo = refAdd(archiveFrom, rule.archive, refOffsetMinutes(scenario.zone, archiveFrom));
  return { vaultTo, archiveFrom, archiveTo };
}

function ruleOfTag(scenario: Scenario, tag: string): RuleSpec {
  return scenario.tags.find((t) => t.name === tag)?.rule ?? scenario.defaultRule;
}

/** The reference simulation: scheduled backups in the window, then ad-hoc ones, by instant. */
function refSimulate(scenario: Scenario): RefBackup[] {
  const seen = {
    day: new Set<string>(),
    week: new Set<string>(),
    month: new Set<string>(),
    year: new Set<string>(),
  };
  const backups: RefBackup[] = [];
  for (const at of refOccurrences(scenario)) {
    const cal = refCalendar(scenario.zone, at);
    const firsts: Firsts = {
      AllBackup: true,
      FirstOfDay: !seen.day.has(cal.dayKey),
      FirstOfWeek: !seen.week.has(cal.weekKey),
      FirstOfMonth: !seen.month.has(cal.monthKey),
      FirstOfYear: !seen.year.has(cal.yearKey),
    };
    seen.day.add(cal.dayKey);
    seen.week.add(cal.weekKey);
    seen.month.add(cal.monthKey);
    seen.year.add(cal.yearKey);
    if (at < scenario.from) continue;
    let best = { name: "Default", priority: 99 };
    for (const tag of scenario.tags) {
      if (
        priorities[tag.name] < best.priority &&
        tag.criteria.some((c) => refMatches(c, cal, firsts))
      ) {
        best = { name: tag.name, priority: priorities[tag.name] };
      }
    }
    backups.push({
      at,
      adhoc: false,
      tag: best.name,
      ...refPlace(scenario, at, ruleOfTag(scenario, best.name)),
    });
  }
  for (const request of scenario.adhoc) {
    const tag = request.override ?? "Default";
    backups.push({
      at: request.at,
      adhoc: true,
      tag,
      ...refPlace(scenario, request.at, ruleOfTag(scenario, tag)),
    });
  }
  return backups.sort((a, b) => a.at - b.at || Number(a.adhoc) - Number(b.adhoc));
}

// ---------------------------------------------------------------------------------------------

function simulate(
  scenario: Scenario,
  extra: { from?: number; history?: number[] } = {},
): SimulatedBackup[] {
  return [
    ...simulatePolicy(policyOf(scenario), {
      from: extra.from ?? scenario.from,
      to: scenario.to,
      adhoc: scenario.adhoc.map((a) => ({
        at: a.at,
        ...(a.override === undefined ? {} : { retentionTagOverride: a.override }),
      })),
      ...(extra.history === undefined ? {} : { history: extra.history }),
    }).backups,
  ];
}

/** Identifies a recovery point; two ad-hoc backups at one instant under one tag are the same. */
const key = (b: { at: number; adhoc: boolean; tag: string }): string =>
  `${b.at}${b.adhoc ? "a" : "s"}${b.tag}`;
const runs = { numRuns: 150 };

describe("simulatePolicy properties against a naive reference", () => {
  it("fires exactly the schedule's occurrences in the window and tags each with the lowest-priority matching tag", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        // Arrange
        const expected = refSimulate(scenario);
        // Act
        const actual = simulate(scenario);
        // Assert
        expect(actual.map((b) => [b.at, b.adhoc, b.tag])).toEqual(
          expected.map((b) => [b.at, b.adhoc, b.tag]),
        );
        expect(actual.every((b) => b.rule === b.tag)).toBe(true);
      }),
      runs,
    );
  });

  it("deletes no recovery point before its retention ends and keeps none after", () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
        (scenario, probes) => {
          // Arrange
          const expected = refSimulate(scenario);
          const horizon = Math.max(scenario.to, ...expected.map((b) => b.archiveTo ?? b.vaultTo));
          // Act
          const result = simulatePolicy(policyOf(scenario), {
            from: scenario.from,
            to: scenario.to,
            adhoc: scenario.adhoc.map((a) => ({
              at: a.at,
              retentionTagOverride: a.override ?? null,
            })),
          });
          // Assert: the vault interval of every backup is [created, created + retention).
          expect(result.backups.map((b) => [key(b), b.vaultFrom, b.vaultTo])).toEqual(
            expected.map((b) => [key(b), b.at, b.vaultTo]),
          );
          // At the last millisecond of its retention a recovery point is still there; at its end it is gone.
          for (const backup of expected) {
            expect(recoveryPointsAt(result, backup.vaultTo - 1).VaultStore.map(key)).toContain(
              key(backup),
            );
            expect(recoveryPointsAt(result, backup.vaultTo).VaultStore.map(key)).not.toContain(
              key(backup),
            );
          }
          // At arbitrary instants, exactly the recovery points whose intervals hold the instant exist.
          for (const probe of probes) {
            const t = Math.floor(scenario.from + probe * (horizon - scenario.from));
            const points = recoveryPointsAt(result, t);
            const inVault = expected.filter((b) => b.at <= t && t < b.vaultTo).map(key);
            const inArchive = expected
              .filter(
                (b) =>
                  b.archiveFrom !== undefined &&
                  b.archiveTo !== undefined &&
                  b.archiveFrom <= t &&
                  t < b.archiveTo,
              )
              .map(key);
            expect(points.VaultStore.map(key).sort()).toEqual(inVault.sort());
            expect(points.ArchiveStore.map(key).sort()).toEqual(inArchive.sort());
          }
        },
      ),
      runs,
    );
  });

  it("makes archive copies exactly per copy option: on expiry, at creation, or after the custom duration", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        // Arrange
        const expected = refSimulate(scenario);
        // Act
        const result = simulatePolicy(policyOf(scenario), {
          from: scenario.from,
          to: scenario.to,
          adhoc: scenario.adhoc.map((a) => ({
            at: a.at,
            retentionTagOverride: a.override ?? null,
          })),
        });
        // Assert
        expect(result.backups.map((b) => [key(b), b.archiveFrom, b.archiveTo])).toEqual(
          expected.map((b) => [key(b), b.archiveFrom, b.archiveTo]),
        );
        for (const backup of expected) {
          if (backup.archiveFrom === undefined || backup.archiveTo === undefined) continue;
          if (backup.archiveFrom > backup.at) {
            expect(
              recoveryPointsAt(result, backup.archiveFrom - 1).ArchiveStore.map(key),
            ).not.toContain(key(backup));
          }
          expect(recoveryPointsAt(result, backup.archiveFrom).ArchiveStore.map(key)).toContain(
            key(backup),
          );
          expect(recoveryPointsAt(result, backup.archiveTo - 1).ArchiveStore.map(key)).toContain(
            key(backup),
          );
          expect(recoveryPointsAt(result, backup.archiveTo).ArchiveStore.map(key)).not.toContain(
            key(backup),
          );
        }
      }),
      runs,
    );
  });

  it("gives a window the same backups as a simulation from the schedule's start, and as one given that history", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        // Arrange
        const scheduleStart =
          Math.min(...scenario.intervals.map((i) => epoch + i.startDay * msPerDay)) - 2 * msPerDay;
        const earlier = refOccurrences(scenario).filter((at) => at < scenario.from);
        const windowOnly = (b: SimulatedBackup): boolean => b.at >= scenario.from;
        const inWindow = simulate(scenario);
        // Act
        const fromStart =
          scheduleStart < scenario.from
            ? simulate(scenario, { from: scheduleStart }).filter(windowOnly)
            : inWindow;
        const withHistory = simulate(scenario, { history: earlier });
        // Assert
        expect(inWindow).toEqual(fromStart);
        expect(withHistory).toEqual(inWindow);
      }),
      { numRuns: 100 },
    );
  });

  it("leaves scheduled backups untouched by ad-hoc ones", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        // Arrange
        const withoutAdhoc = { ...scenario, adhoc: [] };
        // Act
        const scheduledAlone = simulate(withoutAdhoc);
        const scheduledBeside = simulate(scenario).filter((b) => !b.adhoc);
        // Assert
        expect(scheduledBeside).toEqual(scheduledAlone);
      }),
      { numRuns: 100 },
    );
  });
});

describe("addPrepared", () => {
  it("adds exactly what addDuration adds, for any instant, offset and duration", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) }),
        fc.integer({ min: -720, max: 840 }),
        fc.record({
          y: fc.nat({ max: 10 }),
          mo: fc.nat({ max: 30 }),
          w: fc.nat({ max: 60 }),
          d: fc.nat({ max: 400 }),
          h: fc.nat({ max: 48 }),
        }),
        (at, offset, { y, mo, w, d, h }) => {
          // Arrange
          const duration = parseIsoDuration(`P${y}Y${mo}M${w}W${d}DT${h}H`);
          if (!duration) throw new Error("the generated duration must parse");
          // Act
          const prepared = addPrepared(at, prepareDuration(duration), offset);
          // Assert
          expect(prepared).toBe(addDuration(at, duration, offset));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
