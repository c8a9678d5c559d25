/**
 * Notification delivery's dependencies, built once per process from the validated settings: the
 * routing rules, the Teams and email senders, and the idempotency store and delivery log that make
 * the Event Grid handler safe under at-least-once delivery.
 *
 * @remarks Kept apart from `composition.ts` so that notifications are built only by the functions
 * that deliver them: the rest of the app never needs a sender or a webhook URL. Wiring only: which
 * sender, which state store and where they live are decided in `providers/notifications/`.
 */
import path from "node:path";
import { appConfig, appSetting, type Config } from "./config.js";
import type { NotificationSettings } from "./domain/notifications/rules.js";
import { consoleEventLogger } from "./observability/consoleLogger.js";
import { logEvents } from "./observability/logEvents.js";
import { ProcessSingleton } from "./processSingleton.js";
import { createTeamsSenders } from "./providers/notifications/channels.js";
import { effectiveNotificationSettings } from "./providers/notifications/defaultSettings.js";
import { createDeliveryState } from "./providers/notifications/deliveryState.js";
import { NotificationDispatcher } from "./providers/notifications/dispatcher.js";
import {
  createEmailSender,
  emailProviderOf,
  type EmailProvider,
} from "./providers/notifications/emailSenders.js";
import {
  notificationStateDir,
  notificationStateLocation,
} from "./providers/notifications/stateLocation.js";
import type { Clock } from "./providers/ports.js";

/** Notification delivery for this process. */
export interface NotificationDependencies {
  readonly settings: NotificationSettings;
  readonly dispatcher: NotificationDispatcher;
  /** Where the outbox writes `.eml` and Teams `.json` files. */
  readonly outboxFolder: string;
  /** How email leaves this process. */
  readonly emailProvider: EmailProvider;
  /** Closes pooled connections (SMTP). */
  close(): void;
}

/** Options of {@link createNotificationDependencies}. */
export interface NotificationCompositionOptions {
  /** Reads an app setting by name (the webhook URL settings the channels name). */
  readonly lookup?: (name: string) => string | undefined;
  /** The clock of the dispatcher (tests). */
  readonly now?: Clock;
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
  const outboxFolder = path.join(notificationStateDir(config), "outbox");
  const local = config.PGPROTECT_PROVIDER === "local";
  const lookup = options.lookup ?? ((name: string) => appSetting(name));
  const location = notificationStateLocation(config, lookup);
  if (location.kind === "files" && location.fallback) {
    consoleEventLogger().emit(logEvents.notificationStateLocal, {
      folder: location.folder,
      reason: location.fallback,
    });
  }
  const state = await createDeliveryState(location, config.AzureWebJobsStorage);
  const teams = createTeamsSenders(settings, { lookup, ...(local ? { outboxFolder } : {}) });
  const emailProvider = emailProviderOf(config);
  const email = await createEmailSender(config, emailProvider, outboxFolder);
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

// A configuration fixed in place (a Key Vault reference resolved late) is picked up next time.
const notifications = new ProcessSingleton(() => createNotificationDependencies(appConfig()));

/** This process's notification delivery, built on first use. */
export function notificationDependencies(): Promise<NotificationDependencies> {
  return notifications.get();
}

/** Replaces the process's notification delivery (tests), or clears it so it is built again. */
export function setNotificationDependencies(
  dependencies: NotificationDependencies | undefined,
): void {
  notifications.set(dependencies && Promise.resolve(dependencies));
}
