/**
 * The Azure Table Storage table that holds notification delivery state when the app runs on many
 * instances: the idempotency records and the delivery log that digests are planned from. Shared by
 * {@link TableIdempotencyStore} and {@link TableDeliveryLog}.
 *
 * @remarks Every failure of the table surfaces as a retryable {@link NotificationDeliveryError}
 * with the code {@link notificationStateUnavailable}: when delivery state cannot be read or
 * written, the safe course is for Event Grid to deliver the event again later, never to drop it.
 * Messages carry the table name, the operation, the HTTP status and the service's error code, and
 * never an endpoint's query string, a key or a connection string.
 */
import { createHash } from "node:crypto";
import { isRestError } from "@azure/core-rest-pipeline";
import type { TableClient } from "@azure/data-tables";
import { NotificationDeliveryError } from "./types.js";

/** The error code of a notification state store that cannot be reached or used. */
export const notificationStateUnavailable = "NOTIFICATION_STATE_UNAVAILABLE";

/**
 * Longest escaped key kept readable. Table Storage allows 1 KiB per key; longer keys are hashed,
 * which keeps the partition key well below the limit whatever the prefix.
 */
const MAX_READABLE_KEY_CHARS = 400;

/** The escape character; escaped itself, so escaping is reversible and never ambiguous. */
const ESCAPE = "~";

/**
 * Makes a string usable as a Table Storage `PartitionKey` or `RowKey`, one to one.
 *
 * @remarks Table Storage refuses `/`, `\`, `#`, `?` and the control characters U+0000-U+001F and
 * U+007F-U+009F in keys. Those, `%` (which some clients double-decode in entity URLs) and the
 * escape character `~` itself become `~XX` (two upper-case hex digits). A result longer than
 * {@link MAX_READABLE_KEY_CHARS} becomes `~h` and the SHA-256 of the original: `h` is no hex
 * digit, so a hashed key can never equal an escaped one.
 */
export function escapeTableKey(value: string): string {
  const escaped = value.replace(
    // eslint-disable-next-line no-control-regex -- control characters are exactly what Table Storage forbids
    /[/\\#?%~\u0000-\u001f\u007f-\u009f]/g,
    (char) => `${ESCAPE}${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  if (escaped.length <= MAX_READABLE_KEY_CHARS && !hasLoneSurrogate(value)) return escaped;
  // Lone surrogates do not survive the JSON the service speaks; hashing keeps such keys distinct.
  return `${ESCAPE}h${createHash("sha256").update(value, "utf8").digest("hex")}`;
}

function hasLoneSurrogate(value: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}

/** What a {@link NotificationTable} needs. */
export interface NotificationTableOptions {
  /** The table's name, for messages (the client already names it). */
  readonly tableName: string;
  /**
   * Builds the client on first use. It may throw, e.g. when the host storage settings are
   * missing: the error reaches the first delivery, which Event Grid then retries.
   */
  readonly connect: () => TableClient | Promise<TableClient>;
}

/**
 * One table of notification state, created if missing the first time it is used.
 *
 * @remarks The client is built and the table created lazily, so that building the app's
 * dependencies never needs the network, and once per process: later calls reuse the same
 * promise. A failed creation is forgotten, so the next call tries again.
 */
export class NotificationTable {
  /** The table's name. */
  readonly tableName: string;
  readonly #connect: () => TableClient | Promise<TableClient>;
  #ready: Promise<TableClient> | undefined;

  constructor(options: NotificationTableOptions) {
    this.tableName = options.tableName;
    this.#connect = options.connect;
  }

  /**
   * The table's client, once the table exists.
   *
   * @throws NotificationDeliveryError `NOTIFICATION_STATE_UNAVAILABLE` (retryable) when the client
   * cannot be built or the table cannot be created.
   */
  client(): Promise<TableClient> {
    this.#ready ??= this.#open().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Runs one operation on the table, turning its failure into a retryable
   * {@link NotificationDeliveryError} that names the operation.
   */
  async run<T>(operation: string, action: (client: TableClient) => Promise<T>): Promise<T> {
    const client = await this.client();
    try {
      return await action(client);
    } catch (error) {
      throw this.failure(operation, error);
    }
  }

  /** The error reported when `operation` failed with `error`; passes delivery errors through. */
  failure(operation: string, error: unknown): NotificationDeliveryError {
    if (error instanceof NotificationDeliveryError) return error;
    const status = statusOf(error);
    const code = isRestError(error) ? error.code : (error as { code?: unknown } | null)?.code;
    const detail = [
      `table '${this.tableName}'`,
      status,
      typeof code === "string" ? code : undefined,
    ]
      .filter((part) => part !== undefined)
      .join(", ");
    return new NotificationDeliveryError(
      notificationStateUnavailable,
      `Notification state: ${operation} failed (${detail})`,
      {
        retryable: true,
        cause: error,
        ...(status === 401 || status === 403
          ? {
              recommendedAction:
                "Grant the app's identity Storage Table Data Contributor on the host storage account; new role assignments take a few minutes to apply.",
            }
          : {}),
      },
    );
  }

  async #open(): Promise<TableClient> {
    let client: TableClient;
    try {
      client = await this.#connect();
    } catch (error) {
      throw this.failure("connecting", error);
    }
    try {
      // Answers success when the table exists already (the SDK absorbs TableAlreadyExists).
      await client.createTable();
    } catch (error) {
      throw this.failure("creating the table", error);
    }
    return client;
  }
}

/** The HTTP status of a Table Storage failure, when the service answered. */
export function statusOf(error: unknown): number | undefined {
  if (isRestError(error)) return error.statusCode;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}
