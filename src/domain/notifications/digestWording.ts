/**
 * What a digest says about what it holds: failures and alarms counted apart, alarms named by
 * kind, so a reader of "3 failures and 12 alarms of 9 datasources" knows what to open first.
 * Shared by the email and the Teams card so both say the same.
 */
import { PgProtectEventTypes } from "../events/types.js";
import { alarmEventTypes, type DigestEntry } from "./digest.js";
import { formatCount } from "./text.js";

/** What one digest entry is. */
export type DigestEntryKind =
  "failure" | "overdue" | "stuck" | "anomaly" | "drillFailed" | "securityAlert" | "alarm";

/** A kind with how many entries of it, in the order the kinds are listed. */
export interface KindCount {
  readonly kind: DigestEntryKind;
  readonly count: number;
}

const alarmKindOfType: Readonly<Record<string, DigestEntryKind>> = {
  [PgProtectEventTypes.backupOverdue]: "overdue",
  [PgProtectEventTypes.jobStuck]: "stuck",
  [PgProtectEventTypes.backupAnomaly]: "anomaly",
  [PgProtectEventTypes.drillFailed]: "drillFailed",
  [PgProtectEventTypes.alertSecurity]: "securityAlert",
};

const kindNouns: Readonly<Record<DigestEntryKind, readonly [string, string]>> = {
  failure: ["failure", "failures"],
  overdue: ["overdue backup", "overdue backups"],
  stuck: ["stuck job", "stuck jobs"],
  anomaly: ["backup anomaly", "backup anomalies"],
  drillFailed: ["failed restore drill", "failed restore drills"],
  securityAlert: ["security alert", "security alerts"],
  alarm: ["alarm", "alarms"],
};

const kindOrder: readonly DigestEntryKind[] = [
  "failure",
  "securityAlert",
  "drillFailed",
  "stuck",
  "overdue",
  "anomaly",
  "alarm",
];

/**
 * The kind of an entry. An entry held by an earlier version has no event type: it was held as a
 * failure then (only failures were digested), except an overdue backup, known by its status.
 */
export function digestEntryKind(entry: Pick<DigestEntry, "eventType" | "status">): DigestEntryKind {
  if (entry.eventType === undefined) return entry.status === "Overdue" ? "overdue" : "failure";
  const kind = alarmKindOfType[entry.eventType];
  if (kind) return kind;
  return alarmEventTypes.includes(entry.eventType) ? "alarm" : "failure";
}

/** The kinds of the entries with their counts, failures first, then alarms by urgency. */
export function countKinds(entries: readonly DigestEntry[]): KindCount[] {
  const counts = new Map<DigestEntryKind, number>();
  for (const entry of entries) {
    const kind = digestEntryKind(entry);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return kindOrder
    .filter((kind) => counts.has(kind))
    .map((kind) => ({ kind, count: counts.get(kind)! }));
}

/** `1 failure`, `3 stuck jobs`. */
export function countOf(count: number, kind: DigestEntryKind): string {
  const [one, many] = kindNouns[kind];
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

function plural(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

/**
 * The digest's headline: `5 failures of 2 datasources`, `3 failures and 12 alarms of 9
 * datasources`, `4 alarms of 4 datasources`.
 */
export function digestTitle(entries: readonly DigestEntry[], datasources: number): string {
  const kinds = countKinds(entries);
  const failures = kinds.find((kind) => kind.kind === "failure")?.count ?? 0;
  const alarms = entries.length - failures;
  const parts = [
    failures > 0 ? plural(failures, "failure", "failures") : undefined,
    alarms > 0 ? plural(alarms, "alarm", "alarms") : undefined,
  ].filter((part) => part !== undefined);
  const held = parts.length > 0 ? parts.join(" and ") : plural(0, "failure", "failures");
  return `${held} of ${plural(datasources, "datasource", "datasources")}`;
}

/**
 * Why the digest exists and, when it holds alarms, which: `Repeated failures and a burst of
 * alarms are collected here instead of one message each. Alarms: 2 stuck jobs, 1 security alert.`
 */
export function digestLead(entries: readonly DigestEntry[]): string {
  const kinds = countKinds(entries);
  const alarmKinds = kinds.filter((kind) => kind.kind !== "failure");
  const hasFailures = kinds.length > alarmKinds.length;
  const what =
    hasFailures && alarmKinds.length > 0
      ? "Repeated failures and a burst of alarms are"
      : alarmKinds.length > 0
        ? "A burst of alarms is"
        : "Repeated failures are";
  const lead = `${what} collected here instead of one message each.`;
  if (alarmKinds.length === 0) return lead;
  return `${lead} Alarms: ${alarmKinds.map((kind) => countOf(kind.count, kind.kind)).join(", ")}.`;
}

/** What one datasource's entries are: `3 failures`, `1 failure, 2 overdue backups`. */
export function groupSummary(entries: readonly DigestEntry[]): string {
  return countKinds(entries)
    .map((kind) => countOf(kind.count, kind.kind))
    .join(", ");
}
