/**
 * Backup policy JSON exactly as the Data Protection service (api-version 2026-06-01) spells it.
 *
 * @remarks Field names, casing and `objectType` values are the service's. Fields the service
 * returns as `null` are typed `| null` so a policy read back from the service round-trips
 * unchanged; values of open enums (`modelAsString`) are typed `string` where the service may
 * send values this code does not know.
 */

/** Where recovery points live. */
export type DataStoreType = "OperationalStore" | "VaultStore" | "ArchiveStore";

/** The datastores PostgreSQL policies may use. */
export const dataStoreTypes: readonly DataStoreType[] = [
  "OperationalStore",
  "VaultStore",
  "ArchiveStore",
];

/** `DataStoreInfoBase`. */
export interface DataStoreInfo {
  dataStoreType: DataStoreType | (string & {});
  objectType: "DataStoreInfoBase" | (string & {});
}

/** `AzureBackupParams`. */
export interface AzureBackupParams {
  backupType: string;
  objectType: "AzureBackupParams" | (string & {});
}

/** `BackupSchedule`. */
export interface BackupSchedule {
  repeatingTimeIntervals: string[];
  timeZone?: string | null;
}

/** `RetentionTag`. `id` and `eTag` are read-only: the service sets `id` to `<tagName>_`. */
export interface RetentionTag {
  tagName: string;
  id?: string | null;
  eTag?: string | null;
}

/** Absolute markers for tagging criteria (`AbsoluteMarker`). */
export type AbsoluteMarker =
  "AllBackup" | "FirstOfDay" | "FirstOfWeek" | "FirstOfMonth" | "FirstOfYear";
/** Every absolute marker, in the service's order. */
export const absoluteMarkers: readonly AbsoluteMarker[] = [
  "AllBackup",
  "FirstOfDay",
  "FirstOfMonth",
  "FirstOfWeek",
  "FirstOfYear",
];

/** `DayOfWeek`. */
export type DayOfWeek =
  "Sunday" | "Monday" | "Tuesday" | "Wednesday" | "Thursday" | "Friday" | "Saturday";
/** Days of the week, Sunday first (index = JavaScript's `getUTCDay()`). */
export const daysOfWeek: readonly DayOfWeek[] = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
];

/** `Month`. */
export type Month =
  | "January"
  | "February"
  | "March"
  | "April"
  | "May"
  | "June"
  | "July"
  | "August"
  | "September"
  | "October"
  | "November"
  | "December";
/** Months, January first (index = JavaScript's `getUTCMonth()`). */
export const monthsOfYear: readonly Month[] = [
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

/** `WeekNumber`: the week of the month a day falls in (days 1-7 are First, the last 7 days are Last). */
export type WeekNumber = "First" | "Second" | "Third" | "Fourth" | "Last";
/** Every week number. */
export const weekNumbers: readonly WeekNumber[] = ["First", "Second", "Third", "Fourth", "Last"];

/** `Day`: a day of the month (1-28) or the last day. */
export interface Day {
  date?: number | null;
  isLast?: boolean | null;
}

/** `ScheduleBasedBackupCriteria`. Within a field values are alternatives; fields must all match. */
export interface ScheduleBasedBackupCriteria {
  objectType: "ScheduleBasedBackupCriteria" | (string & {});
  absoluteCriteria?: (AbsoluteMarker | (string & {}))[] | null;
  daysOfMonth?: Day[] | null;
  daysOfTheWeek?: (DayOfWeek | (string & {}))[] | null;
  monthsOfYear?: (Month | (string & {}))[] | null;
  scheduleTimes?: string[] | null;
  weeksOfTheMonth?: (WeekNumber | (string & {}))[] | null;
}

/** `TaggingCriteria`: which scheduled backups get a retention tag. */
export interface TaggingCriteria {
  isDefault: boolean;
  taggingPriority: number;
  tagInfo: RetentionTag;
  criteria?: ScheduleBasedBackupCriteria[] | null;
}

/** `ScheduleBasedTriggerContext`. */
export interface ScheduleBasedTriggerContext {
  objectType: "ScheduleBasedTriggerContext";
  schedule: BackupSchedule;
  taggingCriteria: TaggingCriteria[];
}

/** `AzureBackupRule`: when backups run and where they land. */
export interface AzureBackupRule {
  name: string;
  objectType: "AzureBackupRule";
  backupParameters?: AzureBackupParams | null;
  dataStore: DataStoreInfo;
  trigger: ScheduleBasedTriggerContext;
}

/** `AbsoluteDeleteOption`. */
export interface AbsoluteDeleteOption {
  duration: string;
  objectType: "AbsoluteDeleteOption" | (string & {});
}

/** The copy options of a lifecycle's target datastore. */
export type CopyOptionType = "CopyOnExpiryOption" | "ImmediateCopyOption" | "CustomCopyOption";
/** Every copy option. */
export const copyOptionTypes: readonly CopyOptionType[] = [
  "CopyOnExpiryOption",
  "ImmediateCopyOption",
  "CustomCopyOption",
];

/** `CopyOption` and its subtypes (`CustomCopyOption` carries a duration). */
export interface CopyOption {
  objectType: CopyOptionType | (string & {});
  duration?: string | null;
}

/** `TargetCopySetting`. */
export interface TargetCopySetting {
  copyAfter: CopyOption;
  dataStore: DataStoreInfo;
}

/**
 * `SourceLifeCycle`. The contract types `targetDataStoreCopySettings` as an array; the Azure CLI
 * writes a single object, which is accepted on input and normalised to an array.
 */
export interface SourceLifeCycle {
  deleteAfter: AbsoluteDeleteOption;
  sourceDataStore: DataStoreInfo;
  targetDataStoreCopySettings?: TargetCopySetting[] | TargetCopySetting | null;
}

/** `AzureRetentionRule`: how long recovery points with the same-named tag are kept, and where. */
export interface AzureRetentionRule {
  name: string;
  objectType: "AzureRetentionRule";
  isDefault?: boolean | null;
  lifecycles: SourceLifeCycle[];
}

/** A policy rule: a backup rule or a retention rule. */
export type PolicyRule = AzureBackupRule | AzureRetentionRule;

/**
 * `BackupPolicy`. `name` is not part of the contract's properties but the CLI's templates carry
 * it; it is kept when present.
 */
export interface BackupPolicy {
  objectType: "BackupPolicy";
  datasourceTypes: string[];
  policyRules: PolicyRule[];
  name?: string;
}

/** `BaseBackupPolicyResource`, as the service returns a policy. */
export interface BackupPolicyResource {
  id?: string;
  name?: string;
  type?: string;
  properties: BackupPolicy;
  systemData?: unknown;
  resourceGroup?: string;
}

/** The datasource kinds a PostgreSQL policy can protect. */
export type DatasourceKind =
  "AzureDatabaseForPostgreSQL" | "AzureDatabaseForPostgreSQLFlexibleServer";

/** Retention tag names the service accepts for PostgreSQL, plus the default tag. */
export type RetentionTagName = "Default" | "Daily" | "Weekly" | "Monthly" | "Yearly";

/** The service's tagging priorities: a lower number wins. */
export const taggingPriorities: Readonly<Record<RetentionTagName, number>> = {
  Yearly: 10,
  Monthly: 15,
  Weekly: 20,
  Daily: 25,
  Default: 99,
};

/** Narrows a policy rule to a backup rule. */
export function isBackupRule(rule: PolicyRule): rule is AzureBackupRule {
  return rule.objectType === "AzureBackupRule";
}

/** Narrows a policy rule to a retention rule. */
export function isRetentionRule(rule: PolicyRule): rule is AzureRetentionRule {
  return rule.objectType === "AzureRetentionRule";
}

/** The copy settings of a lifecycle as an array, whichever form the JSON used. */
export function copySettingsOf(lifecycle: SourceLifeCycle): TargetCopySetting[] {
  const settings = lifecycle.targetDataStoreCopySettings;
  if (settings === undefined || settings === null) return [];
  return Array.isArray(settings) ? settings : [settings];
}
