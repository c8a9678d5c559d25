/**
 * Policy validation against the service's rules for PostgreSQL, so mistakes surface when a
 * policy is written, not when the service rejects it or, worse, silently keeps nothing.
 */
import { InvalidInputError, type InputProblem } from "../errors.js";
import { manifestForDatasourceType, type DatasourceManifest } from "./datasources.js";
import { nominalDays, parseIsoDuration, type IsoDuration } from "./duration.js";
import { frequencyOfInterval, parseRepeatingInterval } from "./schedule.js";
import { resolveTimeZone } from "./timeZone.js";
import {
  absoluteMarkers,
  copyOptionTypes,
  daysOfWeek,
  monthsOfYear,
  taggingPriorities,
  weekNumbers,
  type BackupPolicy,
  type RetentionTagName,
} from "./types.js";

/** A problem found in a policy. Errors make the service reject it; warnings are legal but likely wrong. */
export interface PolicyProblem extends InputProblem {
  readonly severity: "error" | "warning";
}

/** The outcome of {@link validatePolicy}. */
export interface PolicyValidationResult {
  /** True when there is no problem of severity `error`. */
  readonly valid: boolean;
  readonly problems: readonly PolicyProblem[];
  /** The datasource kind the policy is for, when recognisable. */
  readonly datasourceKind?: string;
}

/**
 * The most problems an answer lists: a policy with thousands of bad entries is answered with the
 * first ones and the count, not with one line for each.
 */
export const maxReportedProblems = 100;

/** A validation answer that lists at most `limit` problems, with the count of all of them. */
export interface ReportedPolicyValidation extends PolicyValidationResult {
  /** How many problems the policy has, listed or not. */
  readonly problemCount: number;
  /** True when `problems` lists only the first {@link maxReportedProblems}. */
  readonly problemsTruncated: boolean;
}

/** The result with only its first `limit` problems listed, and the count of all. */
export function reportValidation(
  result: PolicyValidationResult,
  limit: number = maxReportedProblems,
): ReportedPolicyValidation {
  return {
    ...result,
    problems: result.problems.slice(0, limit),
    problemCount: result.problems.length,
    problemsTruncated: result.problems.length > limit,
  };
}

/** Longest retention the service allows, in nominal days (10 years). */
const maxRetentionDays = 3650;
/** Archive tier early-deletion period: deleting sooner is still charged for 180 days. */
const archiveEarlyDeletionDays = 180;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Locates the policy in a document: a bare policy (`{objectType: "BackupPolicy", ...}`) or a
 * policy resource as the service returns it (`{id, name, properties: {...}}`).
 *
 * @returns the policy and the JSON path it sits at.
 */
export function locatePolicy(document: unknown): { policy: unknown; path: string } {
  if (isObject(document) && !("policyRules" in document) && isObject(document.properties)) {
    return { policy: document.properties, path: "$.properties" };
  }
  return { policy: document, path: "$" };
}

/**
 * Validates a backup policy (bare, or a policy resource) against the service's rules.
 *
 * @remarks Never changes the input. Checks the shape (objectTypes, required fields), the
 * schedule (well-formed intervals, weekly only, one backup a week for Flexible Server), tags
 * (names, priorities, criteria), retention (durations within 10 years, datastores, copy options,
 * archive lifecycles) and that every non-default retention rule has a tag of the same name and
 * the other way round.
 */
export function validatePolicy(document: unknown): PolicyValidationResult {
  const problems: PolicyProblem[] = [];
  const error = (path: string, code: string, message: string) =>
    problems.push({ path, code, message, severity: "error" });
  const warn = (path: string, code: string, message: string) =>
    problems.push({ path, code, message, severity: "warning" });

  const { policy, path: root } = locatePolicy(document);
  if (!isObject(policy)) {
    error(root, "POLICY_NOT_AN_OBJECT", "A policy must be a JSON object.");
    return { valid: false, problems };
  }
  if (policy.objectType !== "BackupPolicy") {
    error(
      `${root}.objectType`,
      "POLICY_OBJECT_TYPE_INVALID",
      `objectType must be "BackupPolicy", not ${JSON.stringify(policy.objectType)}.`,
    );
  }

  let manifest: DatasourceManifest | undefined;
  const types = policy.datasourceTypes;
  if (!Array.isArray(types) || types.length === 0) {
    error(
      `${root}.datasourceTypes`,
      "POLICY_DATASOURCE_TYPE_MISSING",
      "datasourceTypes must list the datasource type, e.g. Microsoft.DBforPostgreSQL/flexibleServers.",
    );
  } else {
    types.forEach((type, i) => {
      const found = typeof type === "string" ? manifestForDatasourceType(type) : undefined;
      if (!found) {
        error(
          `${root}.datasourceTypes[${i}]`,
          "POLICY_DATASOURCE_TYPE_UNSUPPORTED",
          `${JSON.stringify(type)} is not a PostgreSQL datasource type; use Microsoft.DBforPostgreSQL/flexibleServers or Microsoft.DBforPostgreSQL/servers/databases.`,
        );
      } else if (manifest && manifest !== found) {
        error(
          `${root}.datasourceTypes[${i}]`,
          "POLICY_DATASOURCE_TYPE_MIXED",
          "A policy protects one kind of datasource; list one datasource type.",
        );
      } else {
        manifest = found;
      }
    });
  }
  const supportedTags: readonly string[] = manifest?.supportedRetentionTags ?? [
    "Weekly",
    "Monthly",
    "Yearly",
  ];

  const rules = policy.policyRules;
  if (!Array.isArray(rules)) {
    error(
      `${root}.policyRules`,
      "POLICY_RULES_MISSING",
      "policyRules must be a list with one backup rule and at least the Default retention rule.",
    );
    return { valid: false, problems, ...(manifest ? { datasourceKind: manifest.kind } : {}) };
  }

  const backupRules: { rule: Json; path: string }[] = [];
  const retentionRules: { rule: Json; path: string }[] = [];
  rules.forEach((rule, i) => {
    const path = `${root}.policyRules[${i}]`;
    if (!isObject(rule)) {
      error(path, "POLICY_RULE_INVALID", "A policy rule must be a JSON object.");
    } else if (rule.objectType === "AzureBackupRule") {
      backupRules.push({ rule, path });
    } else if (rule.objectType === "AzureRetentionRule") {
      retentionRules.push({ rule, path });
    } else {
      error(
        `${path}.objectType`,
        "POLICY_RULE_OBJECT_TYPE_INVALID",
        `objectType must be "AzureBackupRule" or "AzureRetentionRule", not ${JSON.stringify(rule.objectType)}.`,
      );
    }
    if (isObject(rule) && (typeof rule.name !== "string" || rule.name === "")) {
      error(`${path}.name`, "POLICY_RULE_NAME_MISSING", "Every policy rule needs a name.");
    }
  });

  // ---- the backup rule: schedule and tags
  const tagNames = new Map<string, string>();
  const scheduleWeekdays = new Set<number>();
  if (backupRules.length === 0) {
    error(
      `${root}.policyRules`,
      "POLICY_BACKUP_RULE_MISSING",
      "The policy has no backup rule (objectType AzureBackupRule), so no backup would ever run.",
    );
  }
  backupRules
    .slice(1)
    .forEach(({ path }) =>
      error(
        path,
        "POLICY_BACKUP_RULE_DUPLICATE",
        "A PostgreSQL policy has exactly one backup rule; remove the extra one.",
      ),
    );
  const backup = backupRules[0];
  if (backup) {
    const { rule, path } = backup;
    const params = rule.backupParameters;
    if (params !== undefined && params !== null) {
      if (!isObject(params) || params.objectType !== "AzureBackupParams") {
        error(
          `${path}.backupParameters.objectType`,
          "POLICY_BACKUP_PARAMETERS_INVALID",
          'backupParameters.objectType must be "AzureBackupParams".',
        );
      } else if (
        typeof params.backupType !== "string" ||
        params.backupType.toLowerCase() !== "full"
      ) {
        error(
          `${path}.backupParameters.backupType`,
          "POLICY_BACKUP_TYPE_UNSUPPORTED",
          `PostgreSQL backups are Full backups; backupType ${JSON.stringify(params.backupType)} is not supported.`,
        );
      }
    }
    const store = rule.dataStore;
    if (
      !isObject(store) ||
      store.dataStoreType !== "VaultStore" ||
      store.objectType !== "DataStoreInfoBase"
    ) {
      error(
        `${path}.dataStore`,
        "POLICY_BACKUP_DATASTORE_INVALID",
        'PostgreSQL backups land in the vault: dataStore must be {"dataStoreType": "VaultStore", "objectType": "DataStoreInfoBase"}.',
      );
    }
    const trigger = rule.trigger;
    if (!isObject(trigger) || trigger.objectType !== "ScheduleBasedTriggerContext") {
      error(
        `${path}.trigger`,
        "POLICY_TRIGGER_INVALID",
        'The backup rule needs a trigger with objectType "ScheduleBasedTriggerContext".',
      );
    } else {
      const schedule = trigger.schedule;
      const schedulePath = `${path}.trigger.schedule`;
      let zoneOk = true;
      if (!isObject(schedule)) {
        error(
          schedulePath,
          "SCHEDULE_MISSING",
          "The trigger needs a schedule with repeatingTimeIntervals.",
        );
      } else {
        if (schedule.timeZone !== undefined && schedule.timeZone !== null) {
          if (typeof schedule.timeZone !== "string" || !resolveTimeZone(schedule.timeZone)) {
            zoneOk = false;
            error(
              `${schedulePath}.timeZone`,
              "SCHEDULE_TIME_ZONE_INVALID",
              `${JSON.stringify(schedule.timeZone)} is not a time zone; use UTC, an offset such as +05:30, or a zone name.`,
            );
          }
        }
        const intervals = schedule.repeatingTimeIntervals;
        if (!Array.isArray(intervals) || intervals.length === 0) {
          error(
            `${schedulePath}.repeatingTimeIntervals`,
            "SCHEDULE_MISSING",
            "repeatingTimeIntervals must list at least one interval such as R/2021-08-15T22:00:00+00:00/P1W.",
          );
        } else {
          const seen = new Set<string>();
          intervals.forEach((text, i) => {
            const at = `${schedulePath}.repeatingTimeIntervals[${i}]`;
            const parsed = typeof text === "string" ? parseRepeatingInterval(text) : undefined;
            if (!parsed) {
              error(
                at,
                "SCHEDULE_INTERVAL_INVALID",
                `${JSON.stringify(text)} is not a repeating interval like R/2021-08-15T22:00:00+00:00/P1W (start date and time, then the period).`,
              );
              return;
            }
            const frequency = frequencyOfInterval(parsed);
            const weekly =
              frequency === "Weekly" && parsed.period.weeks + parsed.period.days / 7 === 1;
            if (!weekly) {
              error(
                at,
                "SCHEDULE_FREQUENCY_UNSUPPORTED",
                `PostgreSQL backups run once a week on the days you choose: the period must be P1W, not ${text.split("/").pop()}.`,
              );
            }
            const zone = zoneOk
              ? resolveTimeZone(
                  typeof schedule.timeZone === "string" ? schedule.timeZone : undefined,
                )
              : undefined;
            const offset = zone?.fixed ? (parsed.offsetMinutes ?? zone.offsetMinutesAt(0)) : 0;
            const weekday = new Date(parsed.startWallMs).getUTCDay();
            const key = `${weekday}@${(parsed.startWallMs - offset * 60_000) % 86_400_000}`;
            if (seen.has(key)) {
              error(
                at,
                "SCHEDULE_INTERVAL_DUPLICATE",
                "Two intervals fire on the same weekday at the same time; remove one.",
              );
            }
            seen.add(key);
            scheduleWeekdays.add(weekday);
          });
          if (manifest?.wholeServer && intervals.length > 1) {
            error(
              `${schedulePath}.repeatingTimeIntervals`,
              "SCHEDULE_FLEXIBLE_SERVER_WEEKLY_LIMIT",
              `Azure Backup takes one backup a week of a Flexible Server; the second backup in a week fails. Keep one interval, not ${intervals.length}.`,
            );
          }
        }
      }
      validateTags(trigger.taggingCriteria, `${path}.trigger.taggingCriteria`);
    }
  }

  function validateTags(list: unknown, path: string): void {
    if (!Array.isArray(list)) {
      error(
        path,
        "TAG_DEFAULT_MISSING",
        'taggingCriteria must list at least the Default tag ({"isDefault": true, "taggingPriority": 99, "tagInfo": {"tagName": "Default"}}).',
      );
      return;
    }
    let defaults = 0;
    list.forEach((tag, i) => {
      const at = `${path}[${i}]`;
      if (!isObject(tag) || !isObject(tag.tagInfo) || typeof tag.tagInfo.tagName !== "string") {
        error(
          at,
          "TAG_INVALID",
          "A tagging criterion needs tagInfo.tagName, isDefault and taggingPriority.",
        );
        return;
      }
      const name = tag.tagInfo.tagName;
      if (tagNames.has(name))
        error(`${at}.tagInfo.tagName`, "TAG_DUPLICATE", `The tag '${name}' is defined twice.`);
      tagNames.set(name, at);
      if (typeof tag.isDefault !== "boolean") {
        error(`${at}.isDefault`, "TAG_INVALID", "isDefault must be true or false.");
      }
      if (
        tag.tagInfo.id !== undefined &&
        tag.tagInfo.id !== null &&
        tag.tagInfo.id !== `${name}_`
      ) {
        warn(
          `${at}.tagInfo.id`,
          "TAG_ID_MISMATCH",
          `The service names this tag '${name}_', not ${JSON.stringify(tag.tagInfo.id)}.`,
        );
      }
      const expectedPriority = taggingPriorities[name as RetentionTagName];
      if (tag.isDefault === true) {
        defaults += 1;
        if (name !== "Default")
          error(
            `${at}.tagInfo.tagName`,
            "TAG_DEFAULT_INVALID",
            `The default tag must be named 'Default', not '${name}'.`,
          );
        if (tag.taggingPriority !== 99)
          error(
            `${at}.taggingPriority`,
            "TAG_PRIORITY_MISMATCH",
            "The Default tag's priority is 99.",
          );
        if (Array.isArray(tag.criteria) && tag.criteria.length > 0) {
          error(
            `${at}.criteria`,
            "TAG_DEFAULT_INVALID",
            "The Default tag applies to every backup no other tag claims; it takes no criteria.",
          );
        }
        return;
      }
      if (!supportedTags.includes(name)) {
        error(
          `${at}.tagInfo.tagName`,
          "TAG_NAME_UNSUPPORTED",
          `'${name}' is not a retention tag ${manifest ? `${manifest.kind} supports` : "PostgreSQL supports"}; use ${supportedTags.join(", ")}.`,
        );
      } else if (tag.taggingPriority !== expectedPriority) {
        error(
          `${at}.taggingPriority`,
          "TAG_PRIORITY_MISMATCH",
          `The service gives the ${name} tag priority ${expectedPriority}, not ${JSON.stringify(tag.taggingPriority)}.`,
        );
      }
      const criteria = tag.criteria;
      if (!Array.isArray(criteria) || criteria.length === 0) {
        error(
          `${at}.criteria`,
          "TAG_CRITERIA_EMPTY",
          `The ${name} tag has no criteria, so it never applies; add one such as FirstOfMonth.`,
        );
        return;
      }
      criteria.forEach((criterion, j) =>
        validateCriterion(criterion, `${at}.criteria[${j}]`, name),
      );
    });
    if (defaults === 0) {
      error(
        path,
        "TAG_DEFAULT_MISSING",
        'taggingCriteria has no default tag; add {"isDefault": true, "taggingPriority": 99, "tagInfo": {"tagName": "Default"}}.',
      );
    } else if (defaults > 1) {
      error(path, "TAG_DEFAULT_DUPLICATE", "Only one tag can be the default.");
    }
  }

  function validateCriterion(criterion: unknown, path: string, tagName: string): void {
    if (!isObject(criterion) || criterion.objectType !== "ScheduleBasedBackupCriteria") {
      error(
        `${path}.objectType`,
        "TAG_CRITERIA_INVALID",
        'A criterion needs objectType "ScheduleBasedBackupCriteria".',
      );
      return;
    }
    const checkList = (field: string, allowed: readonly string[]) => {
      const value = criterion[field];
      if (value === undefined || value === null) return false;
      if (!Array.isArray(value) || value.length === 0) {
        error(
          `${path}.${field}`,
          "TAG_CRITERIA_INVALID",
          `${field} must be a non-empty list or null.`,
        );
        return false;
      }
      value.forEach((item, k) => {
        if (!allowed.includes(item as string)) {
          error(
            `${path}.${field}[${k}]`,
            "TAG_CRITERIA_INVALID",
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
        error(
          `${path}.daysOfMonth`,
          "TAG_CRITERIA_INVALID",
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
            error(
              `${path}.daysOfMonth[${k}]`,
              "TAG_CRITERIA_INVALID",
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
        error(
          `${path}.scheduleTimes`,
          "TAG_CRITERIA_INVALID",
          "scheduleTimes must be a list of date-times.",
        );
      }
    }
    if (!any) {
      error(
        path,
        "TAG_CRITERIA_EMPTY",
        `This criterion of the ${tagName} tag sets no field, so it never applies.`,
      );
    }
    if (hasWeekdays && scheduleWeekdays.size > 0) {
      const wanted = (criterion.daysOfTheWeek as string[]).map((d) =>
        daysOfWeek.indexOf(d as never),
      );
      if (!wanted.some((d) => scheduleWeekdays.has(d))) {
        warn(
          `${path}.daysOfTheWeek`,
          "TAG_NEVER_MATCHES",
          `No scheduled backup falls on ${(criterion.daysOfTheWeek as string[]).join(" or ")}, so the ${tagName} tag never applies.`,
        );
      }
    }
  }

  // ---- retention rules
  const ruleNames = new Map<string, string>();
  let defaultRules = 0;
  for (const { rule, path } of retentionRules) {
    const name = typeof rule.name === "string" ? rule.name : "";
    if (ruleNames.has(name))
      error(
        `${path}.name`,
        "RETENTION_RULE_DUPLICATE",
        `The retention rule '${name}' is defined twice.`,
      );
    ruleNames.set(name, path);
    if (rule.isDefault === true) {
      defaultRules += 1;
      if (name !== "Default")
        error(
          `${path}.name`,
          "RETENTION_DEFAULT_INVALID",
          `The default retention rule must be named 'Default', not '${name}'.`,
        );
    } else if (name === "Default") {
      error(
        `${path}.isDefault`,
        "RETENTION_DEFAULT_INVALID",
        "The rule named Default must have isDefault true.",
      );
    } else if (!supportedTags.includes(name)) {
      error(
        `${path}.name`,
        "RETENTION_RULE_NAME_UNSUPPORTED",
        `'${name}' cannot name a retention rule; use Default or ${supportedTags.join(", ")}.`,
      );
    }
    validateLifecycles(rule.lifecycles, `${path}.lifecycles`, name);
  }
  if (retentionRules.length > 0 && defaultRules === 0) {
    error(
      `${root}.policyRules`,
      "RETENTION_DEFAULT_MISSING",
      "The policy has no Default retention rule (isDefault true); backups without another tag would have no retention.",
    );
  } else if (retentionRules.length === 0) {
    error(
      `${root}.policyRules`,
      "RETENTION_DEFAULT_MISSING",
      "The policy has no retention rule; add the Default rule.",
    );
  } else if (defaultRules > 1) {
    error(
      `${root}.policyRules`,
      "RETENTION_DEFAULT_DUPLICATE",
      "Only one retention rule can be the default.",
    );
  }

  function validateLifecycles(list: unknown, path: string, ruleName: string): void {
    if (!Array.isArray(list) || list.length === 0) {
      error(
        path,
        "RETENTION_LIFECYCLES_MISSING",
        `The retention rule '${ruleName}' needs at least one lifecycle.`,
      );
      return;
    }
    const bySource = new Map<
      string,
      {
        at: string;
        duration: IsoDuration | undefined;
        copies: { store: string; option: string; after?: IsoDuration | undefined }[];
      }
    >();
    list.forEach((lifecycle, i) => {
      const at = `${path}[${i}]`;
      if (!isObject(lifecycle)) {
        error(at, "RETENTION_LIFECYCLE_INVALID", "A lifecycle must be a JSON object.");
        return;
      }
      const source = isObject(lifecycle.sourceDataStore)
        ? lifecycle.sourceDataStore.dataStoreType
        : undefined;
      if (
        typeof source !== "string" ||
        !(manifest?.supportedDatastoreTypes ?? ["VaultStore", "ArchiveStore"]).includes(
          source as never,
        )
      ) {
        error(
          `${at}.sourceDataStore.dataStoreType`,
          "RETENTION_DATASTORE_UNSUPPORTED",
          `PostgreSQL recovery points live in VaultStore or ArchiveStore, not ${JSON.stringify(source)}.`,
        );
      }
      if (
        isObject(lifecycle.sourceDataStore) &&
        lifecycle.sourceDataStore.objectType !== "DataStoreInfoBase"
      ) {
        error(
          `${at}.sourceDataStore.objectType`,
          "RETENTION_LIFECYCLE_INVALID",
          'sourceDataStore.objectType must be "DataStoreInfoBase".',
        );
      }
      let duration: IsoDuration | undefined;
      const deleteAfter = lifecycle.deleteAfter;
      if (!isObject(deleteAfter) || deleteAfter.objectType !== "AbsoluteDeleteOption") {
        error(
          `${at}.deleteAfter`,
          "RETENTION_DURATION_INVALID",
          'deleteAfter must be {"objectType": "AbsoluteDeleteOption", "duration": "P3M"}.',
        );
      } else {
        duration =
          typeof deleteAfter.duration === "string"
            ? parseIsoDuration(deleteAfter.duration)
            : undefined;
        if (!duration || nominalDays(duration) <= 0) {
          error(
            `${at}.deleteAfter.duration`,
            "RETENTION_DURATION_INVALID",
            `${JSON.stringify(deleteAfter.duration)} is not a retention duration such as P30D, P12W, P6M or P10Y.`,
          );
          duration = undefined;
        } else if (nominalDays(duration) > maxRetentionDays) {
          error(
            `${at}.deleteAfter.duration`,
            "RETENTION_DURATION_TOO_LONG",
            `Azure Backup keeps PostgreSQL backups for at most 10 years; ${String(deleteAfter.duration)} is longer.`,
          );
        }
      }
      const copies: { store: string; option: string; after?: IsoDuration | undefined }[] = [];
      const rawCopies = lifecycle.targetDataStoreCopySettings;
      if (rawCopies !== undefined && rawCopies !== null) {
        const asArray = Array.isArray(rawCopies) ? rawCopies : [rawCopies];
        asArray.forEach((copy, k) => {
          const copyAt = Array.isArray(rawCopies)
            ? `${at}.targetDataStoreCopySettings[${k}]`
            : `${at}.targetDataStoreCopySettings`;
          if (!isObject(copy) || !isObject(copy.copyAfter) || !isObject(copy.dataStore)) {
            error(
              copyAt,
              "RETENTION_COPY_INVALID",
              "A copy setting needs copyAfter and dataStore.",
            );
            return;
          }
          const option = copy.copyAfter.objectType;
          if (!copyOptionTypes.includes(option as never)) {
            error(
              `${copyAt}.copyAfter.objectType`,
              "RETENTION_COPY_INVALID",
              `${JSON.stringify(option)} is not a copy option; use ${copyOptionTypes.join(", ")}.`,
            );
          }
          let after: IsoDuration | undefined;
          if (option === "CustomCopyOption") {
            after =
              typeof copy.copyAfter.duration === "string"
                ? parseIsoDuration(copy.copyAfter.duration)
                : undefined;
            if (!after)
              error(
                `${copyAt}.copyAfter.duration`,
                "RETENTION_COPY_INVALID",
                "CustomCopyOption needs a duration such as P7D.",
              );
          }
          const target = copy.dataStore.dataStoreType;
          if (target !== "ArchiveStore" || source !== "VaultStore") {
            error(
              `${copyAt}.dataStore.dataStoreType`,
              "RETENTION_COPY_TARGET_INVALID",
              "PostgreSQL recovery points are copied only from VaultStore to ArchiveStore.",
            );
          }
          copies.push({ store: String(target), option: String(option), after });
        });
      }
      if (typeof source === "string") {
        if (bySource.has(source))
          error(
            `${at}.sourceDataStore`,
            "RETENTION_LIFECYCLE_DUPLICATE",
            `The rule '${ruleName}' has two lifecycles for ${source}.`,
          );
        bySource.set(source, { at, duration, copies });
      }
    });
    const vault = bySource.get("VaultStore");
    const archive = bySource.get("ArchiveStore");
    if (!vault) {
      error(
        path,
        "RETENTION_VAULT_LIFECYCLE_MISSING",
        `The rule '${ruleName}' must say how long backups stay in VaultStore, where they land.`,
      );
    }
    const copiesToArchive = vault?.copies.filter((c) => c.store === "ArchiveStore") ?? [];
    if (archive && copiesToArchive.length === 0) {
      error(
        archive.at,
        "RETENTION_ARCHIVE_UNREACHABLE",
        `The rule '${ruleName}' keeps backups in ArchiveStore but never copies them there; add --target-datastore ArchiveStore --copy-option CopyOnExpiryOption to the VaultStore lifecycle.`,
      );
    }
    if (!archive && copiesToArchive.length > 0 && vault) {
      error(
        vault.at,
        "RETENTION_ARCHIVE_LIFECYCLE_MISSING",
        `The rule '${ruleName}' copies backups to ArchiveStore but has no ArchiveStore lifecycle saying how long to keep them there.`,
      );
    }
    if (vault?.duration && archive?.duration && copiesToArchive[0]) {
      const copy = copiesToArchive[0];
      const copiedAtDays =
        copy.option === "CopyOnExpiryOption"
          ? nominalDays(vault.duration)
          : copy.option === "CustomCopyOption" && copy.after
            ? nominalDays(copy.after)
            : 0;
      if (
        copy.option === "CustomCopyOption" &&
        copy.after &&
        nominalDays(copy.after) >= nominalDays(vault.duration)
      ) {
        error(
          `${vault.at}.targetDataStoreCopySettings`,
          "RETENTION_COPY_TOO_LATE",
          `The copy to ArchiveStore comes after the VaultStore copy is deleted; make it sooner than ${nominalDays(vault.duration)} days or use CopyOnExpiryOption.`,
        );
      }
      if (copiedAtDays + nominalDays(archive.duration) > maxRetentionDays) {
        error(
          `${archive.at}.deleteAfter.duration`,
          "RETENTION_TOTAL_TOO_LONG",
          `Vault and archive retention together exceed 10 years (${Math.round(copiedAtDays + nominalDays(archive.duration))} days).`,
        );
      }
      if (nominalDays(archive.duration) < archiveEarlyDeletionDays) {
        warn(
          `${archive.at}.deleteAfter.duration`,
          "RETENTION_ARCHIVE_EARLY_DELETION",
          `Archived recovery points are charged for at least 180 days; deleting them after ${Math.round(nominalDays(archive.duration))} days still costs 180.`,
        );
      }
    }
  }

  // ---- tags and retention rules pair up by name
  for (const [name, path] of ruleNames) {
    if (name !== "Default" && !tagNames.has(name) && supportedTags.includes(name)) {
      error(
        `${path}.name`,
        "RETENTION_RULE_WITHOUT_TAG",
        `The retention rule '${name}' has no tag of the same name, so no backup is ever kept by it; add one with 'pgprotect policy tag set --name ${name}'.`,
      );
    }
  }
  for (const [name, path] of tagNames) {
    if (name !== "Default" && !ruleNames.has(name)) {
      error(
        `${path}.tagInfo.tagName`,
        "TAG_WITHOUT_RETENTION_RULE",
        `The tag '${name}' has no retention rule of the same name, so backups it marks have no retention; add one with 'pgprotect policy retention-rule set --name ${name}'.`,
      );
    }
  }

  return {
    valid: !problems.some((p) => p.severity === "error"),
    problems,
    ...(manifest ? { datasourceKind: manifest.kind } : {}),
  };
}

/**
 * Validates a policy and returns it typed, or throws listing every error.
 *
 * @throws InvalidInputError with code `POLICY_INVALID` and the problems of severity `error`.
 */
export function assertValidPolicy(document: unknown): BackupPolicy {
  const result = validatePolicy(document);
  if (!result.valid) {
    const errors = result.problems.filter((p) => p.severity === "error");
    const listed = errors.slice(0, maxReportedProblems);
    const more =
      errors.length > listed.length
        ? ` (the first ${listed.length} of ${errors.length} are listed)`
        : "";
    throw new InvalidInputError(
      "POLICY_INVALID",
      `The policy breaks ${errors.length} rule${errors.length === 1 ? "" : "s"}${more}: ${listed.map((p) => `${p.path}: ${p.message}`).join(" ")}`,
      listed.map(({ path, code, message }) => ({ path, code, message })),
    );
  }
  return locatePolicy(document).policy as BackupPolicy;
}
