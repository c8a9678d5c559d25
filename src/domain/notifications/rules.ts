/**
 * Notification routing: which channels hear about which events. The rules come from
 * configuration as JSON (one app setting) and are validated once at start.
 *
 * @example
 * ```json
 * {
 *   "channels": [
 *     { "id": "ops-teams", "type": "teams", "webhookUrlSetting": "TEAMS_OPS_WEBHOOK_URL" },
 *     { "id": "dba-email", "type": "email", "to": ["dba@contoso.com"] }
 *   ],
 *   "rules": [
 *     { "name": "prod-failures", "match": { "jobStatuses": ["Failed"], "datasourceTags": { "env": ["prod"] } },
 *       "channels": ["ops-teams", "dba-email"] }
 *   ],
 *   "links": { "jobUrlTemplate": "https://portal.azure.com/#resource{jobId}" },
 *   "digest": { "windowMinutes": 60, "maxMessagesPerWindow": 20 }
 * }
 * ```
 */
import { z } from "zod";
import { InvalidInputError, type InputProblem } from "../errors.js";
import { pgProtectEventTypes, PgProtectEventTypes, type PgProtectEvent } from "../events/types.js";

const name = z.string().trim().min(1).max(100);
const nonEmptyList = <T extends z.ZodType>(item: T) => z.array(item).min(1);

const teamsChannel = z
  .object({
    id: name,
    type: z.literal("teams"),
    /** Inline webhook URL. It carries a signature: prefer `webhookUrlSetting` outside development. */
    webhookUrl: z
      .string()
      .refine((value) => /^https?:\/\//i.test(value) && URL.canParse(value), {
        message: "webhookUrl must be an http(s) URL",
      })
      .optional(),
    /** Name of the app setting (or Key Vault reference) holding the webhook URL. */
    webhookUrlSetting: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "webhookUrlSetting must be an app setting name")
      .optional(),
  })
  .strict()
  .refine(
    (channel) => (channel.webhookUrl === undefined) !== (channel.webhookUrlSetting === undefined),
    {
      message: "give exactly one of webhookUrl and webhookUrlSetting",
    },
  );

const emailChannel = z
  .object({
    id: name,
    type: z.literal("email"),
    to: nonEmptyList(z.email()).max(50),
    cc: z.array(z.email()).max(50).optional(),
    bcc: z.array(z.email()).max(50).optional(),
  })
  .strict()
  // The service refuses more than 50 recipients per message.
  .refine(
    (channel) => channel.to.length + (channel.cc?.length ?? 0) + (channel.bcc?.length ?? 0) <= 50,
    {
      message: "an email channel may have at most 50 recipients in to, cc and bcc together",
    },
  );

const eventTypePattern = z.string().refine(
  (value) => {
    const lower = value.toLowerCase();
    return pgProtectEventTypes.some((type) =>
      lower.endsWith(".*")
        ? type.toLowerCase().startsWith(lower.slice(0, -1))
        : type.toLowerCase() === lower,
    );
  },
  {
    message: `expected one of ${pgProtectEventTypes.join(", ")}, or a prefix ending in .* such as PgProtect.Backup.*`,
  },
);

const matchSchema = z
  .object({
    /** Event types; a trailing `.*` matches a family (`PgProtect.Protection.*`). Default: all. */
    eventTypes: nonEmptyList(eventTypePattern).optional(),
    /** Job statuses; filters job events only, other event types pass. */
    jobStatuses: nonEmptyList(
      z.enum(["InProgress", "Completed", "Failed", "Cancelled"]),
    ).optional(),
    /** Job operations; filters job events only, other event types pass. */
    operations: nonEmptyList(z.enum(["OnDemandBackup", "ScheduledBackup", "Restore"])).optional(),
    /** Vault names (case-insensitive, as Azure names are). */
    vaults: nonEmptyList(name).optional(),
    /**
     * Datasource tags: every key must be present (case-insensitive name) with one of the listed
     * values, or any value for `"*"`. Events that carry no tags never match a tag condition.
     */
    datasourceTags: z
      .record(z.string().min(1), z.union([z.literal("*"), nonEmptyList(z.string())]))
      .optional(),
  })
  .strict();

const ruleSchema = z
  .object({
    name,
    /** Conditions, all of which must hold; an empty or absent match selects every event. */
    match: matchSchema.default({}),
    channels: nonEmptyList(name),
    /** Set false to keep the rule in configuration without sending. */
    enabled: z.boolean().default(true),
  })
  .strict();

const urlTemplate = z.string().refine((value) => /^https?:\/\//i.test(value), {
  message: "a link template must start with http:// or https://",
});

/** The zod schema of the notification settings, as JSON from configuration. */
export const notificationSettingsSchema = z
  .object({
    channels: z.array(z.discriminatedUnion("type", [teamsChannel, emailChannel])).default([]),
    rules: z.array(ruleSchema).default([]),
    links: z
      .object({
        /** Link for job events. Placeholders: {jobId} {jobName} {vaultName} {datasourceId} {backupInstanceId}. */
        jobUrlTemplate: urlTemplate.default("https://portal.azure.com/#resource{jobId}"),
        /** Link for the other events. Placeholders: {resourceId} (backup instance, else datasource) {vaultName} {datasourceId}. */
        resourceUrlTemplate: urlTemplate.default("https://portal.azure.com/#resource{resourceId}"),
      })
      .strict()
      .default({
        jobUrlTemplate: "https://portal.azure.com/#resource{jobId}",
        resourceUrlTemplate: "https://portal.azure.com/#resource{resourceId}",
      }),
    digest: z
      .object({
        /** Repeated failures of one datasource within this many minutes become one digest. 0 turns digests off. */
        windowMinutes: z.number().int().min(0).max(1440).default(60),
        /** Failure messages a channel gets per window before the rest wait for a digest. */
        maxMessagesPerWindow: z.number().int().min(1).max(1000).default(20),
      })
      .strict()
      .default({ windowMinutes: 60, maxMessagesPerWindow: 20 }),
  })
  .strict()
  .superRefine((settings, ctx) => {
    const ids = new Set<string>();
    settings.channels.forEach((channel, index) => {
      if (ids.has(channel.id))
        ctx.addIssue({
          code: "custom",
          path: ["channels", index, "id"],
          message: `channel '${channel.id}' is defined twice`,
        });
      ids.add(channel.id);
    });
    const ruleNames = new Set<string>();
    settings.rules.forEach((rule, index) => {
      if (ruleNames.has(rule.name))
        ctx.addIssue({
          code: "custom",
          path: ["rules", index, "name"],
          message: `rule '${rule.name}' is defined twice`,
        });
      ruleNames.add(rule.name);
      rule.channels.forEach((channelId, channelIndex) => {
        if (!ids.has(channelId)) {
          ctx.addIssue({
            code: "custom",
            path: ["rules", index, "channels", channelIndex],
            message: `rule '${rule.name}' names channel '${channelId}', which is not defined`,
          });
        }
      });
    });
  });

/** Validated notification settings. */
export type NotificationSettings = z.infer<typeof notificationSettingsSchema>;
/** One channel of the settings. */
export type ChannelSettings = NotificationSettings["channels"][number];
/** A Teams channel of the settings. */
export type TeamsChannelSettings = Extract<ChannelSettings, { type: "teams" }>;
/** An email channel of the settings. */
export type EmailChannelSettings = Extract<ChannelSettings, { type: "email" }>;
/** One routing rule of the settings. */
export type RoutingRule = NotificationSettings["rules"][number];

/**
 * Parses the notification settings from their JSON text (an empty text means "no notifications").
 *
 * @throws InvalidInputError `NOTIFICATION_SETTINGS_INVALID` with every problem, paths from `$`.
 */
export function parseNotificationSettings(json: string | undefined): NotificationSettings {
  const text = json?.trim() ?? "";
  let value: unknown = {};
  if (text !== "") {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InvalidInputError(
        "NOTIFICATION_SETTINGS_INVALID",
        "The notification settings are not JSON",
        [{ path: "$", code: "NOTIFICATION_SETTINGS_INVALID", message: (error as Error).message }],
        error,
      );
    }
  }
  const result = notificationSettingsSchema.safeParse(value);
  if (result.success) return result.data;
  const problems: InputProblem[] = result.error.issues.map((issue) => ({
    path: `$${issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("")}`,
    code: "NOTIFICATION_SETTINGS_INVALID",
    message: issue.message,
  }));
  throw new InvalidInputError(
    "NOTIFICATION_SETTINGS_INVALID",
    `Invalid notification settings: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    problems,
  );
}

/** One channel an event goes to, with the rules that sent it there. */
export interface Route {
  readonly channel: ChannelSettings;
  /** The enabled rules that matched and name this channel, in configuration order. */
  readonly ruleNames: readonly string[];
}

/**
 * The channels an event goes to: every enabled rule that matches contributes its channels; a
 * channel named by several matching rules gets the event once.
 */
export function routeEvent(event: PgProtectEvent, settings: NotificationSettings): Route[] {
  const byChannel = new Map<string, string[]>();
  for (const rule of settings.rules) {
    if (!rule.enabled || !ruleMatches(rule, event)) continue;
    for (const channelId of rule.channels) {
      const names = byChannel.get(channelId) ?? [];
      if (!names.includes(rule.name)) names.push(rule.name);
      byChannel.set(channelId, names);
    }
  }
  return settings.channels
    .filter((channel) => byChannel.has(channel.id))
    .map((channel) => ({ channel, ruleNames: byChannel.get(channel.id) ?? [] }));
}

/** Whether a rule's conditions all hold for an event. */
export function ruleMatches(rule: Pick<RoutingRule, "match">, event: PgProtectEvent): boolean {
  const { match } = rule;
  if (
    match.eventTypes &&
    !match.eventTypes.some((pattern) => eventTypeMatches(pattern, event.type))
  )
    return false;
  if (event.type === PgProtectEventTypes.jobStateChanged) {
    if (match.jobStatuses && !match.jobStatuses.includes(event.data.status)) return false;
    if (match.operations && !match.operations.includes(event.data.operation)) return false;
  }
  if (
    match.vaults &&
    !match.vaults.some((vault) => vault.toLowerCase() === event.data.vaultName.toLowerCase())
  )
    return false;
  if (match.datasourceTags) {
    const tags = new Map(
      Object.entries(event.data.datasourceTags ?? {}).map(([key, value]) => [
        key.toLowerCase(),
        value,
      ]),
    );
    for (const [key, wanted] of Object.entries(match.datasourceTags)) {
      const actual = tags.get(key.toLowerCase());
      if (actual === undefined) return false;
      if (wanted !== "*" && !wanted.includes(actual)) return false;
    }
  }
  return true;
}

function eventTypeMatches(pattern: string, type: string): boolean {
  const lowerPattern = pattern.toLowerCase();
  const lowerType = type.toLowerCase();
  return lowerPattern.endsWith(".*")
    ? lowerType.startsWith(lowerPattern.slice(0, -1))
    : lowerType === lowerPattern;
}
