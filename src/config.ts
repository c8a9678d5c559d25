/**
 * Application settings: one zod schema over the environment, read once at start.
 *
 * @remarks This is the only module that reads `process.env`. `local.settings.sample.json` lists
 * exactly this schema's keys; a unit test keeps the two in step.
 */
import path from "node:path";
import { z } from "zod";
import { cloudNames, resolveCloudSettings } from "./domain/cloud.js";
import { ConfigurationError, type InputProblem } from "./domain/errors.js";
import { parseNotificationSettings } from "./domain/notifications/rules.js";
import { parseLocalServerList } from "./domain/protection/localServers.js";
import { defaultAutoProtectTag } from "./domain/plans/autoProtect.js";
import { parseCronSchedule } from "./domain/plans/cron.js";
import { parseBackupPlans } from "./domain/plans/plans.js";
import { parseDrillSchedules } from "./domain/drills/schedules.js";
import { ProcessSingleton } from "./processSingleton.js";

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const urlText = (what: string) =>
  z
    .string()
    .trim()
    .refine((value) => URL.canParse(value), { message: `${what} must be an absolute URL` });

/**
 * A whole number in decimal digits within `min`..`max`, from an optional setting's text. Digits
 * only: `Number` alone would also take `0x50` or `1e3`.
 */
const wholeNumberText = (min: number, max: number, notNumber: string, outOfRange = notNumber) =>
  z
    .string()
    .regex(/^\d{1,9}$/, notNumber)
    .transform(Number)
    .refine((value) => value >= min && value <= max, outOfRange);

/** A decimal number strictly between `min` and `max`, from an optional setting's text. */
const ratioText = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,6}(\.\d{1,6})?$/, `${name} must be a decimal number such as 0.5`)
    .transform(Number)
    .refine((value) => value > min && value < max, `${name} must be above ${min} and below ${max}`);

/**
 * Whether a host name or address is this machine's loopback: localhost, 127.0.0.0/8 or ::1.
 * Names other than `localhost` are not resolved: a name in DNS can point anywhere.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The schema of every app setting pgprotect reads. */
export const configSchema = z
  .object({
    /** Set by the Functions host; pgprotect runs on the Node.js worker only. */
    FUNCTIONS_WORKER_RUNTIME: z.literal("node").default("node"),
    /** Host storage for Durable Functions in Azure; unused by the local runtime. */
    AzureWebJobsStorage: optionalText,
    /** Durable Functions task hub name (host.json reads it as `%TASKHUB_NAME%`). */
    TASKHUB_NAME: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9]{2,44}$/,
        "TASKHUB_NAME must be 3-45 letters or digits, starting with a letter",
      )
      .default("pgprotect"),
    /** Which backend stands behind the ports: the embedded local provider or Azure. */
    PGPROTECT_PROVIDER: z.enum(["local", "azure"]).default("local"),
    /** Folder for local state: runtime history, the local vault, secrets. */
    PGPROTECT_STATE_DIR: z.string().min(1).default(".pgprotect"),
    /** PostgreSQL server the local provider protects; a private cluster is started when absent. */
    DATABASE_URL: optionalText.pipe(
      z
        .string()
        .refine((value) => /^postgres(ql)?:\/\//.test(value), {
          message: "DATABASE_URL must be a postgres:// or postgresql:// URL",
        })
        .optional(),
    ),
    /**
     * Servers the local provider serves, `name=postgresql://...` (or `name:flexible=...`) separated
     * by commas; when absent, DATABASE_URL (as server `local`) or a private cluster.
     */
    LOCAL_POSTGRES_SERVERS: optionalText.superRefine((value, ctx) => {
      for (const problem of value === undefined ? [] : parseLocalServerList(value).problems) {
        ctx.addIssue({ code: "custom", message: `${problem.path}: ${problem.message}` });
      }
    }),
    /**
     * Port of the private PostgreSQL cluster (when neither DATABASE_URL nor LOCAL_POSTGRES_SERVERS
     * is set); empty keeps the port of its previous run (a free one the first time).
     */
    LOCAL_POSTGRES_PORT: optionalText.pipe(
      wholeNumberText(1, 65535, "LOCAL_POSTGRES_PORT must be a port number (1-65535)").optional(),
    ),
    /**
     * Seconds a graceful stop of the host (Ctrl+C, SIGTERM) waits for the local provider's running
     * backups and restores; past it they are stopped and run again when the host starts.
     */
    LOCAL_STOP_GRACE_SECONDS: optionalText.pipe(
      wholeNumberText(
        0,
        3600,
        "LOCAL_STOP_GRACE_SECONDS must be a whole number of seconds",
        "LOCAL_STOP_GRACE_SECONDS must be at most 3600",
      ).default(30),
    ),
    /**
     * Folders a local restore as files may write under, absolute, comma-separated;
     * `<PGPROTECT_STATE_DIR>/restores` when empty.
     */
    LOCAL_RESTORE_FOLDERS: optionalText
      .transform((value) =>
        value
          ?.split(",")
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ""),
      )
      .superRefine((entries, ctx) => {
        for (const entry of entries ?? []) {
          if (!path.isAbsolute(entry)) {
            ctx.addIssue({
              code: "custom",
              message: `LOCAL_RESTORE_FOLDERS: '${entry}' is not an absolute path`,
            });
          }
        }
      })
      .transform((entries) => (entries?.length ? entries : undefined)),
    /**
     * Most parallel jobs of one database's local dump or restore (`pg_dump -Fd -j`,
     * `pg_restore -j`), also bounded by the machine's cores; empty: as many as the cores. 1 keeps
     * every local backup one `pg_dump -Fc` file.
     */
    LOCAL_BACKUP_PARALLEL_JOBS: optionalText.pipe(
      wholeNumberText(
        1,
        64,
        "LOCAL_BACKUP_PARALLEL_JOBS must be a whole number of jobs",
        "LOCAL_BACKUP_PARALLEL_JOBS must be from 1 to 64",
      ).optional(),
    ),
    /**
     * Most databases of one server the local provider dumps at a time, across all backups (a
     * whole server's databases, server protection, plans, schedules); empty: two per core. The
     * server's free connections bound it too.
     */
    LOCAL_BACKUP_CONCURRENCY: optionalText.pipe(
      wholeNumberText(
        1,
        32,
        "LOCAL_BACKUP_CONCURRENCY must be a whole number of databases",
        "LOCAL_BACKUP_CONCURRENCY must be from 1 to 32",
      ).optional(),
    ),
    /** Compression level of local dumps (`pg_dump -Z`), 0 (none) to 9; empty: pg_dump's default. */
    LOCAL_BACKUP_COMPRESSION: optionalText.pipe(
      wholeNumberText(
        0,
        9,
        "LOCAL_BACKUP_COMPRESSION must be a compression level from 0 to 9",
      ).optional(),
    ),
    /** Subscription the Azure provider works in (required when PGPROTECT_PROVIDER is azure). */
    AZURE_SUBSCRIPTION_ID: optionalText.pipe(
      z.string().uuid("AZURE_SUBSCRIPTION_ID must be a subscription GUID").optional(),
    ),
    /**
     * The Azure cloud (`AzurePublicCloud`, `AzureUSGovernment`, `AzureChinaCloud`): the endpoints,
     * the token audience, Key Vault's suffix and the login authority follow from it unless set.
     * Empty: the Resource Manager endpoint's cloud, else the public cloud.
     */
    AZURE_CLOUD: optionalText.pipe(
      z
        .enum(cloudNames, {
          error: `AZURE_CLOUD must be one of ${cloudNames.join(", ")}`,
        })
        .optional(),
    ),
    /** Resource Manager endpoint; empty: the cloud's (Azure Stack Hub or a test double: set it). */
    AZURE_RESOURCE_MANAGER_ENDPOINT: optionalText.pipe(
      urlText("AZURE_RESOURCE_MANAGER_ENDPOINT").optional(),
    ),
    /** Token audience for Resource Manager calls; empty: the Resource Manager endpoint. */
    AZURE_TOKEN_AUDIENCE: optionalText.pipe(urlText("AZURE_TOKEN_AUDIENCE").optional()),
    /**
     * Hosts secret URIs may name, comma-separated: a DNS suffix with its leading dot
     * (`.vault.azure.net`) or an exact host. The clouds' Key Vault domains when empty, so that a
     * secret URI cannot send the app's token elsewhere.
     */
    AZURE_KEY_VAULT_DNS_SUFFIXES: optionalText
      .transform((value) =>
        value
          ?.split(",")
          .map((entry) => entry.trim().toLowerCase())
          .filter((entry) => entry !== ""),
      )
      .superRefine((entries, ctx) => {
        for (const entry of entries ?? []) {
          if (!/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(entry)) {
            ctx.addIssue({
              code: "custom",
              message: `AZURE_KEY_VAULT_DNS_SUFFIXES: '${entry}' is neither a DNS suffix (.vault.azure.net) nor a host`,
            });
          }
        }
      })
      .transform((entries) => (entries?.length ? entries : undefined)),
    /** Event Grid topic the app publishes its CloudEvents to; locally, the runtime's own topic by default. */
    EVENTGRID_TOPIC_ENDPOINT: optionalText.pipe(
      z
        .string()
        .refine((value) => URL.canParse(value), "EVENTGRID_TOPIC_ENDPOINT must be an absolute URL")
        .optional(),
    ),
    /** Access key of the topic; without it the app's managed identity publishes (Azure). */
    EVENTGRID_TOPIC_KEY: optionalText,
    /**
     * Key of the local runtime's topics, generated per state folder; the local runtime sets it for
     * the app it hosts (not set by hand).
     */
    LOCAL_EVENTGRID_TOPIC_KEY: optionalText,
    /** Backup vaults the app works with, by ARM id, comma-separated; the first is the default. */
    BACKUP_VAULT_IDS: optionalText,
    /** Host name the Functions host serves on (set by Azure and by the local runtime). */
    WEBSITE_HOSTNAME: optionalText,
    /**
     * Notification channels and routing rules as JSON (see `domain/notifications/rules.ts`). Empty:
     * locally, every finished job and protection outcome goes to the outbox; in Azure, nothing is sent.
     */
    NOTIFICATION_SETTINGS: optionalText.superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseNotificationSettings(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
    /** The Teams Workflows webhook URL that channels name with `webhookUrlSetting` (a secret; other names work too). */
    TEAMS_WEBHOOK_URL: optionalText,
    /** How email leaves: Azure Communication Services, an SMTP relay, or `.eml` files in the outbox. Default: acs when ACS_ENDPOINT is set, else smtp when SMTP_HOST is set, else outbox. */
    EMAIL_PROVIDER: optionalText.pipe(z.enum(["acs", "smtp", "outbox"]).optional()),
    /** The sender address of notification emails (with ACS: an address of a connected domain). */
    EMAIL_SENDER_ADDRESS: optionalText,
    /** Azure Communication Services endpoint; the app's managed identity sends with it. */
    ACS_ENDPOINT: optionalText.pipe(
      z
        .string()
        .refine((value) => URL.canParse(value), "ACS_ENDPOINT must be an absolute URL")
        .optional(),
    ),
    /** SMTP relay for notification emails. */
    SMTP_HOST: optionalText,
    /** SMTP port; default 587 (465 with SMTP_SECURE). */
    SMTP_PORT: optionalText.pipe(
      wholeNumberText(
        1,
        65535,
        "SMTP_PORT must be a port number",
        "SMTP_PORT must be between 1 and 65535",
      ).optional(),
    ),
    /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
    SMTP_SECURE: z
      .enum(["true", "false", "True", "False", ""])
      .optional()
      .transform((value) => value?.toLowerCase() === "true"),
    /** SMTP user name, when the relay wants a login. */
    SMTP_USER: optionalText,
    /** SMTP password (a secret: never logged). */
    SMTP_PASSWORD: optionalText,
    /**
     * Send in clear text when the SMTP relay offers no STARTTLS; only for a relay on the loopback
     * (SMTP_HOST localhost, 127.0.0.0/8 or ::1). Otherwise TLS is required and credentials are
     * never sent without it.
     */
    SMTP_ALLOW_PLAINTEXT: z
      .enum(["true", "false", "True", "False", ""])
      .optional()
      .transform((value) => value?.toLowerCase() === "true"),
    /** A PEM file of the private certificate authority that signs the SMTP relay's certificate (trusted besides the system's). */
    SMTP_TLS_CA_FILE: optionalText,
    /** Set by App Service when its authentication fronts the app: callers' app roles then decide what they may do. */
    WEBSITE_AUTH_ENABLED: z
      .enum(["true", "false", "True", "False"])
      .optional()
      .transform((value) => value?.toLowerCase() === "true"),
    /** Whether protection may grant the vault's role assignments on a Flexible Server itself (the infrastructure sets it). */
    AUTO_GRANT_ROLE_ASSIGNMENTS: z
      .enum(["true", "false", "True", "False", ""])
      .optional()
      .transform((value) => value?.toLowerCase() === "true"),
    /**
     * A connection string of the storage account that restores as files write into, read by a
     * restore to a server instead of the app's identity (an account with shared keys, or Azurite).
     */
    RESTORE_STORAGE_CONNECTION_STRING: optionalText,
    /** Folder of `pg_restore` and `psql` for restores to a server (Azure); found through `pg_config` when absent. */
    POSTGRES_BIN_DIR: optionalText,
    /** Backup plans, a JSON list: name, NCRONTAB schedule (UTC), calendar, select, ruleName, retentionTagOverride, vault. */
    BACKUP_PLANS: optionalText.superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseBackupPlans(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
    /**
     * Restore drill schedules, a JSON list: name, NCRONTAB schedule (UTC), calendar, select (backup
     * instances, tags, policies, plans of BACKUP_PLANS), vault, catchUpHours.
     */
    DRILL_SCHEDULES: optionalText.superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseDrillSchedules(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
    /**
     * Azure restore drills: the blob container a drill's restore as files writes into (the
     * vault's identity needs Storage Blob Data Contributor on it, and so does the app's, which
     * reads the dump and deletes it afterwards).
     */
    DRILL_CONTAINER_URL: optionalText.pipe(z.string().url().optional()),
    /** ARM id of the drill container's storage account (or of the container itself). */
    DRILL_STORAGE_ACCOUNT_ID: optionalText,
    /**
     * Azure restore drills: Key Vault secret with a connection string of the scratch server the
     * drills load into (its user may create and drop databases).
     */
    DRILL_SERVER_SECRET_URI: optionalText,
    /** Restore drills (scheduled and on demand) that run at a time; the others wait their turn (default 2). */
    DRILL_MAX_CONCURRENT: optionalText.pipe(
      wholeNumberText(
        1,
        64,
        "DRILL_MAX_CONCURRENT must be a whole number",
        "DRILL_MAX_CONCURRENT must be between 1 and 64",
      ).optional(),
    ),
    /** The tag whose value names the policy auto-protection applies. */
    AUTO_PROTECT_TAG: optionalText.transform((value) => value ?? defaultAutoProtectTag),
    /** The vault auto-protection protects into, by name; the default vault when absent. */
    AUTO_PROTECT_VAULT: optionalText,
    /** The Key Vault holding auto-protected databases' secrets when their tag gives a bare name (locally, the local store). */
    AUTO_PROTECT_KEY_VAULT: optionalText,
    /** When the reconciliation of tagged resources and stale protection runs (six-field NCRONTAB, UTC). */
    RECONCILE_PROTECTION_SCHEDULE: optionalText
      .transform((value) => value ?? "0 30 * * * *")
      .superRefine((value, ctx) => {
        try {
          parseCronSchedule(value);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
        }
      }),
    /** How long without a successful backup counts as stale (ISO 8601 duration); the policy's period plus a day when absent. */
    STALE_PROTECTION_AFTER: optionalText.pipe(
      z
        .string()
        .regex(
          /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/,
          "STALE_PROTECTION_AFTER must be an ISO 8601 duration such as P8D",
        )
        .optional(),
    ),
    /**
     * Minutes `allDatabases` protection waits for each batch of databases before it reports those
     * still running as stuck and goes on (default 60, at most a week).
     */
    PROTECT_SERVER_CHILD_TIMEOUT_MINUTES: optionalText.pipe(
      wholeNumberText(
        1,
        10_080,
        "PROTECT_SERVER_CHILD_TIMEOUT_MINUTES must be a whole number of minutes",
        "PROTECT_SERVER_CHILD_TIMEOUT_MINUTES must be between 1 and 10080 (a week)",
      ).optional(),
    ),
    /** Days a job stays in pgprotect's own job history (default 400). */
    HISTORY_RETENTION_DAYS: optionalText.pipe(
      wholeNumberText(
        1,
        36_500,
        "HISTORY_RETENTION_DAYS must be a whole number of days",
        "HISTORY_RETENTION_DAYS must be between 1 and 36500",
      ).optional(),
    ),
    /** The least time a job runs before it can be reported stuck (minutes, default 30). */
    STUCK_JOB_FLOOR_MINUTES: optionalText.pipe(
      wholeNumberText(
        1,
        10_080,
        "STUCK_JOB_FLOOR_MINUTES must be a whole number of minutes",
        "STUCK_JOB_FLOOR_MINUTES must be between 1 and 10080 (a week)",
      ).optional(),
    ),
    /** The longest a job runs before it is reported stuck, whatever its history (hours, default 24). */
    STUCK_JOB_CEILING_HOURS: optionalText.pipe(
      wholeNumberText(
        1,
        720,
        "STUCK_JOB_CEILING_HOURS must be a whole number of hours",
        "STUCK_JOB_CEILING_HOURS must be between 1 and 720 (30 days)",
      ).optional(),
    ),
    /** A completed backup below this fraction of its instance's usual size raises an anomaly (default 0.5). */
    ANOMALY_SIZE_DROP_RATIO: optionalText.pipe(
      ratioText("ANOMALY_SIZE_DROP_RATIO", 0, 1).optional(),
    ),
    /** A completed backup taking more than this many times its usual duration raises an anomaly (default 3). */
    ANOMALY_DURATION_RATIO: optionalText.pipe(
      ratioText("ANOMALY_DURATION_RATIO", 1, 1000).optional(),
    ),
  })
  .superRefine((config, ctx) => {
    // An Azure drill restores into the container and loads into the server: one without the other drills nothing.
    if (
      (config.DRILL_CONTAINER_URL === undefined) !==
      (config.DRILL_SERVER_SECRET_URI === undefined)
    ) {
      const missing =
        config.DRILL_CONTAINER_URL === undefined
          ? "DRILL_CONTAINER_URL"
          : "DRILL_SERVER_SECRET_URI";
      ctx.addIssue({
        code: "custom",
        path: [missing],
        message: `${missing} is required with ${missing === "DRILL_CONTAINER_URL" ? "DRILL_SERVER_SECRET_URI" : "DRILL_CONTAINER_URL"}: an Azure drill restores into the container, then loads into the scratch server`,
      });
    }
    // A drill schedule may name backup plans: they must be plans of BACKUP_PLANS.
    if (config.DRILL_SCHEDULES !== undefined) {
      try {
        parseDrillSchedules(
          config.DRILL_SCHEDULES,
          config.BACKUP_PLANS ? parseBackupPlans(config.BACKUP_PLANS) : [],
        );
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          path: ["DRILL_SCHEDULES"],
          message: (error as Error).message,
        });
      }
    }
    if (
      config.STUCK_JOB_FLOOR_MINUTES !== undefined &&
      config.STUCK_JOB_CEILING_HOURS !== undefined &&
      config.STUCK_JOB_FLOOR_MINUTES > config.STUCK_JOB_CEILING_HOURS * 60
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["STUCK_JOB_FLOOR_MINUTES"],
        message: "STUCK_JOB_FLOOR_MINUTES must not exceed STUCK_JOB_CEILING_HOURS",
      });
    }
    if (config.PGPROTECT_PROVIDER === "azure" && !config.EVENTGRID_TOPIC_ENDPOINT) {
      ctx.addIssue({
        code: "custom",
        path: ["EVENTGRID_TOPIC_ENDPOINT"],
        message:
          "EVENTGRID_TOPIC_ENDPOINT is required when PGPROTECT_PROVIDER is azure: events and notifications go through it",
      });
    }
    if (config.EMAIL_PROVIDER === "acs" && (!config.ACS_ENDPOINT || !config.EMAIL_SENDER_ADDRESS)) {
      ctx.addIssue({
        code: "custom",
        path: [config.ACS_ENDPOINT ? "EMAIL_SENDER_ADDRESS" : "ACS_ENDPOINT"],
        message: "EMAIL_PROVIDER acs needs ACS_ENDPOINT and EMAIL_SENDER_ADDRESS",
      });
    }
    // ACS_ENDPOINT alone chooses ACS too (see emailProviderOf): it sends from nowhere without a sender.
    if (!config.EMAIL_PROVIDER && config.ACS_ENDPOINT && !config.EMAIL_SENDER_ADDRESS) {
      ctx.addIssue({
        code: "custom",
        path: ["EMAIL_SENDER_ADDRESS"],
        message: "ACS_ENDPOINT sends email through ACS, which needs EMAIL_SENDER_ADDRESS",
      });
    }
    if (config.EMAIL_PROVIDER === "smtp" && !config.SMTP_HOST) {
      ctx.addIssue({
        code: "custom",
        path: ["SMTP_HOST"],
        message: "EMAIL_PROVIDER smtp needs SMTP_HOST",
      });
    }
    if (config.SMTP_ALLOW_PLAINTEXT && config.SMTP_HOST && !isLoopbackHost(config.SMTP_HOST)) {
      ctx.addIssue({
        code: "custom",
        path: ["SMTP_ALLOW_PLAINTEXT"],
        message: `SMTP_ALLOW_PLAINTEXT is only for a relay on the loopback (localhost, 127.0.0.0/8, ::1), not ${config.SMTP_HOST}: the password and messages would cross the network in clear text`,
      });
    }
    const cloud = resolveCloudSettings({
      cloud: config.AZURE_CLOUD,
      resourceManagerEndpoint: config.AZURE_RESOURCE_MANAGER_ENDPOINT,
      tokenAudience: config.AZURE_TOKEN_AUDIENCE,
    });
    for (const conflict of cloud.ok ? [] : cloud.conflicts) {
      ctx.addIssue({ code: "custom", path: [conflict.setting], message: conflict.message });
    }
    if (config.PGPROTECT_PROVIDER === "azure" && !config.AZURE_SUBSCRIPTION_ID) {
      ctx.addIssue({
        code: "custom",
        path: ["AZURE_SUBSCRIPTION_ID"],
        message: "AZURE_SUBSCRIPTION_ID is required when PGPROTECT_PROVIDER is azure",
      });
    }
  });

/**
 * Validated application settings, with the cloud's settings derived: the Resource Manager
 * endpoint and the token audience are always set, `AZURE_CLOUD` is the cloud they belong to
 * (absent for an endpoint of no known cloud).
 */
export type Config = Omit<
  z.infer<typeof configSchema>,
  "AZURE_RESOURCE_MANAGER_ENDPOINT" | "AZURE_TOKEN_AUDIENCE"
> & {
  readonly AZURE_RESOURCE_MANAGER_ENDPOINT: string;
  readonly AZURE_TOKEN_AUDIENCE: string;
};

/** The settings with the cloud's derived (the schema has refused conflicting ones already). */
function withCloudSettings(parsed: z.infer<typeof configSchema>): Config {
  const cloud = resolveCloudSettings({
    cloud: parsed.AZURE_CLOUD,
    resourceManagerEndpoint: parsed.AZURE_RESOURCE_MANAGER_ENDPOINT,
    tokenAudience: parsed.AZURE_TOKEN_AUDIENCE,
  });
  if (!cloud.ok) throw new Error("conflicting cloud settings passed the schema");
  return {
    ...parsed,
    AZURE_CLOUD: cloud.value.cloud?.name,
    AZURE_RESOURCE_MANAGER_ENDPOINT: cloud.value.resourceManagerEndpoint,
    AZURE_TOKEN_AUDIENCE: cloud.value.tokenAudience,
  };
}

/** The names of every setting the schema reads. */
export const configKeys: readonly string[] = Object.keys(configSchema.shape);

/**
 * Reads and validates the settings.
 *
 * @param env - the environment to read; `process.env` by default.
 * @throws ConfigurationError naming every bad setting.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const picked = Object.fromEntries(configKeys.map((key) => [key, env[key]]));
  const result = configSchema.safeParse(picked);
  if (result.success) return withCloudSettings(result.data);
  const problems: InputProblem[] = result.error.issues.map((issue) => ({
    path: issue.path.join(".") || "(settings)",
    code: "CONFIG_INVALID",
    message: issue.message,
  }));
  throw new ConfigurationError(
    `Invalid settings: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    problems,
  );
}

const settings = new ProcessSingleton(() => loadConfig());

/**
 * The settings of this process, read and validated on first use.
 *
 * @throws ConfigurationError naming every bad setting.
 */
export function appConfig(): Config {
  return settings.get();
}

/**
 * Reads one app setting by name, such as the webhook URL setting a notification channel names.
 * Settings named at run time cannot be in the schema, so they are read here, on demand.
 *
 * @returns the trimmed value, or `undefined` when unset or empty.
 */
export function appSetting(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}
