/** The notification settings in force when `NOTIFICATION_SETTINGS` says nothing. */
import type { Config } from "../../config.js";
import {
  notificationSettingsSchema,
  parseNotificationSettings,
  type NotificationSettings,
} from "../../domain/notifications/rules.js";

/** The recipient of the local default email channel (the message lands in the outbox, not a mailbox). */
export const localDefaultRecipient = "backup-operators@pgprotect.localhost";

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
