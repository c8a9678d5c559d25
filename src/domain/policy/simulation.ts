/**
 * The policy simulator (what-if): for a policy and a time window, every backup the schedule takes,
 * its retention tag and rule, when it is copied to the archive tier and when each copy is deleted;
 * which recovery points exist at an instant; and the storage they take per tier.
 *
 * @remarks The same code decides the local provider's real retention, so every boundary is exact.
 * Semantics:
 * - Scheduled backups fire at the backup rule's schedule occurrences (see `scheduleOccurrences`),
 *   all assumed successful, and land in the backup rule's datastore (`VaultStore`).
 * - Tags follow `tagSelection.ts` (lowest priority among the matching criteria and the default tag;
 *   calendar fields in the schedule's `timeZone`), lifecycles follow `retention.ts`.
 * - "First of day/week/month/year" counts scheduled backups only. By default the schedule is taken
 *   to have run since its first interval's start, so a window that starts mid-month still knows the
 *   backups earlier in that month (the result equals simulating from the schedule's start and
 *   keeping the window). Pass `history` to say instead which scheduled backups really happened
 *   before `from` (`[]`: protection starts at `from`).
 * - Ad-hoc backups are tagged by their `retentionTagOverride`, or Default; they never count for
 *   "first of period".
 * - Backups are those created in `[from, to)`; deletions after `to` are still given, so the result
 *   answers "when is it deleted". Recovery points created before `from` are not listed.
 * - A copy exists on the half-open interval `[enteredAt, deletedAt)`.
 * - Storage: a backup taken `m` months after `from` (a month being 365.25/12 days) is
 *   `sizeGb * (1 + monthlyGrowth)^m` GB; each copy adds size x (days it spends in its tier within
 *   the window) / (365.25/12) GB-months to that tier.
 */
import { InvalidInputError, type InputProblem } from "../errors.js";
import {
  compileRetentionRules,
  planRetention,
  retentionRuleForTag,
  type CompiledRetentionRule,
  type RetentionPlan,
} from "./retention.js";
import { backupRuleOf, scheduleOccurrences } from "./schedule.js";
import {
  absoluteBits,
  compileTagSelector,
  emptyCalendarFields,
  readCalendar,
  selectTag,
  type CalendarFields,
} from "./tagSelection.js";
import { resolveTimeZone, type ScheduleTimeZone } from "./timeZone.js";
import { isRetentionRule, type BackupPolicy } from "./types.js";
import { assertValidPolicy } from "./validation.js";

const msPerDay = 86_400_000;
/** The average month the storage estimate counts in: 365.25 / 12 days. */
export const msPerAverageMonth = (365.25 / 12) * msPerDay;

/** An instant: epoch milliseconds, an ISO 8601 date-time with an offset, or a date (UTC midnight). */
export type InstantInput = number | string;

/** An on-demand backup to include in a simulation. */
export interface AdhocBackupInput {
  /** When it was (or will be) taken. */
  readonly at: InstantInput;
  /** The backup rule it runs under (`BackupWeekly`); when given it must be the policy's. */
  readonly ruleName?: string | null;
  /** The retention tag it is kept under (`Monthly`); Default when absent. */
  readonly retentionTagOverride?: string | null;
}

/** Options of {@link simulatePolicy}. */
export interface SimulationOptions {
  /** Start of the window, inclusive. */
  readonly from: InstantInput;
  /** End of the window, exclusive. */
  readonly to: InstantInput;
  /** Size of the first backup in GB, for the storage estimate (default 1). */
  readonly sizeGb?: number;
  /** Growth of the backup size per month, as a fraction (0.02 = 2 %; default 0). */
  readonly monthlyGrowth?: number;
  /** On-demand backups; those outside the window are not listed. */
  readonly adhoc?: readonly AdhocBackupInput[];
  /**
   * The scheduled backups that happened before `from`, for "first of period" criteria. When absent
   * the schedule is taken to have run since its start.
   */
  readonly history?: readonly InstantInput[];
}

/**
 * One recovery point. Instants are epoch milliseconds; a missing archive copy is `undefined`.
 * The vault copy exists on `[vaultFrom, vaultTo)`, the archive copy on `[archiveFrom, archiveTo)`.
 */
export interface SimulatedBackup {
  readonly at: number;
  readonly adhoc: boolean;
  /** The retention tag it got. */
  readonly tag: string;
  /** The retention rule that governs it. */
  readonly rule: string;
  readonly vaultFrom: number;
  readonly vaultTo: number;
  readonly archiveFrom: number | undefined;
  readonly archiveTo: number | undefined;
  /** Its size in GB under the simulation's size and growth. */
  readonly sizeGb: number;
}

/** GB-months per tier. */
export interface StorageEstimate {
  VaultStore: number;
  ArchiveStore: number;
}

/** The result of {@link simulatePolicy}. */
export interface PolicySimulation {
  readonly policyName: string | undefined;
  readonly from: number;
  readonly to: number;
  /** The schedule's time zone name, in which calendar criteria were read. */
  readonly timeZone: string;
  readonly sizeGb: number;
  readonly monthlyGrowth: number;
  /** Backups created in `[from, to)`, by creation instant (scheduled before ad-hoc at a tie). */
  readonly backups: readonly SimulatedBackup[];
  readonly storage: StorageEstimate;
}

/** A recovery point's stay in one tier, as ISO 8601 instants (`to` is exclusive). */
export interface StoreIntervalJson {
  readonly from: string;
  readonly to: string;
}

/** One recovery point in {@link SimulationJson}. */
export interface SimulatedBackupJson {
  readonly at: string;
  readonly adhoc: boolean;
  readonly tag: string;
  readonly rule: string;
  readonly sizeGb: number;
  readonly vault: StoreIntervalJson;
  readonly archive?: StoreIntervalJson;
}

/** The JSON form of a simulation (`pgprotect policy simulate --output json`). */
export interface SimulationJson {
  readonly policyName?: string;
  readonly from: string;
  readonly to: string;
  readonly timeZone: string;
  readonly sizeGb: number;
  readonly monthlyGrowth: number;
  readonly backups: SimulatedBackupJson[];
  /** GB-months per tier within the window. */
  readonly storage: StorageEstimate;
}

/** Recovery points that exist at one instant, per tier. */
export interface RecoveryPointsAt {
  readonly VaultStore: SimulatedBackup[];
  readonly ArchiveStore: SimulatedBackup[];
}

const isoInstantPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Reads an instant: epoch milliseconds, an ISO 8601 date-time that names its offset, or a date
 * (midnight UTC). A date-time without an offset is refused: it would depend on the machine's zone.
 *
 * @returns epoch milliseconds, or `undefined` when the input is not an instant (30 February
 * included, which `Date.parse` would roll into March).
 */
export function parseInstant(input: InstantInput): number | undefined {
  if (typeof input === "number") return Number.isFinite(input) ? input : undefined;
  const match = isoInstantPattern.exec(input);
  if (!match) return undefined;
  const [, year, month, day] = match;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day))
    return undefined;
  const ms = Date.parse(input);
  return Number.isNaN(ms) ? undefined : ms;
}

function instantOption(input: InstantInput, path: string, problems: InputProblem[]): number {
  const ms = parseInstant(input);
  if (ms === undefined) {
    problems.push({
      path,
      code: "SIMULATION_INSTANT_INVALID",
      message: `'${String(input)}' is not an instant like 2026-01-01T00:00:00Z`,
    });
    return Number.NaN;
  }
  return ms;
}

function fail(problems: readonly InputProblem[]): never {
  throw new InvalidInputError(
    problems[0]?.code ?? "SIMULATION_INVALID",
    problems.map((p) => `${p.path}: ${p.message}`).join("; "),
    problems,
  );
}

/** Keys of the calendar periods "first of" criteria compare. */
interface PeriodKeys {
  day: number;
  week: number;
  month: number;
  year: number;
}

/**
 * Tracks which periods already saw a scheduled backup.
 *
 * @remarks In a fixed-offset zone wall time only moves forward, so comparing with the last key is
 * exact. A zone with daylight saving can step the wall clock back across midnight (a few zones
 * switch there), so those remember every key seen.
 */
class PeriodTracker {
  private readonly last: PeriodKeys = {
    day: Number.NaN,
    week: Number.NaN,
    month: Number.NaN,
    year: Number.NaN,
  };
  private readonly seen:
    { day: Set<number>; week: Set<number>; month: Set<number>; year: Set<number> } | undefined;

  constructor(monotonic: boolean) {
    this.seen = monotonic
      ? undefined
      : { day: new Set(), week: new Set(), month: new Set(), year: new Set() };
  }

  /** Records a scheduled backup and returns its first-of flags (always including AllBackup). */
  observe(fields: CalendarFields): number {
    const week = fields.dayNumber - fields.weekday;
    const month = fields.year * 12 + fields.month;
    let flags = absoluteBits.AllBackup;
    if (this.seen === undefined) {
      const last = this.last;
      if (fields.dayNumber !== last.day) flags |= absoluteBits.FirstOfDay;
      if (week !== last.week) flags |= absoluteBits.FirstOfWeek;
      if (month !== last.month) flags |= absoluteBits.FirstOfMonth;
      if (fields.year !== last.year) flags |= absoluteBits.FirstOfYear;
      last.day = fields.dayNumber;
      last.week = week;
      last.month = month;
      last.year = fields.year;
      return flags;
    }
    const seen = this.seen;
    if (!seen.day.has(fields.dayNumber)) flags |= absoluteBits.FirstOfDay;
    if (!seen.week.has(week)) flags |= absoluteBits.FirstOfWeek;
    if (!seen.month.has(month)) flags |= absoluteBits.FirstOfMonth;
    if (!seen.year.has(fields.year)) flags |= absoluteBits.FirstOfYear;
    seen.day.add(fields.dayNumber);
    seen.week.add(week);
    seen.month.add(month);
    seen.year.add(fields.year);
    return flags;
  }
}

/**
 * The earliest instant whose backups can share a calendar week or year with a backup at or after
 * `from` (the start of `from`'s year or week, whichever is earlier, with a day's margin for zones
 * whose offset changes in between).
 */
function periodLookbackStart(from: number, zone: ScheduleTimeZone): number {
  const fields = readCalendar(from, zone.offsetMinutesAt(from), emptyCalendarFields());
  const startOfYearWall = Date.UTC(fields.year, 0, 1);
  const startOfWeekWall = (fields.dayNumber - fields.weekday) * msPerDay;
  return zone.wallToEpoch(Math.min(startOfYearWall, startOfWeekWall)) - msPerDay;
}

function overlapMs(start: number, end: number, from: number, to: number): number {
  const a = start > from ? start : from;
  const b = end < to ? end : to;
  return b > a ? b - a : 0;
}

interface ResolvedAdhoc {
  readonly at: number;
  readonly tag: string;
  readonly rule: CompiledRetentionRule;
}

/**
 * Simulates a policy over `[from, to)`.
 *
 * @param policy - the service's policy JSON (`properties` of a policy resource).
 * @param options - the window, sizes, ad-hoc backups and optional history.
 * @returns every backup created in the window with its tag, rule and tier intervals, and the
 * storage estimate.
 * @throws InvalidInputError listing every problem that stops the simulation (unreadable window,
 * schedule or durations, a tag without a retention rule, an archive copy without an ArchiveStore
 * lifecycle, a custom copy after the vault copy's deletion, ...), each with a JSON path or option.
 */
export function simulatePolicy(policy: BackupPolicy, options: SimulationOptions): PolicySimulation {
  const problems: InputProblem[] = [];
  const from = instantOption(options.from, "from", problems);
  const to = instantOption(options.to, "to", problems);
  if (!Number.isNaN(from) && !Number.isNaN(to) && !(from < to)) {
    problems.push({
      path: "to",
      code: "SIMULATION_WINDOW_EMPTY",
      message: "the window must end after it starts",
    });
  }
  const sizeGb = options.sizeGb ?? 1;
  const monthlyGrowth = options.monthlyGrowth ?? 0;
  if (!Number.isFinite(sizeGb) || sizeGb < 0) {
    problems.push({
      path: "sizeGb",
      code: "SIMULATION_SIZE_INVALID",
      message: "the backup size must be 0 GB or more",
    });
  }
  if (!Number.isFinite(monthlyGrowth) || monthlyGrowth <= -1) {
    problems.push({
      path: "monthlyGrowth",
      code: "SIMULATION_GROWTH_INVALID",
      message: "the monthly growth is a fraction above -1 (0.02 = 2 % a month)",
    });
  }

  const backupRule = backupRuleOf(policy);
  const backupRuleIndex = policy.policyRules.indexOf(backupRule);
  const rulePath = `$.policyRules[${backupRuleIndex}]`;
  if (backupRule.dataStore?.dataStoreType !== "VaultStore") {
    problems.push({
      path: `${rulePath}.dataStore.dataStoreType`,
      code: "POLICY_DATASTORE_UNSUPPORTED",
      message: `PostgreSQL backups land in VaultStore, not '${String(backupRule.dataStore?.dataStoreType)}'`,
    });
  }
  const schedule = backupRule.trigger.schedule;
  const zone = resolveTimeZone(schedule.timeZone);
  if (!zone) {
    problems.push({
      path: `${rulePath}.trigger.schedule.timeZone`,
      code: "SCHEDULE_TIME_ZONE_INVALID",
      message: `unknown time zone '${String(schedule.timeZone)}'`,
    });
  }
  const taggingPath = `${rulePath}.trigger.taggingCriteria`;
  const selector = compileTagSelector(
    backupRule.trigger.taggingCriteria ?? [],
    taggingPath,
    problems,
  );
  const rules = compileRetentionRules(policy, problems);
  // Resolve every reachable tag's rule up front, so the loop only looks it up.
  const ruleOfTag = new Map<string, CompiledRetentionRule>();
  const retentionRuleNames = new Set(
    policy.policyRules
      .filter(isRetentionRule)
      .flatMap((rule) => (rule.isDefault === true ? [rule.name, "Default"] : [rule.name])),
  );
  for (const tag of selector.tags) {
    const rule = retentionRuleForTag(rules, tag.tagName, tag.isDefault);
    if (rule) {
      ruleOfTag.set(tag.tagName, rule);
    } else if (!retentionRuleNames.has(tag.tagName)) {
      // A rule that exists but could not be compiled has reported its own problems.
      problems.push({
        path: `${taggingPath}[${tag.index}].tagInfo.tagName`,
        code: "POLICY_RETENTION_RULE_MISSING",
        message: tag.isDefault
          ? "the default tag needs a retention rule with isDefault true"
          : `tag '${tag.tagName}' needs a retention rule named '${tag.tagName}'`,
      });
    }
  }
  if (!selector.tags.some((tag) => tag.isDefault)) {
    problems.push({
      path: taggingPath,
      code: "POLICY_DEFAULT_TAG_MISSING",
      message:
        "the trigger needs a default tag (isDefault true, tagName Default) for backups no other tag takes",
    });
  }

  const adhoc: ResolvedAdhoc[] = [];
  (options.adhoc ?? []).forEach((request, i) => {
    const path = `adhoc[${i}]`;
    const at = instantOption(request.at, `${path}.at`, problems);
    const override = request.retentionTagOverride ?? undefined;
    if (
      request.ruleName !== undefined &&
      request.ruleName !== null &&
      request.ruleName !== backupRule.name
    ) {
      problems.push({
        path: `${path}.ruleName`,
        code: "ADHOC_RULE_NAME_INVALID",
        message: rules.byName.has(request.ruleName)
          ? `'${request.ruleName}' is a retention rule, not the backup rule: set ruleName to '${backupRule.name}' and retentionTagOverride to '${request.ruleName}'`
          : `'${request.ruleName}' is not the policy's backup rule; ruleName is the backup rule ('${backupRule.name}') and retentionTagOverride names the retention tag`,
      });
    }
    const tag = override ?? "Default";
    const rule = retentionRuleForTag(rules, tag, override === undefined || override === "Default");
    if (!rule) {
      problems.push({
        path: `${path}.retentionTagOverride`,
        code: "ADHOC_RETENTION_TAG_INVALID",
        message: `the policy has no retention rule for tag '${tag}'; use one of ${[...rules.byName.keys()].join(", ")}`,
      });
      return;
    }
    if (at >= from && at < to) adhoc.push({ at, tag, rule });
  });

  let history: number[] | undefined;
  if (options.history !== undefined) {
    history = options.history
      .map((instant, i) => instantOption(instant, `history[${i}]`, problems))
      .filter((at) => at < from)
      .sort((a, b) => a - b);
  }
  if (problems.length > 0 || !zone) fail(problems);

  const tracker = new PeriodTracker(zone.fixed);
  const fields = emptyCalendarFields();
  const fixedOffset = zone.fixed ? zone.offsetMinutesAt(from) : 0;
  const needsFirstOf = selector.firstOfBitsUsed !== 0;
  let occurrences: number[];
  if (history !== undefined) {
    if (needsFirstOf) {
      for (const at of history)
        tracker.observe(
          readCalendar(at, zone.fixed ? fixedOffset : zone.offsetMinutesAt(at), fields),
        );
    }
    occurrences = scheduleOccurrences(schedule, from, to);
  } else {
    occurrences = scheduleOccurrences(
      schedule,
      needsFirstOf ? periodLookbackStart(from, zone) : from,
      to,
    );
  }

  const backups: SimulatedBackup[] = [];
  const plan: RetentionPlan = { vaultFrom: 0, vaultTo: 0, archiveFrom: 0, archiveTo: 0 };
  const storage: StorageEstimate = { VaultStore: 0, ArchiveStore: 0 };
  // (1 + g)^m as exp(m * ln(1 + g)), with the logarithm taken once.
  const growthPerMs = Math.log1p(monthlyGrowth) / msPerAverageMonth;
  let adhocIndex = 0;
  adhoc.sort((a, b) => a.at - b.at);

  const record = (at: number, isAdhoc: boolean, tag: string, rule: CompiledRetentionRule): void => {
    planRetention(rule, at, zone, plan);
    const hasArchive = !Number.isNaN(plan.archiveFrom);
    if (hasArchive && plan.archiveFrom > plan.vaultTo) {
      fail([
        {
          path: rule.copyPath,
          code: "POLICY_COPY_AFTER_DELETION",
          message: `the custom copy of the backup at ${new Date(at).toISOString()} would start after its vault copy is deleted; copy no later than the vault retention`,
        },
      ]);
    }
    const size = monthlyGrowth === 0 ? sizeGb : sizeGb * Math.exp((at - from) * growthPerMs);
    storage.VaultStore +=
      (size * overlapMs(plan.vaultFrom, plan.vaultTo, from, to)) / msPerAverageMonth;
    if (hasArchive)
      storage.ArchiveStore +=
        (size * overlapMs(plan.archiveFrom, plan.archiveTo, from, to)) / msPerAverageMonth;
    backups.push({
      at,
      adhoc: isAdhoc,
      tag,
      rule: rule.name,
      vaultFrom: plan.vaultFrom,
      vaultTo: plan.vaultTo,
      archiveFrom: hasArchive ? plan.archiveFrom : undefined,
      archiveTo: hasArchive ? plan.archiveTo : undefined,
      sizeGb: size,
    });
  };

  for (let i = 0; i < occurrences.length; i += 1) {
    const at = occurrences[i] as number;
    const offset = zone.fixed ? fixedOffset : zone.offsetMinutesAt(at);
    readCalendar(at, offset, fields);
    const firstOf = needsFirstOf ? tracker.observe(fields) : absoluteBits.AllBackup;
    if (at < from) continue;
    while (adhocIndex < adhoc.length && (adhoc[adhocIndex] as ResolvedAdhoc).at < at) {
      const request = adhoc[adhocIndex] as ResolvedAdhoc;
      record(request.at, true, request.tag, request.rule);
      adhocIndex += 1;
    }
    // Every tag in the selector has a rule and a default tag exists, checked above.
    const tag = selectTag(selector, fields, firstOf);
    if (tag === undefined) throw new Error("unreachable: the trigger has a default tag");
    record(at, false, tag.tagName, ruleOfTag.get(tag.tagName) as CompiledRetentionRule);
  }
  for (; adhocIndex < adhoc.length; adhocIndex += 1) {
    const request = adhoc[adhocIndex] as ResolvedAdhoc;
    record(request.at, true, request.tag, request.rule);
  }

  return {
    policyName: policy.name,
    from,
    to,
    timeZone: zone.name,
    sizeGb,
    monthlyGrowth,
    backups,
    storage,
  };
}

/**
 * The recovery points that exist at an instant, per tier (a copy exists on `[enteredAt, deletedAt)`).
 *
 * @remarks Answers from the simulation's backups, i.e. those created in its window: to know every
 * recovery point at `instant`, simulate from at least the longest retention before it.
 */
export function recoveryPointsAt(
  simulation: PolicySimulation,
  instant: InstantInput,
): RecoveryPointsAt {
  const t = parseInstant(instant);
  if (t === undefined) {
    fail([
      {
        path: "instant",
        code: "SIMULATION_INSTANT_INVALID",
        message: `'${String(instant)}' is not an instant`,
      },
    ]);
  }
  const result: RecoveryPointsAt = { VaultStore: [], ArchiveStore: [] };
  for (const backup of simulation.backups) {
    if (backup.at > t) break;
    if (backup.vaultFrom <= t && t < backup.vaultTo) result.VaultStore.push(backup);
    if (
      backup.archiveFrom !== undefined &&
      backup.archiveTo !== undefined &&
      backup.archiveFrom <= t &&
      t < backup.archiveTo
    ) {
      result.ArchiveStore.push(backup);
    }
  }
  return result;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The JSON form of a simulation, instants as ISO 8601 UTC strings. */
export function simulationToJson(simulation: PolicySimulation): SimulationJson {
  return {
    ...(simulation.policyName === undefined ? {} : { policyName: simulation.policyName }),
    from: iso(simulation.from),
    to: iso(simulation.to),
    timeZone: simulation.timeZone,
    sizeGb: simulation.sizeGb,
    monthlyGrowth: simulation.monthlyGrowth,
    backups: simulation.backups.map((backup) => ({
      at: iso(backup.at),
      adhoc: backup.adhoc,
      tag: backup.tag,
      rule: backup.rule,
      sizeGb: backup.sizeGb,
      vault: { from: iso(backup.vaultFrom), to: iso(backup.vaultTo) },
      ...(backup.archiveFrom === undefined || backup.archiveTo === undefined
        ? {}
        : { archive: { from: iso(backup.archiveFrom), to: iso(backup.archiveTo) } }),
    })),
    storage: { ...simulation.storage },
  };
}

/** `2026-01-04 22:00` (seconds only when not zero), in UTC. */
function tableTime(ms: number): string {
  const text = iso(ms);
  const seconds = text.slice(16, 19);
  return `${text.slice(0, 10)} ${text.slice(11, 16)}${seconds === ":00" && text.slice(19, 23) === ".000" ? "" : seconds}`;
}

/** Up to 4 decimals, so 0.07 * 100 prints as 7, not 7.000000000000001. */
function formatNumber(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 4, useGrouping: false });
}

function formatGbMonths(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
}

/**
 * A readable table of a simulation for the CLI: one line per backup (creation time, tag, rule,
 * when its vault copy goes, when it is archived, when its last copy is deleted), then the storage
 * estimate. Times are UTC.
 */
export function formatSimulationTable(simulation: PolicySimulation): string {
  const header = ["Backup time (UTC)", "Tag", "Rule", "Vault until", "Archived at", "Deleted at"];
  const rows = simulation.backups.map((backup) => [
    tableTime(backup.at),
    backup.adhoc ? `${backup.tag} (ad hoc)` : backup.tag,
    backup.rule,
    tableTime(backup.vaultTo),
    backup.archiveFrom === undefined ? "-" : tableTime(backup.archiveFrom),
    tableTime(backup.archiveTo ?? backup.vaultTo),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  const name = simulation.policyName === undefined ? "Policy" : `Policy ${simulation.policyName}`;
  const growth =
    simulation.monthlyGrowth === 0
      ? ""
      : `, growing ${formatNumber(simulation.monthlyGrowth * 100)} % a month`;
  const lines = [
    `${name}: ${String(simulation.backups.length)} backups from ${tableTime(simulation.from)} to ${tableTime(simulation.to)} UTC (schedule time zone ${simulation.timeZone})`,
    "",
    line(header),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map(line),
    "",
    `Storage within the window, ${formatNumber(simulation.sizeGb)} GB per backup at the start${growth}:`,
    `  VaultStore    ${formatGbMonths(simulation.storage.VaultStore)} GB-months`,
    `  ArchiveStore  ${formatGbMonths(simulation.storage.ArchiveStore)} GB-months`,
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * The longest window a what-if simulates: 10 years, the longest retention the service allows,
 * so one simulation covers a backup's whole life.
 */
export const maxWhatIfWindowDays = 3653;

/**
 * The most backups a what-if simulates (and lists): a PostgreSQL policy backs up weekly, so this
 * allows a backup every day of the week for ten years with room to spare, and stops a schedule
 * of thousands of intervals.
 */
export const maxWhatIfBackups = 10_000;

const msPerWeek = 7 * msPerDay;

/**
 * Refuses a what-if whose work would be unbounded: a window beyond {@link maxWhatIfWindowDays},
 * or a schedule that takes more than {@link maxWhatIfBackups} backups in it. Windows that are not
 * instants are left to the simulation to report.
 *
 * @remarks The policy has been validated, so every interval repeats weekly: the number of
 * intervals bounds the count before any occurrence is computed, and a count is only computed
 * exactly when that bound is within a small multiple of the limit.
 * @throws InvalidInputError naming the limit and what to change.
 */
function assertBoundedWhatIf(policy: BackupPolicy, request: WhatIfRequest): void {
  const from = parseInstant(request.from);
  const to = parseInstant(request.to);
  if (from === undefined || to === undefined || !(from < to)) return;
  if (to - from > maxWhatIfWindowDays * msPerDay) {
    fail([
      {
        path: "to",
        code: "SIMULATION_WINDOW_TOO_LONG",
        message: `the window is ${Math.ceil((to - from) / msPerDay)} days; a simulation covers at most ${maxWhatIfWindowDays} days (10 years)`,
      },
    ]);
  }
  const schedule = backupRuleOf(policy).trigger.schedule;
  const bound = schedule.repeatingTimeIntervals.length * (Math.floor((to - from) / msPerWeek) + 1);
  if (bound <= maxWhatIfBackups) return;
  const count =
    bound <= 20 * maxWhatIfBackups ? scheduleOccurrences(schedule, from, to).length : bound;
  if (count > maxWhatIfBackups) {
    fail([
      {
        path: "to",
        code: "SIMULATION_TOO_MANY_BACKUPS",
        message: `the schedule takes ${count === bound ? "up to " : ""}${count} backups in the window; a simulation covers at most ${maxWhatIfBackups}: shorten the window or the schedule`,
      },
    ]);
  }
}

/** A what-if request as the CLI and the HTTP API take it. */
export interface WhatIfRequest {
  /** A policy, bare or as a policy resource. */
  readonly policy: unknown;
  readonly from: InstantInput;
  readonly to: InstantInput;
  readonly sizeGb?: number;
  readonly monthlyGrowth?: number;
  /** Also answer which recovery points exist at this instant. */
  readonly at?: InstantInput;
}

/** The answer to a {@link WhatIfRequest}. */
export interface WhatIfAnswer {
  readonly simulation: PolicySimulation;
  readonly json: SimulationJson & {
    readonly at?: {
      readonly instant: string;
      readonly VaultStore: string[];
      readonly ArchiveStore: string[];
    };
  };
}

/**
 * Validates the policy, simulates it and, when asked, lists the recovery points at an instant
 * (by backup time).
 *
 * @throws InvalidInputError for an invalid policy, window or instant, or a window beyond the
 * limits ({@link maxWhatIfWindowDays}, {@link maxWhatIfBackups}).
 */
export function whatIf(request: WhatIfRequest): WhatIfAnswer {
  const policy = assertValidPolicy(request.policy);
  assertBoundedWhatIf(policy, request);
  const simulation = simulatePolicy(policy, {
    from: request.from,
    to: request.to,
    ...(request.sizeGb !== undefined ? { sizeGb: request.sizeGb } : {}),
    ...(request.monthlyGrowth !== undefined ? { monthlyGrowth: request.monthlyGrowth } : {}),
  });
  const json = simulationToJson(simulation);
  if (request.at === undefined) return { simulation, json };
  const atMs = parseInstant(request.at);
  if (atMs === undefined) {
    fail([
      {
        path: "at",
        code: "SIMULATION_INSTANT_INVALID",
        message: `'${String(request.at)}' is not an instant`,
      },
    ]);
  }
  // Recovery points at an instant may come from long before the window: look back past the longest retention.
  const lookBackMs = 11 * 366 * msPerDay;
  const history = simulatePolicy(policy, { from: atMs - lookBackMs, to: atMs + 1 });
  const points = recoveryPointsAt(history, atMs);
  const instant = iso(atMs);
  return {
    simulation,
    json: {
      ...json,
      at: {
        instant,
        VaultStore: points.VaultStore.map((b) => iso(b.at)),
        ArchiveStore: points.ArchiveStore.map((b) => iso(b.at)),
      },
    },
  };
}
