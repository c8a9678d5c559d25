/**
 * The composition root: builds the provider, the event publisher and the vault directory once
 * per process from the validated settings. Functions and activities reach their dependencies
 * only through {@link appDependencies}.
 */
import type { ApplicationDependencies, VaultDirectory } from "./application/dependencies.js";
import { appConfig, appSetting, type Config } from "./config.js";
import { ConfigurationError, NotFoundError } from "./domain/errors.js";
import { formatVaultId, LOCAL_SCOPE, parseVaultId } from "./domain/protection/ids.js";
import { consoleEventLogger } from "./observability/consoleLogger.js";
import { ProcessSingleton } from "./processSingleton.js";
import { openJobHistory } from "./historyComposition.js";
import { openDrillHistory } from "./drillHistoryComposition.js";
import { createEventGridPublisher } from "./providers/events/eventGridPublisher.js";
import type { EventPublisherPort } from "./providers/ports.js";

/** The local runtime's own topic, which delivers to the app's Event Grid functions. */
export const localTopicName = "pgprotect";
/** The vault name used when a request names none and no vault is configured (local provider). */
export const defaultLocalVaultName = "pgprotect-vault";

/** Everything functions and activities need: the application's dependencies, built from the settings. */
export interface AppDependencies extends ApplicationDependencies {
  readonly config: Config;
  /** Stops what the dependencies started (the local provider's private PostgreSQL). */
  close(): Promise<void>;
}

/** Builds the vault directory from `BACKUP_VAULT_IDS`, or the local provider's vaults. */
export function createVaultDirectory(
  config: Pick<Config, "BACKUP_VAULT_IDS" | "PGPROTECT_PROVIDER">,
): VaultDirectory {
  const ids = (config.BACKUP_VAULT_IDS ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  for (const id of ids) parseVaultId(id);
  const local = config.PGPROTECT_PROVIDER === "local";
  return {
    ids,
    resolve(vaultName?: string): string {
      if (!vaultName) {
        const first = ids[0];
        if (first) return first;
        if (local) return formatVaultId({ ...LOCAL_SCOPE, vaultName: defaultLocalVaultName });
        throw new NotFoundError(
          "VAULT_NOT_CONFIGURED",
          "No vault was named and BACKUP_VAULT_IDS is empty",
          {
            recommendedAction: "Name the vault in the request, or set BACKUP_VAULT_IDS",
          },
        );
      }
      const found = ids.find(
        (id) => parseVaultId(id).vaultName.toLowerCase() === vaultName.toLowerCase(),
      );
      if (found) return found;
      if (local) return formatVaultId({ ...LOCAL_SCOPE, vaultName });
      throw new NotFoundError(
        "VAULT_NOT_CONFIGURED",
        `The vault '${vaultName}' is not one of this app's vaults`,
        {
          recommendedAction:
            ids.length > 0
              ? `Use one of ${ids.map((id) => parseVaultId(id).vaultName).join(", ")}, or add it to BACKUP_VAULT_IDS`
              : "Set BACKUP_VAULT_IDS to the comma-separated ids of the vaults this app covers, this one among them",
        },
      );
    },
  };
}

async function build(config: Config): Promise<AppDependencies> {
  const vaults = createVaultDirectory(config);
  const eventSource = `/pgprotect/${config.TASKHUB_NAME}`;
  if (config.PGPROTECT_PROVIDER === "local") {
    const { startLocalProvider, runLocalScheduleTick } = await import("./providers/local/index.js");
    const started = await startLocalProvider(config);
    const endpoint =
      config.EVENTGRID_TOPIC_ENDPOINT ??
      (config.WEBSITE_HOSTNAME
        ? `http://${config.WEBSITE_HOSTNAME}/runtime/topics/${localTopicName}`
        : undefined);
    const events: EventPublisherPort = endpoint
      ? createEventGridPublisher({ endpoint, ...topicCredential(config, endpoint) })
      : {
          publish: async () => {
            throw new ConfigurationError("No Event Grid topic: set EVENTGRID_TOPIC_ENDPOINT", [
              {
                path: "EVENTGRID_TOPIC_ENDPOINT",
                code: "CONFIG_INVALID",
                message: "not set, and no WEBSITE_HOSTNAME to reach the local topic",
              },
            ]);
          },
        };
    const opened = await openJobHistory(config, (name) => appSetting(name));
    const drillHistory = await openDrillHistory(config, (name) => appSetting(name));
    return {
      config,
      provider: started.provider,
      events,
      vaults,
      eventSource,
      localSchedule: { tick: () => runLocalScheduleTick(started.provider) },
      history: opened.history,
      ...(drillHistory.drills ? { drills: drillHistory.drills } : {}),
      close: async () => {
        drillHistory.close();
        opened.close();
        await started.close();
      },
    };
  }
  const { createAzureServices } = await import("./providers/azure/azureServices.js");
  // The provider's events (lost answers, throttling) belong in the worker's log beside the app's.
  const provider = createAzureServices(config, undefined, { log: consoleEventLogger() });
  // The schema requires the endpoint when the provider is azure; the identity publishes unless a key is set.
  const endpoint = config.EVENTGRID_TOPIC_ENDPOINT ?? "";
  const { cloudCredential } = await import("./providers/cloudCredential.js");
  const events = createEventGridPublisher({
    endpoint,
    ...topicCredential(config, endpoint),
    credential: cloudCredential(config),
  });
  const opened = await openJobHistory(config, (name) => appSetting(name));
  const drillHistory = await openDrillHistory(config, (name) => appSetting(name));
  return {
    config,
    provider,
    events,
    vaults,
    eventSource,
    history: opened.history,
    ...(drillHistory.drills ? { drills: drillHistory.drills } : {}),
    close: async () => {
      drillHistory.close();
      opened.close();
    },
  };
}

/**
 * The key the app publishes to `endpoint` with: `EVENTGRID_TOPIC_KEY` when set; for a topic of
 * the local runtime that hosts the app (`http://{WEBSITE_HOSTNAME}/runtime/topics/...`), the key
 * that runtime generated for its state folder and handed to the app (`LOCAL_EVENTGRID_TOPIC_KEY`),
 * so no key is committed; otherwise none (the managed identity publishes).
 */
export function topicCredential(
  config: Pick<Config, "EVENTGRID_TOPIC_KEY" | "LOCAL_EVENTGRID_TOPIC_KEY" | "WEBSITE_HOSTNAME">,
  endpoint: string,
): { key?: string } {
  if (config.EVENTGRID_TOPIC_KEY) return { key: config.EVENTGRID_TOPIC_KEY };
  const url = URL.parse(endpoint);
  const local =
    url !== null &&
    config.WEBSITE_HOSTNAME !== undefined &&
    url.host === config.WEBSITE_HOSTNAME.toLowerCase() &&
    url.pathname.toLowerCase().startsWith("/runtime/topics/");
  return local && config.LOCAL_EVENTGRID_TOPIC_KEY ? { key: config.LOCAL_EVENTGRID_TOPIC_KEY } : {};
}

/** A publisher to a topic of the local runtime that hosts the app (`/runtime/topics/{name}`). */
export function localTopicPublisher(config: Config, topicName: string): EventPublisherPort {
  const endpoint = `http://${config.WEBSITE_HOSTNAME ?? "localhost:7071"}/runtime/topics/${topicName}`;
  return createEventGridPublisher({ endpoint, ...topicCredential(config, endpoint) });
}

// A failed start (e.g. PostgreSQL missing) is retried on the next call rather than kept.
const dependencies = new ProcessSingleton(() => build(appConfig()));

/** The process's dependencies, built on first use from the settings. */
export function appDependencies(): Promise<AppDependencies> {
  return dependencies.get();
}

/** Replaces the dependencies (tests), or clears them so the next use builds them again. */
export function setAppDependencies(replacement: AppDependencies | undefined): void {
  dependencies.set(replacement && Promise.resolve(replacement));
}

/** Closes the dependencies if they were built (the host is stopping). */
export async function closeAppDependencies(): Promise<void> {
  const current = dependencies.take();
  if (current) await (await current.catch(() => undefined))?.close();
}
