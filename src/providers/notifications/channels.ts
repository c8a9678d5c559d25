/**
 * Builds the Teams senders the notification settings name, resolving each webhook URL from its
 * app setting (in Azure, typically a Key Vault reference).
 */
import { ConfigurationError, type InputProblem } from "../../domain/errors.js";
import type { NotificationSettings } from "../../domain/notifications/rules.js";
import { OutboxTeamsSender } from "./outboxSender.js";
import { TeamsWebhookSender, type TeamsWebhookSenderOptions } from "./teamsWebhookSender.js";
import type { TeamsSender } from "./types.js";

/** Options of {@link createTeamsSenders}. */
export interface TeamsSendersOptions {
  /** Reads an app setting by name (the caller's view of the environment). */
  readonly lookup: (name: string) => string | undefined;
  /**
   * When set, a Teams channel whose URL setting is empty writes to this outbox folder instead
   * of failing (the local default). When absent, a missing URL is a configuration error.
   */
  readonly outboxFolder?: string;
  /** Passed to every webhook sender (attempts, waits). */
  readonly webhook?: Omit<TeamsWebhookSenderOptions, "url">;
}

/**
 * One sender per Teams channel, by channel id.
 *
 * @throws ConfigurationError naming every channel whose webhook URL setting is missing or is not
 * an http(s) URL (the message names the setting, never its value).
 */
export function createTeamsSenders(
  settings: NotificationSettings,
  options: TeamsSendersOptions,
): Map<string, TeamsSender> {
  const senders = new Map<string, TeamsSender>();
  const problems: InputProblem[] = [];
  for (const channel of settings.channels) {
    if (channel.type !== "teams") continue;
    const url =
      channel.webhookUrl ??
      (channel.webhookUrlSetting ? options.lookup(channel.webhookUrlSetting)?.trim() : undefined);
    if (!url) {
      if (options.outboxFolder !== undefined) {
        senders.set(
          channel.id,
          new OutboxTeamsSender({ folder: options.outboxFolder, channelId: channel.id }),
        );
        continue;
      }
      problems.push({
        path: channel.webhookUrlSetting ?? `channels.${channel.id}`,
        code: "CONFIG_INVALID",
        message: `Teams channel '${channel.id}' needs its webhook URL in app setting ${channel.webhookUrlSetting ?? "(none named)"}`,
      });
      continue;
    }
    if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
      problems.push({
        path: channel.webhookUrlSetting ?? `channels.${channel.id}`,
        code: "CONFIG_INVALID",
        message: `The webhook URL of Teams channel '${channel.id}' is not an http(s) URL`,
      });
      continue;
    }
    senders.set(channel.id, new TeamsWebhookSender({ ...options.webhook, url }));
  }
  if (problems.length > 0) {
    throw new ConfigurationError(
      `Invalid Teams channels: ${problems.map((problem) => problem.message).join("; ")}`,
      problems,
    );
  }
  return senders;
}
