/**
 * Delivers pgprotect events to the channels the routing rules name: idempotent by event id and
 * channel, digesting repeated failures, and retrying only the channels that failed.
 */
import { toAppError } from "../../domain/errors.js";
import type { PgProtectEvent } from "../../domain/events/types.js";
import {
  digestEntryOf,
  digestId,
  dueDigests,
  planDelivery,
  type DeliveryRecord,
  type PendingDigest,
} from "../../domain/notifications/digest.js";
import { digestEmailFor, emailFor, type EmailContent } from "../../domain/notifications/email.js";
import {
  routeEvent,
  type ChannelSettings,
  type NotificationSettings,
} from "../../domain/notifications/rules.js";
import {
  teamsDigestMessageFor,
  teamsMessageFor,
  type TeamsMessage,
} from "../../domain/notifications/teamsCard.js";
import { describeEvent, type NotificationView } from "../../domain/notifications/view.js";
import { wallClock, type Clock } from "../ports.js";
import type { DeliveryLog } from "./deliveryLog.js";
import type { IdempotencyStore } from "./idempotencyStore.js";
import {
  NotificationDeliveryError,
  NotificationErrorCodes,
  type EmailSender,
  type TeamsSender,
} from "./types.js";

/** What the dispatcher needs. */
export interface DispatcherOptions {
  readonly settings: NotificationSettings;
  /** The Teams sender of each Teams channel, by channel id. */
  readonly teams: ReadonlyMap<string, TeamsSender>;
  /** The one email sender all email channels use (their recipients differ). */
  readonly email?: EmailSender;
  readonly idempotency: IdempotencyStore;
  readonly log: DeliveryLog;
  readonly now?: Clock;
  /** How long a claim protects a delivery in progress. Default 5 minutes. */
  readonly leaseMs?: number;
  /** Email subject prefix. Default `[pgprotect]`. */
  readonly subjectPrefix?: string;
}

/** What happened on one channel. */
export interface DeliveryOutcome {
  readonly channelId: string;
  readonly result: "sent" | "digest" | "held" | "duplicate" | "failed";
  readonly error?: NotificationDeliveryError;
}

/** Routes, renders and sends notifications. */
export class NotificationDispatcher {
  readonly #options: DispatcherOptions;
  readonly #now: Clock;
  readonly #leaseMs: number;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#now = options.now ?? wallClock;
    this.#leaseMs = options.leaseMs ?? 300_000;
  }

  /**
   * Delivers one event to every channel its rules name.
   *
   * @throws NotificationDeliveryError `NOTIFICATION_PARTIAL_FAILURE` (retryable when any failure
   * is) after trying every channel, when at least one failed; the delivered ones are recorded
   * and a redelivery of the event sends only the rest.
   */
  async dispatch(event: PgProtectEvent): Promise<DeliveryOutcome[]> {
    const view = describeEvent(event);
    const outcomes: DeliveryOutcome[] = [];
    for (const route of routeEvent(event, this.#options.settings)) {
      outcomes.push(await this.#deliver(view, route.channel, route.ruleNames));
    }
    throwIfFailed(outcomes);
    return outcomes;
  }

  /**
   * Sends the digests whose windows have closed and forgets records no digest needs any more.
   * Call it from a timer (every few minutes): without it, a held failure waits for the next
   * failure on the same channel.
   */
  async flushDigests(): Promise<DeliveryOutcome[]> {
    const now = this.#now();
    const history = await this.#history(now);
    const outcomes: DeliveryOutcome[] = [];
    for (const digest of dueDigests({ history, now })) {
      const channel = this.#options.settings.channels.find(
        (candidate) => candidate.id === digest.channelId,
      );
      if (!channel) continue;
      outcomes.push(await this.#sendDigest(channel, digest, []));
    }
    // Planning never looks further back than two windows; a third keeps a margin for clock skew.
    await this.#options.log.prune(new Date(now.getTime() - 3 * this.#windowMs()));
    throwIfFailed(outcomes);
    return outcomes;
  }

  async #deliver(
    view: NotificationView,
    channel: ChannelSettings,
    ruleNames: readonly string[],
  ): Promise<DeliveryOutcome> {
    const key = `${view.eventId}:${channel.id}`;
    const now = this.#now();
    const claim = await this.#options.idempotency.claim(key, now, this.#leaseMs);
    if (claim === "done") return { channelId: channel.id, result: "duplicate" };
    if (claim === "busy") {
      return {
        channelId: channel.id,
        result: "failed",
        error: new NotificationDeliveryError(
          NotificationErrorCodes.inProgress,
          `Event ${view.eventId} is being delivered to '${channel.id}' already`,
          {
            retryable: true,
          },
        ),
      };
    }
    try {
      const plan = planDelivery({
        view,
        channelId: channel.id,
        history: await this.#history(now),
        now,
        settings: this.#options.settings.digest,
      });
      let outcome: DeliveryOutcome;
      if (plan.action === "hold") {
        await this.#options.log.append({
          kind: "held",
          channelId: channel.id,
          eventId: view.eventId,
          at: now.toISOString(),
          digestKey: plan.digestKey,
          releaseAt: plan.releaseAt,
          entry: digestEntryOf(view),
        });
        outcome = { channelId: channel.id, result: "held" };
      } else if (plan.action === "digest") {
        outcome = await this.#sendDigest(channel, plan.digest, ruleNames);
      } else {
        await this.#send(channel, view.eventId, {
          teams: () => teamsMessageFor(view, { links: this.#options.settings.links, ruleNames }),
          email: () =>
            emailFor(view, { links: this.#options.settings.links, ruleNames, ...this.#prefix() }),
        });
        await this.#options.log.append({
          kind: "sent",
          channelId: channel.id,
          eventId: view.eventId,
          at: now.toISOString(),
          ...(plan.digestKey ? { digestKey: plan.digestKey } : {}),
        });
        outcome = { channelId: channel.id, result: "sent" };
      }
      if (outcome.result === "failed") {
        await this.#options.idempotency.release(key);
      } else {
        await this.#options.idempotency.complete(key, this.#now());
      }
      return outcome;
    } catch (error) {
      await this.#options.idempotency.release(key);
      return { channelId: channel.id, result: "failed", error: asDeliveryError(error) };
    }
  }

  async #sendDigest(
    channel: ChannelSettings,
    digest: PendingDigest,
    ruleNames: readonly string[],
  ): Promise<DeliveryOutcome> {
    const id = digestId(digest);
    const key = `${id}:${channel.id}`;
    const now = this.#now();
    const claim = await this.#options.idempotency.claim(key, now, this.#leaseMs);
    if (claim === "done") return { channelId: channel.id, result: "duplicate" };
    if (claim === "busy") {
      return {
        channelId: channel.id,
        result: "failed",
        error: new NotificationDeliveryError(
          NotificationErrorCodes.inProgress,
          `A digest for '${channel.id}' is being delivered already`,
          {
            retryable: true,
          },
        ),
      };
    }
    try {
      await this.#send(channel, id, {
        teams: () =>
          teamsDigestMessageFor(digest, { links: this.#options.settings.links, ruleNames }),
        email: () =>
          digestEmailFor(digest, {
            links: this.#options.settings.links,
            ruleNames,
            ...this.#prefix(),
          }),
      });
      const record: DeliveryRecord = {
        kind: "digest",
        channelId: channel.id,
        eventId: id,
        at: now.toISOString(),
        digestKeys: digest.digestKeys,
        covers: digest.covers,
      };
      await this.#options.log.append(record);
      await this.#options.idempotency.complete(key, this.#now());
      return { channelId: channel.id, result: "digest" };
    } catch (error) {
      await this.#options.idempotency.release(key);
      return { channelId: channel.id, result: "failed", error: asDeliveryError(error) };
    }
  }

  async #send(
    channel: ChannelSettings,
    messageId: string,
    render: { teams: () => TeamsMessage; email: () => EmailContent },
  ): Promise<void> {
    if (channel.type === "teams") {
      const sender = this.#options.teams.get(channel.id);
      if (!sender) throw missingSender(channel.id, "Teams");
      await sender.send(render.teams(), { messageId });
      return;
    }
    const sender = this.#options.email;
    if (!sender) throw missingSender(channel.id, "email");
    await sender.send({
      to: channel.to,
      cc: channel.cc ?? [],
      bcc: channel.bcc ?? [],
      ...render.email(),
      messageId,
    });
  }

  async #history(now: Date): Promise<DeliveryRecord[]> {
    // Two windows back: a held failure's release is at most one window after the message it waits on.
    return this.#options.log.list(new Date(now.getTime() - 2 * this.#windowMs()));
  }

  #windowMs(): number {
    return Math.max(1, this.#options.settings.digest.windowMinutes) * 60_000;
  }

  #prefix(): { subjectPrefix?: string } {
    return this.#options.subjectPrefix === undefined
      ? {}
      : { subjectPrefix: this.#options.subjectPrefix };
  }
}

function missingSender(channelId: string, kind: string): NotificationDeliveryError {
  return new NotificationDeliveryError(
    NotificationErrorCodes.rejected,
    `Channel '${channelId}' has no ${kind} sender configured`,
    {
      retryable: false,
      recommendedAction: "Configure the channel's webhook URL or the email sender.",
    },
  );
}

function asDeliveryError(error: unknown): NotificationDeliveryError {
  if (error instanceof NotificationDeliveryError) return error;
  const app = toAppError(error);
  return new NotificationDeliveryError(app.code, app.message, {
    retryable: app.retryable,
    cause: error,
  });
}

function throwIfFailed(outcomes: readonly DeliveryOutcome[]): void {
  const failed = outcomes.filter((outcome) => outcome.result === "failed");
  if (failed.length === 0) return;
  const retryAfters = failed
    .map((outcome) => outcome.error?.retryAfterMs)
    .filter((ms): ms is number => ms !== undefined);
  throw new NotificationDeliveryError(
    NotificationErrorCodes.partialFailure,
    `Delivery failed for ${failed.map((outcome) => `'${outcome.channelId}' (${outcome.error?.code ?? "unknown"}: ${outcome.error?.message ?? ""})`).join(", ")}`,
    {
      retryable: failed.some((outcome) => outcome.error?.retryable ?? false),
      ...(retryAfters.length > 0 ? { retryAfterMs: Math.max(...retryAfters) } : {}),
      cause: failed[0]?.error,
    },
  );
}
