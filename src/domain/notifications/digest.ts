/**
 * Digests: repeated failures of one datasource, or a burst of failures on one channel, become one
 * message instead of dozens. Pure logic over the records of what was already delivered; the
 * caller stores the records and calls {@link dueDigests} from a timer so held failures go out
 * when their window closes even if no further event arrives.
 */
import type { NotificationView } from "./view.js";
import { stableUuid } from "../events/stableId.js";
import { PgProtectEventTypes } from "../events/types.js";
import { clipText } from "./text.js";

/** Digest settings (see the notification settings' `digest`). */
export interface DigestSettings {
  /** Window length; 0 turns digests off. */
  readonly windowMinutes: number;
  /** Failure messages per channel per window before the rest are held. */
  readonly maxMessagesPerWindow: number;
}

/** What a digest shows of one held event. */
export interface DigestEntry {
  readonly eventId: string;
  /** What the event was (a failure or which alarm); absent on entries held by earlier versions. */
  readonly eventType?: string;
  readonly occurredAt: string;
  readonly title: string;
  readonly status: string;
  readonly datasourceId: string;
  readonly datasourceName: string;
  readonly vaultName: string;
  readonly errorCode?: string;
  /** Clipped: a digest lists many events, the full text stays with the job. */
  readonly errorMessage?: string;
}

/** A record of one decision on one channel, kept by the caller in delivery order. */
export type DeliveryRecord =
  | {
      /** A message about one event went out. */
      readonly kind: "sent";
      readonly channelId: string;
      readonly eventId: string;
      readonly at: string;
      /** Set for failures, which count towards digests. */
      readonly digestKey?: string;
    }
  | {
      /** A failure was held back for a later digest. */
      readonly kind: "held";
      readonly channelId: string;
      readonly eventId: string;
      readonly at: string;
      readonly digestKey: string;
      /** When a digest may carry it. */
      readonly releaseAt: string;
      readonly entry: DigestEntry;
    }
  | {
      /** A digest went out. */
      readonly kind: "digest";
      readonly channelId: string;
      /** The digest's own id (see {@link digestId}). */
      readonly eventId: string;
      readonly at: string;
      readonly digestKeys: readonly string[];
      /** The held (and possibly the current) event ids it covered. */
      readonly covers: readonly string[];
    };

/** What to do with one event on one channel. */
export type DeliveryPlan =
  | { readonly action: "send"; readonly digestKey?: string }
  | {
      readonly action: "hold";
      readonly digestKey: string;
      readonly releaseAt: string;
      readonly reason: "repeat" | "burst";
    }
  | { readonly action: "digest"; readonly digest: PendingDigest };

/** A digest ready to render and send. */
export interface PendingDigest {
  readonly channelId: string;
  /** Oldest first. */
  readonly entries: readonly DigestEntry[];
  readonly digestKeys: readonly string[];
  readonly covers: readonly string[];
}

const ERROR_MESSAGE_CHARS = 300;

/** The key failures are digested by: one datasource. */
export function digestKeyOf(view: Pick<NotificationView, "datasourceId">): string {
  return `datasource:${view.datasourceId.toLowerCase()}`;
}

/**
 * The event types that are alarms: each raised once per fact (a stuck job, an anomalous backup,
 * a failed restore drill, a security alert), and in a burst digested like failures. Named from
 * the catalogue of event types, so a renamed type cannot leave the burst rule silently behind.
 */
export const alarmEventTypes: readonly string[] = [
  PgProtectEventTypes.jobStuck,
  PgProtectEventTypes.backupAnomaly,
  PgProtectEventTypes.drillFailed,
  PgProtectEventTypes.alertSecurity,
];

/** Whether a view is of an alarm (see {@link alarmEventTypes}); a resolved alert is news. */
export function isAlarm(view: Pick<NotificationView, "eventType" | "status">): boolean {
  return alarmEventTypes.includes(view.eventType) && view.status !== "Resolved";
}

/** The key an alarm is counted under: its own, so that no later alarm is held as its repeat. */
function alarmDigestKeyOf(view: Pick<NotificationView, "eventId">): string {
  return `alarm:${view.eventId}`;
}

/** The digest entry of a view. */
export function digestEntryOf(view: NotificationView): DigestEntry {
  const error = view.errors[0];
  return {
    eventId: view.eventId,
    eventType: view.eventType,
    occurredAt: view.occurredAt,
    title: view.title,
    status: view.status,
    datasourceId: view.datasourceId,
    datasourceName: view.datasourceName,
    vaultName: view.vaultName,
    ...(error
      ? { errorCode: error.code, errorMessage: clipText(error.message, ERROR_MESSAGE_CHARS) }
      : {}),
  };
}

/** Input of {@link planDelivery}. */
export interface PlanInput {
  readonly view: NotificationView;
  readonly channelId: string;
  /** Earlier records (any channel, any order). */
  readonly history: readonly DeliveryRecord[];
  readonly now: Date;
  readonly settings: DigestSettings;
}

/**
 * Decides how one event reaches one channel.
 *
 * - News that is not a failure always goes out on its own.
 * - A failure of a datasource that already had a message on this channel within the window is
 *   held until the window after that message closes.
 * - A failure beyond the channel's budget of failure messages per window is held until the
 *   oldest of them leaves the window.
 * - A failure that goes out takes along every held failure of the channel whose time has come,
 *   as one digest.
 */
export function planDelivery(input: PlanInput): DeliveryPlan {
  const { view, channelId, now, settings } = input;
  const alarm = !view.isFailure && isAlarm(view);
  if ((!view.isFailure && !alarm) || settings.windowMinutes <= 0) return { action: "send" };
  // An alarm is told once per fact: it counts towards the channel's budget, but its own key never
  // matches an earlier message, so it is never held behind news about the same datasource.
  const digestKey = alarm ? alarmDigestKeyOf(view) : digestKeyOf(view);
  const windowMs = settings.windowMinutes * 60_000;
  const windowStart = now.getTime() - windowMs;
  const records = input.history.filter((record) => record.channelId === channelId);

  const messagesInWindow = records.filter(
    (record) =>
      (record.kind === "digest" || (record.kind === "sent" && record.digestKey !== undefined)) &&
      Date.parse(record.at) > windowStart,
  );
  const forKey = messagesInWindow.filter((record) =>
    record.kind === "digest"
      ? record.digestKeys.includes(digestKey)
      : record.kind === "sent" && record.digestKey === digestKey,
  );
  if (forKey.length > 0) {
    const latest = Math.max(...forKey.map((record) => Date.parse(record.at)));
    return {
      action: "hold",
      digestKey,
      releaseAt: new Date(latest + windowMs).toISOString(),
      reason: "repeat",
    };
  }
  if (messagesInWindow.length >= settings.maxMessagesPerWindow) {
    const oldest = Math.min(...messagesInWindow.map((record) => Date.parse(record.at)));
    return {
      action: "hold",
      digestKey,
      releaseAt: new Date(oldest + windowMs).toISOString(),
      reason: "burst",
    };
  }
  const due = dueHeld(records, now);
  if (due.length === 0) return { action: "send", digestKey };
  const entries = [...due.map((record) => record.entry), digestEntryOf(view)];
  return { action: "digest", digest: pendingDigest(channelId, entries) };
}

/** Input of {@link dueDigests}. */
export interface DueInput {
  readonly history: readonly DeliveryRecord[];
  readonly now: Date;
}

/** The digests to send now: per channel, every held failure whose release time has come. */
export function dueDigests(input: DueInput): PendingDigest[] {
  const channels = [...new Set(input.history.map((record) => record.channelId))].sort();
  const digests: PendingDigest[] = [];
  for (const channelId of channels) {
    const due = dueHeld(
      input.history.filter((record) => record.channelId === channelId),
      input.now,
    );
    if (due.length > 0)
      digests.push(
        pendingDigest(
          channelId,
          due.map((record) => record.entry),
        ),
      );
  }
  return digests;
}

/**
 * The id of a digest: derived from what it covers, so retrying a digest that failed half-way
 * is recognised by the idempotency store.
 */
export function digestId(digest: Pick<PendingDigest, "channelId" | "covers">): string {
  return stableUuid(["digest", digest.channelId, ...[...digest.covers].sort()]);
}

type HeldRecord = Extract<DeliveryRecord, { kind: "held" }>;

function dueHeld(records: readonly DeliveryRecord[], now: Date): HeldRecord[] {
  const covered = new Set(
    records.flatMap((record) => (record.kind === "digest" ? record.covers : [])),
  );
  const seen = new Set<string>();
  return records
    .filter(
      (record): record is HeldRecord => record.kind === "held" && !covered.has(record.eventId),
    )
    .filter((record) => Date.parse(record.releaseAt) <= now.getTime())
    .filter((record) => (seen.has(record.eventId) ? false : (seen.add(record.eventId), true)))
    .sort((a, b) => Date.parse(a.entry.occurredAt) - Date.parse(b.entry.occurredAt));
}

function pendingDigest(channelId: string, entries: readonly DigestEntry[]): PendingDigest {
  const sorted = [...entries].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  return {
    channelId,
    entries: sorted,
    digestKeys: [...new Set(sorted.map((entry) => digestKeyOf(entry)))],
    covers: sorted.map((entry) => entry.eventId),
  };
}
