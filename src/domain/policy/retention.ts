/**
 * Where a recovery point lives and until when: a retention rule's lifecycles, compiled once and
 * applied to a creation instant.
 *
 * @remarks Semantics:
 * - A recovery point lands in the backup rule's datastore (`VaultStore`) at its creation instant.
 * - The lifecycle whose `sourceDataStore` is `VaultStore` governs that copy: it is deleted at
 *   creation + `deleteAfter.duration`.
 * - Its copy setting to `ArchiveStore` (at most one) places an archive copy: `CopyOnExpiryOption`
 *   exactly when the vault copy is deleted, `ImmediateCopyOption` at creation, `CustomCopyOption`
 *   at creation + its `duration` (which may not come after the vault copy's deletion).
 * - The lifecycle whose `sourceDataStore` is `ArchiveStore` governs the archive copy: deleted at the
 *   instant it entered the archive + its `deleteAfter.duration`. An archive copy without such a
 *   lifecycle is an error.
 * - Durations add in the wall clock of the schedule's time zone, at the offset that zone has at the
 *   instant the duration is added to (calendar months clamp to the month's end, as .NET does).
 * - A copy exists on the half-open interval `[enteredAt, deletedAt)`.
 */
import type { InputProblem } from "../errors.js";
import { addDuration, isZeroDuration, parseIsoDuration, type IsoDuration } from "./duration.js";
import { daysInMonthOf, emptyCalendarFields, readCalendar } from "./tagSelection.js";
import type { ScheduleTimeZone } from "./timeZone.js";
import { copySettingsOf, isRetentionRule, type BackupPolicy } from "./types.js";

/**
 * A duration prepared for repeated addition: the common shapes (only years and months, or no
 * years and months) add without allocating; others go through `addDuration`.
 */
export interface PreparedDuration {
  readonly duration: IsoDuration;
  /** Years and months, in months. */
  readonly months: number;
  /** Weeks, days and time, in milliseconds. */
  readonly exactMs: number;
}

/** Prepares a duration for {@link addPrepared}. */
export function prepareDuration(duration: IsoDuration): PreparedDuration {
  return {
    duration,
    months: duration.years * 12 + duration.months,
    exactMs:
      (duration.weeks * 7 + duration.days) * 86_400_000 +
      duration.hours * 3_600_000 +
      duration.minutes * 60_000 +
      Math.round(duration.seconds * 1000),
  };
}

const scratchFields = emptyCalendarFields();

/**
 * `addDuration(at, duration, offsetMinutes)`, without creating objects for the common shapes.
 *
 * @remarks Same rule: months move the wall-clock date in the given offset and clamp to the
 * month's last day (.NET's `AddMonths`), then weeks, days and time add exact lengths.
 */
export function addPrepared(at: number, prepared: PreparedDuration, offsetMinutes: number): number {
  if (prepared.months === 0) return at + prepared.exactMs;
  if (prepared.exactMs !== 0) return addDuration(at, prepared.duration, offsetMinutes);
  const fields = readCalendar(at, offsetMinutes, scratchFields);
  const total = fields.month + prepared.months;
  const yearShift = Math.floor(total / 12);
  const year = fields.year + yearShift;
  const month = total - yearShift * 12;
  const day = Math.min(fields.day, daysInMonthOf(year, month));
  return Date.UTC(year, month, day) + fields.msOfDay - offsetMinutes * 60_000;
}

/** When the archive copy is made. */
export type ArchiveCopy =
  | { readonly kind: "CopyOnExpiryOption" }
  | { readonly kind: "ImmediateCopyOption" }
  | {
      readonly kind: "CustomCopyOption";
      readonly after: PreparedDuration;
      readonly afterText: string;
    };

/** A retention rule ready to apply. */
export interface CompiledRetentionRule {
  readonly name: string;
  readonly isDefault: boolean;
  /** JSON path of the archive copy setting (or of the rule), for problems found while applying it. */
  readonly copyPath: string;
  readonly vaultDuration: PreparedDuration;
  readonly archiveCopy: ArchiveCopy | undefined;
  /** Set exactly when `archiveCopy` is. */
  readonly archiveDuration: PreparedDuration | undefined;
}

/** The retention rules of a policy. */
export interface RetentionRules {
  /** Rules by name. */
  readonly byName: ReadonlyMap<string, CompiledRetentionRule>;
  /** The rule with `isDefault: true` (or, failing that, the one named `Default`). */
  readonly defaultRule: CompiledRetentionRule | undefined;
}

/** Where a recovery point is, as epoch milliseconds; reused between calls to avoid garbage. */
export interface RetentionPlan {
  vaultFrom: number;
  vaultTo: number;
  /** NaN when the rule makes no archive copy. */
  archiveFrom: number;
  /** NaN when the rule makes no archive copy. */
  archiveTo: number;
}

function durationAt(
  text: unknown,
  path: string,
  problems: InputProblem[],
): IsoDuration | undefined {
  const parsed = typeof text === "string" ? parseIsoDuration(text) : undefined;
  if (!parsed || isZeroDuration(parsed)) {
    problems.push({
      path,
      code: "POLICY_DURATION_INVALID",
      message: `'${String(text)}' is not a duration like P3M, P1Y or P4W`,
    });
    return undefined;
  }
  return parsed;
}

/**
 * Compiles every retention rule of a policy.
 *
 * @param problems - receives a problem for each rule the simulator cannot apply (no VaultStore
 * lifecycle, unreadable durations, a copy to anything but ArchiveStore, more than one archive copy,
 * an archive copy without an ArchiveStore lifecycle).
 */
export function compileRetentionRules(
  policy: BackupPolicy,
  problems: InputProblem[],
): RetentionRules {
  const byName = new Map<string, CompiledRetentionRule>();
  let defaultRule: CompiledRetentionRule | undefined;
  policy.policyRules.forEach((rule, ruleIndex) => {
    if (!isRetentionRule(rule)) return;
    const rulePath = `$.policyRules[${ruleIndex}]`;
    const before = problems.length;
    let vaultDuration: IsoDuration | undefined;
    let archiveDuration: IsoDuration | undefined;
    let archiveCopy: ArchiveCopy | undefined;
    let vaultLifecycles = 0;
    let archiveLifecycles = 0;
    let copyPath = rulePath;
    (rule.lifecycles ?? []).forEach((lifecycle, i) => {
      const path = `${rulePath}.lifecycles[${i}]`;
      const source = lifecycle.sourceDataStore?.dataStoreType;
      if (source === "VaultStore") {
        vaultLifecycles += 1;
        vaultDuration = durationAt(
          lifecycle.deleteAfter?.duration,
          `${path}.deleteAfter.duration`,
          problems,
        );
        copySettingsOf(lifecycle).forEach((setting, j) => {
          const settingPath = `${path}.targetDataStoreCopySettings[${j}]`;
          if (setting.dataStore?.dataStoreType !== "ArchiveStore") {
            problems.push({
              path: `${settingPath}.dataStore.dataStoreType`,
              code: "POLICY_COPY_TARGET_UNSUPPORTED",
              message: `recovery points can be copied from VaultStore only to ArchiveStore, not '${String(setting.dataStore?.dataStoreType)}'`,
            });
            return;
          }
          if (archiveCopy !== undefined) {
            problems.push({
              path: settingPath,
              code: "POLICY_COPY_DUPLICATE",
              message: "a lifecycle copies to ArchiveStore at most once",
            });
            return;
          }
          const kind = setting.copyAfter?.objectType;
          if (kind === "CopyOnExpiryOption") {
            archiveCopy = { kind: "CopyOnExpiryOption" };
          } else if (kind === "ImmediateCopyOption") {
            archiveCopy = { kind: "ImmediateCopyOption" };
          } else if (kind === "CustomCopyOption") {
            const after = durationAt(
              setting.copyAfter.duration,
              `${settingPath}.copyAfter.duration`,
              problems,
            );
            if (after)
              archiveCopy = {
                kind: "CustomCopyOption",
                after: prepareDuration(after),
                afterText: setting.copyAfter.duration ?? "",
              };
            copyPath = `${settingPath}.copyAfter`;
          } else {
            problems.push({
              path: `${settingPath}.copyAfter.objectType`,
              code: "POLICY_COPY_OPTION_INVALID",
              message: `'${String(kind)}' is not CopyOnExpiryOption, ImmediateCopyOption or CustomCopyOption`,
            });
          }
        });
      } else if (source === "ArchiveStore") {
        archiveLifecycles += 1;
        archiveDuration = durationAt(
          lifecycle.deleteAfter?.duration,
          `${path}.deleteAfter.duration`,
          problems,
        );
      } else {
        problems.push({
          path: `${path}.sourceDataStore.dataStoreType`,
          code: "POLICY_DATASTORE_UNSUPPORTED",
          message: `PostgreSQL recovery points live in VaultStore and ArchiveStore, not '${String(source)}'`,
        });
      }
    });
    if (vaultLifecycles !== 1) {
      problems.push({
        path: `${rulePath}.lifecycles`,
        code:
          vaultLifecycles === 0 ? "POLICY_LIFECYCLE_VAULT_MISSING" : "POLICY_LIFECYCLE_DUPLICATE",
        message: `retention rule '${rule.name}' needs exactly one lifecycle with sourceDataStore VaultStore`,
      });
    }
    if (archiveLifecycles > 1) {
      problems.push({
        path: `${rulePath}.lifecycles`,
        code: "POLICY_LIFECYCLE_DUPLICATE",
        message: `retention rule '${rule.name}' has more than one lifecycle with sourceDataStore ArchiveStore`,
      });
    }
    if (archiveCopy !== undefined && archiveLifecycles === 0) {
      problems.push({
        path: `${rulePath}.lifecycles`,
        code: "POLICY_LIFECYCLE_ARCHIVE_MISSING",
        message: `retention rule '${rule.name}' copies recovery points to ArchiveStore but has no lifecycle with sourceDataStore ArchiveStore saying how long to keep them`,
      });
    }
    if (problems.length !== before || vaultDuration === undefined) return;
    const compiled: CompiledRetentionRule = {
      name: rule.name,
      isDefault: rule.isDefault === true,
      copyPath,
      vaultDuration: prepareDuration(vaultDuration),
      archiveCopy,
      archiveDuration:
        archiveCopy === undefined || archiveDuration === undefined
          ? undefined
          : prepareDuration(archiveDuration),
    };
    byName.set(rule.name, compiled);
    if (compiled.isDefault && defaultRule === undefined) defaultRule = compiled;
  });
  return { byName, defaultRule: defaultRule ?? byName.get("Default") };
}

/**
 * The retention rule a tag selects: the rule of the same name, or the default rule for the
 * default tag.
 */
export function retentionRuleForTag(
  rules: RetentionRules,
  tagName: string,
  isDefaultTag: boolean,
): CompiledRetentionRule | undefined {
  if (isDefaultTag) return rules.defaultRule ?? rules.byName.get(tagName);
  return rules.byName.get(tagName) ?? (tagName === "Default" ? rules.defaultRule : undefined);
}

/**
 * Places a recovery point created at `createdAt` under `rule`.
 *
 * @param out - receives the plan (reused so the caller's loop allocates nothing).
 * @returns `out`; `archiveFrom` after `vaultTo` (a custom copy later than the vault copy's
 * deletion) is left for the caller to report.
 */
export function planRetention(
  rule: CompiledRetentionRule,
  createdAt: number,
  zone: ScheduleTimeZone,
  out: RetentionPlan,
): RetentionPlan {
  const offsetAtCreation = zone.offsetMinutesAt(createdAt);
  out.vaultFrom = createdAt;
  out.vaultTo = addPrepared(createdAt, rule.vaultDuration, offsetAtCreation);
  const copy = rule.archiveCopy;
  if (copy === undefined || rule.archiveDuration === undefined) {
    out.archiveFrom = Number.NaN;
    out.archiveTo = Number.NaN;
    return out;
  }
  const archiveFrom =
    copy.kind === "CopyOnExpiryOption"
      ? out.vaultTo
      : copy.kind === "ImmediateCopyOption"
        ? createdAt
        : addPrepared(createdAt, copy.after, offsetAtCreation);
  out.archiveFrom = archiveFrom;
  out.archiveTo = addPrepared(
    archiveFrom,
    rule.archiveDuration,
    archiveFrom === createdAt || zone.fixed ? offsetAtCreation : zone.offsetMinutesAt(archiveFrom),
  );
  return out;
}
