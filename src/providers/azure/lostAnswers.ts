/**
 * Settling non-idempotent requests (ad-hoc backup, restore, protection actions) whose answer was
 * lost, so that each is carried out once: what the request may have started is looked for before
 * it is sent again.
 */
import { AppError } from "../../domain/errors.js";
import type { EventLogger } from "../../observability/eventLogger.js";
import { logEvents } from "../../observability/logEvents.js";
import { ProviderErrorCodes } from "../ports.js";
import { azureSdkEventLogger } from "./providerLog.js";

/**
 * How an ad-hoc backup, a restore or a protection action whose answer was lost (5xx, reset,
 * timeout) is settled: the service may have carried it out, so what it started is looked for
 * before the request is sent again.
 */
export interface LostAnswerOptions {
  /** Reads looking for what the request started; 3 by default. */
  readonly lookups?: number;
  /** Wait before each read after the first; 10 s by default (new jobs are listed within seconds). */
  readonly lookupIntervalMs?: number;
  /**
   * How long before the request a job may have started and still be taken for its own, for the
   * service's clock running behind; 30 s by default. Jobs this process already handed to an
   * earlier request are never taken.
   */
  readonly clockSkewMs?: number;
  /** Sends in all while each answer is lost and nothing is found; 2 by default. */
  readonly maxSends?: number;
  /** The app's clock; the system's by default. */
  readonly now?: () => number;
}

/** A non-idempotent request whose answer was lost: the service may or may not have acted. */
export class LostAnswer extends Error {
  constructor(override readonly cause: AppError) {
    super(cause.message);
    this.name = "LostAnswer";
  }
}

/** One look for what a request sent at `sentAt` started; `undefined` when nothing is seen. */
export type StartedLookup<T> = (sentAt: number) => Promise<T | undefined>;

/** A non-idempotent request, as {@link LostAnswerSettler.sendOnce} sends it. */
export interface OnceRequest<T> {
  readonly operation: string;
  /** What the caller will recognise in the vault, for messages. */
  readonly subject: string;
  /** Sends the request; a {@link LostAnswer} when the service may have acted without saying so. */
  readonly send: () => Promise<T>;
  readonly find: StartedLookup<T>;
}

/** A look after a request whose outcome is not known, and why it is not. */
export interface LookAfterRequest<T> {
  readonly operation: string;
  readonly subject: string;
  readonly sentAt: number;
  readonly find: StartedLookup<T>;
  /** What left the outcome unknown, for the message (`the service's answer was lost (...)`). */
  readonly unknownBecause: string;
  /** The failure that lost the answer, when there was one. */
  readonly cause?: AppError;
}

/** How many handed-out jobs are remembered; only recent jobs can be taken for a new request's. */
const HANDED_OUT_JOBS_KEPT = 1000;

/** Sends non-idempotent requests once however their answers are lost. */
export class LostAnswerSettler {
  /**
   * Jobs handed to a caller as started by its request (ids, lower case): a later request whose
   * answer is lost never adopts one of them.
   */
  private readonly handedOut = new Set<string>();

  constructor(
    private readonly options: LostAnswerOptions,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly log: EventLogger = azureSdkEventLogger,
  ) {}

  /** The app's clock. */
  now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** How long before its request a job may have started and still be the request's. */
  get clockSkewMs(): number {
    return this.options.clockSkewMs ?? 30_000;
  }

  /**
   * Sends a non-idempotent request so that it is carried out once however its answers are lost.
   *
   * @remarks The pipeline does not send these again by itself (`sendOnce.ts`). When an answer is
   * lost (`LostAnswer`: a 5xx, a reset or a timeout after sending, a status monitor that stopped
   * answering) the service may have acted, so `find` looks for what the request started, up to
   * `lookups` reads apart by `lookupIntervalMs`, and adopts it. Only when none of those reads
   * finds anything is the request sent again (the service shows new jobs within seconds, so
   * nothing found after the bounded look means nothing was started), at most `maxSends` times
   * in all; after that the last failure is thrown, retryable, since nothing was started. When
   * the look itself cannot be done, nothing is sent again: the call fails with
   * `RequestOutcomeUnknown`, which is not retried.
   */
  async sendOnce<T>(request: OnceRequest<T>): Promise<T> {
    const maxSends = Math.max(1, this.options.maxSends ?? 2);
    for (let sends = 1; ; sends += 1) {
      const sentAt = this.now();
      let lost: LostAnswer;
      try {
        return await request.send();
      } catch (thrown) {
        if (!(thrown instanceof LostAnswer)) throw thrown;
        lost = thrown;
      }
      const found = await this.lookAfter({
        operation: request.operation,
        subject: request.subject,
        sentAt,
        find: request.find,
        unknownBecause: `the service's answer was lost (${lost.cause.message})`,
        cause: lost.cause,
      });
      const lostAnswer = {
        operation: request.operation,
        subject: request.subject,
        reason: lost.cause.message,
      };
      if (found !== undefined) {
        this.log.emit(logEvents.azureLostAnswerAdopted, lostAnswer);
        return found;
      }
      if (sends >= maxSends) throw lost.cause;
      this.log.emit(logEvents.azureLostAnswerResent, { ...lostAnswer, send: sends + 1, maxSends });
    }
  }

  /**
   * Looks for what a request started, up to `lookups` reads, the first at once, until one finds
   * something; a look that cannot be done fails with `RequestOutcomeUnknown`, not retried, since
   * sending the request again might carry it out twice.
   */
  async lookAfter<T>(request: LookAfterRequest<T>): Promise<T | undefined> {
    const lookups = Math.max(1, this.options.lookups ?? 3);
    try {
      for (let look = 1; look <= lookups; look += 1) {
        if (look > 1) await this.sleep(this.options.lookupIntervalMs ?? 10_000);
        const found = await request.find(request.sentAt);
        if (found !== undefined) return found;
      }
      return undefined;
    } catch (lookFailed) {
      const since = new Date(request.sentAt).toISOString();
      throw new AppError(
        ProviderErrorCodes.requestOutcomeUnknown,
        `${request.operation} for ${request.subject}: ${request.unknownBecause}, and whether it started was not found out (${lookFailed instanceof Error ? lookFailed.message : String(lookFailed)})`,
        {
          httpStatus: 502,
          retryable: false,
          recommendedAction: `Look in the vault's jobs for one of ${request.subject} started after ${since} before asking again`,
          ...(request.cause ? { cause: request.cause } : {}),
        },
      );
    }
  }

  /** Whether a job was already handed to a caller as its request's. */
  isHandedOut(jobId: string): boolean {
    return this.handedOut.has(jobId.toLowerCase());
  }

  /** Records a job handed to a caller as its request's. */
  handOut(jobId: string): void {
    this.handedOut.add(jobId.toLowerCase());
    if (this.handedOut.size > HANDED_OUT_JOBS_KEPT) {
      const [oldest] = this.handedOut;
      if (oldest !== undefined) this.handedOut.delete(oldest);
    }
  }
}
