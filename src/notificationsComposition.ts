/**
 * Notification delivery's dependencies, built once per process from the validated settings: the
 * routing rules, the Teams and email senders, and the idempotency store and delivery log that make
 * the Event Grid handler safe under at-least-once delivery.
 *
 * @remarks Kept apart from `composition.ts` so that notifications are built only by the functions
 * that deliver them: the rest of the app never needs a sender or a webhook URL.
 *
 * Delivery state lives in files under `PGPROTECT_STATE_DIR` locally, where one process delivers.
 * In Azure the app scales out to many instances, each with its own temporary folder, so the state
 * lives in a table of the host's storage account that every instance shares: a redelivered event
 * that lands on another instance still notifies no one twice, and digests count every instance's
 * deliveries.
 */
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { appConfig, appSetting, type Config } from "./config.js";
import { ConfigurationError } from "./domain/errors.js";
import {
  notificationSettingsSchema,
  parseNotificationSettings,
  type NotificationSettings,
} from "./domain/notifications/rules.js";
import { createTeamsSenders } from "./providers/notifications/channels.js";
import { FileDeliveryLog, type DeliveryLog } from "./providers/notifications/deliveryLog.js";
import { NotificationDispatcher } from "./providers/notifications/dispatcher.js";
import {
  FileIdempotencyStore,
  type IdempotencyStore,
} from "./providers/notifications/idempotencyStore.js";
import { OutboxEmailSender } from "./providers/notifications/outboxSender.js";
import {
  NotificationTable,
  notificationStateUnavailable,
} from "./providers/notifications/tableStorage.js";
import { NotificationDeliveryError, type EmailSender } from "./providers/notifications/types.js";

/** The recipient of the local default email channel (the message lands in the outbox, not a mailbox). */
export const localDefaultRecipient = "backup-operators@pgprotect.localhost";

/** Notification delivery for this process. */
export interface NotificationDependencies {
  readonly settings: NotificationSettings;
  readonly dispatcher: NotificationDispatcher;
  /** Where the outbox writes `.eml` and Teams `.json` files. */
  readonly outboxFolder: string;
  /** How email leaves this process. */
  readonly emailProvider: "acs" | "smtp" | "outbox";
  /** Closes pooled connections (SMTP). */
  close(): void;
}

/** Options of {@link createNotificationDependencies}. */
export interface NotificationCompositionOptions {
  /** Reads an app setting by name (the webhook URL settings the channels name). */
  readonly lookup?: (name: string) => string | undefined;
  /** The clock of the dispatcher (tests). */
  readonly now?: () => Date;
}

/**
 * The folder of local notification files: under `PGPROTECT_STATE_DIR` locally; in Azure, the
 * instance's temporary folder (the app's own folder is read-only there), which holds only the
 * outbox, if anything: delivery state is in Table Storage there (see {@link notificationStateLocation}).
 */
export function notificationStateDir(
  config: Pick<Config, "PGPROTECT_PROVIDER" | "PGPROTECT_STATE_DIR">,
): string {
  return config.PGPROTECT_PROVIDER === "local"
    ? path.resolve(config.PGPROTECT_STATE_DIR, "notifications")
    : path.join(tmpdir(), "pgprotect", "notifications");
}

/**
 * The host storage account's table service, as the Functions host's own settings give it. Carries
 * no secret: a connection string stays in the config.
 */
export type HostTableStorage =
  /** `AzureWebJobsStorage` holds a connection string (or `UseDevelopmentStorage=true`). */
  | { readonly kind: "connectionString" }
  /** Identity-based host storage: an endpoint and, for a user-assigned identity, its client id. */
  | {
      readonly kind: "identity";
      readonly endpoint: string;
      /** Which setting gave the endpoint. */
      readonly from: "AzureWebJobsStorage__tableServiceUri" | "AzureWebJobsStorage__accountName";
      /** `AzureWebJobsStorage__clientId`; without it the Azure Identity library reads `AZURE_CLIENT_ID`. */
      readonly clientId?: string;
    }
  /**
   * Nothing usable: the reason names the settings, never their values. `unset` when no host
   * storage setting is there at all (the local runtime), rather than one that cannot be read.
   */
  | { readonly kind: "missing"; readonly reason: string; readonly unset?: true };

/** Where notification delivery state lives; safe to log (no secret in it). */
export type NotificationStateLocation =
  | {
      readonly kind: "files";
      readonly folder: string;
      /** Why files serve in Azure mode: no host storage is configured (the local runtime). */
      readonly fallback?: string;
    }
  | { readonly kind: "table"; readonly tableName: string; readonly storage: HostTableStorage };

/**
 * The table of notification state in the host's storage account: named after the task hub, as
 * Durable Functions names its own tables there (`<hub>History`, `<hub>Instances`), so that apps
 * sharing an account with different task hubs keep their delivery state apart too.
 */
export function notificationTableName(config: Pick<Config, "TASKHUB_NAME">): string {
  // TASKHUB_NAME is 3-45 letters and digits starting with a letter: a valid table name (3-63) once suffixed.
  return `${config.TASKHUB_NAME}Notifications`;
}

/**
 * Reads the host storage settings the way the Functions host does: a connection string in
 * `AzureWebJobsStorage` first; otherwise identity-based, with `AzureWebJobsStorage__tableServiceUri`,
 * or `https://<AzureWebJobsStorage__accountName>.table.core.windows.net` (public cloud only, as for
 * the host itself).
 *
 * @param lookup - reads a host setting by name. The `AzureWebJobsStorage__*` settings belong to
 * the host and are absent from local.settings.sample.json, so they are read on demand, not
 * through the schema.
 */
export function hostTableStorage(
  config: Pick<Config, "AzureWebJobsStorage">,
  lookup: (name: string) => string | undefined,
): HostTableStorage {
  if (config.AzureWebJobsStorage) return { kind: "connectionString" };
  const clientId = lookup("AzureWebJobsStorage__clientId");
  const identity = clientId ? { clientId } : {};
  const serviceUri = lookup("AzureWebJobsStorage__tableServiceUri");
  if (serviceUri) {
    if (!URL.canParse(serviceUri)) {
      return {
        kind: "missing",
        reason: "AzureWebJobsStorage__tableServiceUri is not an absolute URL",
      };
    }
    return {
      kind: "identity",
      endpoint: serviceUri.replace(/\/+$/, ""),
      from: "AzureWebJobsStorage__tableServiceUri",
      ...identity,
    };
  }
  const accountName = lookup("AzureWebJobsStorage__accountName");
  if (accountName) {
    if (!/^[a-z0-9]{3,24}$/.test(accountName)) {
      return {
        kind: "missing",
        reason: "AzureWebJobsStorage__accountName is not a storage account name",
      };
    }
    return {
      kind: "identity",
      endpoint: `https://${accountName}.table.core.windows.net`,
      from: "AzureWebJobsStorage__accountName",
      ...identity,
    };
  }
  return {
    kind: "missing",
    reason:
      "none of AzureWebJobsStorage (a connection string), AzureWebJobsStorage__tableServiceUri or AzureWebJobsStorage__accountName is set",
    unset: true,
  };
}

/**
 * Where this process keeps notification delivery state: files locally, the host storage
 * account's table in Azure.
 */
export function notificationStateLocation(
  config: Pick<
    Config,
    "PGPROTECT_PROVIDER" | "PGPROTECT_STATE_DIR" | "TASKHUB_NAME" | "AzureWebJobsStorage"
  >,
  lookup: (name: string) => string | undefined = (name) => appSetting(name),
): NotificationStateLocation {
  if (config.PGPROTECT_PROVIDER === "local") {
    return { kind: "files", folder: notificationStateDir(config) };
  }
  const storage = hostTableStorage(config, lookup);
  // The Functions host in Azure always has host storage; only the local runtime runs the Azure
  // provider without it, as one instance, where files de-duplicate as well as a table would. A
  // setting that is there but unreadable is a mistake to report, not a reason to fall back.
  if (storage.kind === "missing" && storage.unset) {
    return { kind: "files", folder: notificationStateDir(config), fallback: storage.reason };
  }
  return { kind: "table", tableName: notificationTableName(config), storage };
}

/** The idempotency store and delivery log of a location. */
async function notificationState(
  location: NotificationStateLocation,
  connectionString: string | undefined,
): Promise<{ idempotency: IdempotencyStore; log: DeliveryLog }> {
  if (location.kind === "files") {
    return {
      idempotency: new FileIdempotencyStore(path.join(location.folder, "delivered")),
      log: new FileDeliveryLog(location.folder),
    };
  }
  // Loaded only in Azure, so that local runs never load the Table Storage client.
  const [{ TableIdempotencyStore }, { TableDeliveryLog }] = await Promise.all([
    import("./providers/notifications/tableIdempotencyStore.js"),
    import("./providers/notifications/tableDeliveryLog.js"),
  ]);
  const table = new NotificationTable({
    tableName: location.tableName,
    // Connecting waits for the first delivery: building the dependencies needs no network, and a
    // missing setting fails deliveries retryably instead of the whole host.
    connect: () => connectHostTable(location.tableName, location.storage, connectionString),
  });
  return { idempotency: new TableIdempotencyStore(table), log: new TableDeliveryLog(table) };
}

/**
 * A client of the notification table in the host storage account.
 *
 * @throws NotificationDeliveryError `NOTIFICATION_STATE_UNAVAILABLE` (retryable) when the settings
 * name no usable account; the message names settings, never their values.
 */
async function connectHostTable(
  tableName: string,
  storage: HostTableStorage,
  connectionString: string | undefined,
) {
  if (storage.kind === "missing") {
    throw new NotificationDeliveryError(
      notificationStateUnavailable,
      `Notification state needs the host storage account: ${storage.reason}`,
      {
        retryable: true,
        recommendedAction:
          "Set AzureWebJobsStorage__tableServiceUri (identity-based host storage) or AzureWebJobsStorage.",
      },
    );
  }
  const { TableClient } = await import("@azure/data-tables");
  if (storage.kind === "connectionString") {
    let client;
    try {
      client = TableClient.fromConnectionString(connectionString ?? "", tableName);
    } catch {
      // No cause attached: whatever the parser says may quote the connection string.
      throw new NotificationDeliveryError(
        notificationStateUnavailable,
        "AzureWebJobsStorage is not a storage connection string the Table Storage client accepts",
        { retryable: true },
      );
    }
    return isLoopbackHttp(client.url)
      ? TableClient.fromConnectionString(connectionString ?? "", tableName, {
          allowInsecureConnection: true,
        })
      : client;
  }
  const { DefaultAzureCredential } = await import("@azure/identity");
  const credential = new DefaultAzureCredential(
    storage.clientId ? { managedIdentityClientId: storage.clientId } : {},
  );
  return new TableClient(storage.endpoint, tableName, credential, {
    ...(isLoopbackHttp(storage.endpoint) ? { allowInsecureConnection: true } : {}),
  });
}

/** An emulator on this machine (Azurite) speaks plain HTTP; nothing else may. */
function isLoopbackHttp(url: string): boolean {
  const parsed = new URL(url);
  return (
    parsed.protocol === "http:" &&
    ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname.toLowerCase())
  );
}

/**
 * The settings in force: `NOTIFICATION_SETTINGS` when given. When empty, the local provider
 * announces finished jobs and every protection outcome by email and Teams, both written to the
 * outbox unless SMTP or a webhook URL is configured; in Azure, nothing is routed.
 */
export function effectiveNotificationSettings(
  config: Pick<Config, "NOTIFICATION_SETTINGS" | "PGPROTECT_PROVIDER" | "WEBSITE_HOSTNAME">,
): NotificationSettings {
  if (config.NOTIFICATION_SETTINGS !== undefined || config.PGPROTECT_PROVIDER !== "local") {
    return parseNotificationSettings(config.NOTIFICATION_SETTINGS);
  }
  return notificationSettingsSchema.parse({
    channels: [
      { id: "email", type: "email", to: [localDefaultRecipient] },
      { id: "teams", type: "teams", webhookUrlSetting: "TEAMS_WEBHOOK_URL" },
    ],
    rules: [
      {
        name: "finished-jobs-and-protection",
        match: { jobStatuses: ["Completed", "Failed", "Cancelled"] },
        channels: ["email", "teams"],
      },
    ],
    ...(config.WEBSITE_HOSTNAME
      ? {
          links: {
            // The local API serves jobs by name; the portal knows nothing of local ids.
            jobUrlTemplate: `http://${config.WEBSITE_HOSTNAME}/api/jobs/{jobName}`,
            resourceUrlTemplate: `http://${config.WEBSITE_HOSTNAME}/api/backup-instances`,
          },
        }
      : {}),
  });
}

/** Which email sender the settings ask for (see `EMAIL_PROVIDER`). */
export function emailProviderOf(
  config: Pick<Config, "EMAIL_PROVIDER" | "ACS_ENDPOINT" | "SMTP_HOST">,
): "acs" | "smtp" | "outbox" {
  if (config.EMAIL_PROVIDER) return config.EMAIL_PROVIDER;
  if (config.ACS_ENDPOINT) return "acs";
  if (config.SMTP_HOST) return "smtp";
  return "outbox";
}

async function emailSenderFor(
  config: Config,
  provider: "acs" | "smtp" | "outbox",
  outboxFolder: string,
): Promise<{ sender: EmailSender; close(): void }> {
  const from = config.EMAIL_SENDER_ADDRESS;
  if (provider === "acs") {
    const [{ AcsEmailSender }, { DefaultAzureCredential }] = await Promise.all([
      import("./providers/notifications/acsEmailSender.js"),
      import("@azure/identity"),
    ]);
    const sender = new AcsEmailSender({
      endpoint: config.ACS_ENDPOINT ?? "",
      credential: new DefaultAzureCredential(),
      senderAddress: from ?? "",
    });
    return { sender, close: () => undefined };
  }
  if (provider === "smtp") {
    const { SmtpEmailSender } = await import("./providers/notifications/smtpEmailSender.js");
    const ca = config.SMTP_TLS_CA_FILE ? await readCaFile(config.SMTP_TLS_CA_FILE) : undefined;
    const sender = new SmtpEmailSender({
      host: config.SMTP_HOST ?? "",
      // The sender picks the port and implicit TLS from each other (465 speaks TLS from the first byte).
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      allowPlaintext: config.SMTP_ALLOW_PLAINTEXT,
      ...(ca ? { ca } : {}),
      ...(config.SMTP_USER ? { user: config.SMTP_USER } : {}),
      ...(config.SMTP_PASSWORD ? { password: config.SMTP_PASSWORD } : {}),
      from: from ?? "pgprotect <pgprotect@localhost>",
    });
    return { sender, close: () => sender.close() };
  }
  return {
    sender: new OutboxEmailSender({ folder: outboxFolder, ...(from ? { from } : {}) }),
    close: () => undefined,
  };
}

/**
 * Reads the PEM file `SMTP_TLS_CA_FILE` names.
 *
 * @throws ConfigurationError when it cannot be read or holds no certificate.
 */
async function readCaFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigurationError(`SMTP_TLS_CA_FILE cannot be read: ${file}`, [
      {
        path: "SMTP_TLS_CA_FILE",
        code: "SMTP_TLS_CA_FILE_UNREADABLE",
        message: `${(error as NodeJS.ErrnoException).code ?? "unreadable"}: ${file}`,
      },
    ]);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigurationError(`SMTP_TLS_CA_FILE holds no PEM certificate: ${file}`, [
      {
        path: "SMTP_TLS_CA_FILE",
        code: "SMTP_TLS_CA_FILE_NOT_PEM",
        message: "The file must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----).",
      },
    ]);
  }
  return text;
}

/**
 * Builds notification delivery from settings.
 *
 * @throws InvalidInputError `NOTIFICATION_SETTINGS_INVALID`; ConfigurationError for a Teams
 * channel without a usable webhook URL in Azure (locally it writes to the outbox instead), and for
 * an `SMTP_TLS_CA_FILE` that cannot be read or holds no certificate.
 */
export async function createNotificationDependencies(
  config: Config,
  options: NotificationCompositionOptions = {},
): Promise<NotificationDependencies> {
  const settings = effectiveNotificationSettings(config);
  const stateDir = notificationStateDir(config);
  const outboxFolder = path.join(stateDir, "outbox");
  const local = config.PGPROTECT_PROVIDER === "local";
  const lookup = options.lookup ?? ((name: string) => appSetting(name));
  const location = notificationStateLocation(config, lookup);
  if (location.kind === "files" && location.fallback) {
    console.warn(
      `pgprotect: notification delivery state kept in ${location.folder}, so de-duplication holds for this instance only: ${location.fallback}`,
    );
  }
  const state = await notificationState(location, config.AzureWebJobsStorage);
  const teams = createTeamsSenders(settings, { lookup, ...(local ? { outboxFolder } : {}) });
  const emailProvider = emailProviderOf(config);
  const email = await emailSenderFor(config, emailProvider, outboxFolder);
  const dispatcher = new NotificationDispatcher({
    settings,
    teams,
    email: email.sender,
    idempotency: state.idempotency,
    log: state.log,
    ...(options.now ? { now: options.now } : {}),
  });
  return { settings, dispatcher, outboxFolder, emailProvider, close: () => email.close() };
}

let pending: Promise<NotificationDependencies> | undefined;

/** This process's notification delivery, built on first use. */
export function notificationDependencies(): Promise<NotificationDependencies> {
  pending ??= createNotificationDependencies(appConfig()).catch((error: unknown) => {
    // A configuration fixed in place (a Key Vault reference resolved late) is picked up next time.
    pending = undefined;
    throw error;
  });
  return pending;
}

/** Replaces the process's notification delivery (tests), or clears it so it is built again. */
export function setNotificationDependencies(
  dependencies: NotificationDependencies | undefined,
): void {
  pending = dependencies ? Promise.resolve(dependencies) : undefined;
}
