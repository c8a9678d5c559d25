/**
 * Notification delivery's dependencies, built once per process from the validated settings: the
 * routing rules, the Teams and email senders, and the idempotency store and delivery log that make
 * the Event Grid handler safe under at-least-once delivery.
 *
 * @remarks Kept apart from `composition.ts` so that notifications are built only by the functions
 * that deliver them: the rest of the app never needs a sender or a webhook URL.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import { appConfig, appSetting, type Config } from "./config.js";
import {
  notificationSettingsSchema,
  parseNotificationSettings,
  type NotificationSettings,
} from "./domain/notifications/rules.js";
import { createTeamsSenders } from "./providers/notifications/channels.js";
import { FileDeliveryLog } from "./providers/notifications/deliveryLog.js";
import { NotificationDispatcher } from "./providers/notifications/dispatcher.js";
import { FileIdempotencyStore } from "./providers/notifications/idempotencyStore.js";
import { OutboxEmailSender } from "./providers/notifications/outboxSender.js";
import type { EmailSender } from "./providers/notifications/types.js";

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
 * The folder of notification state: under `PGPROTECT_STATE_DIR` locally; in Azure, the
 * instance's temporary folder (the app's own folder is read-only there).
 */
export function notificationStateDir(
  config: Pick<Config, "PGPROTECT_PROVIDER" | "PGPROTECT_STATE_DIR">,
): string {
  return config.PGPROTECT_PROVIDER === "local"
    ? path.resolve(config.PGPROTECT_STATE_DIR, "notifications")
    : path.join(tmpdir(), "pgprotect", "notifications");
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
    const sender = new SmtpEmailSender({
      host: config.SMTP_HOST ?? "",
      port: config.SMTP_PORT ?? (config.SMTP_SECURE ? 465 : 587),
      secure: config.SMTP_SECURE,
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
 * Builds notification delivery from settings.
 *
 * @throws InvalidInputError `NOTIFICATION_SETTINGS_INVALID`; ConfigurationError for a Teams
 * channel without a usable webhook URL in Azure (locally it writes to the outbox instead).
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
  const teams = createTeamsSenders(settings, { lookup, ...(local ? { outboxFolder } : {}) });
  const emailProvider = emailProviderOf(config);
  const email = await emailSenderFor(config, emailProvider, outboxFolder);
  const dispatcher = new NotificationDispatcher({
    settings,
    teams,
    email: email.sender,
    idempotency: new FileIdempotencyStore(path.join(stateDir, "delivered")),
    log: new FileDeliveryLog(stateDir),
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
