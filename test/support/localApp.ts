/**
 * The app on the local runtime, as the end-to-end tests start it: from `dist/` (as Azure runs
 * it), in a fresh state folder, over the test file's private PostgreSQL, with timers off unless a
 * test asks for them. Beside the host, a local provider on the same state folder lets a test
 * arrange what an operator would have set up beforehand (secrets, policies).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { appHostOptions, eventGridFileSchema } from "../../src/cli/hostCli.js";
import { localTopicName } from "../../src/composition.js";
import { compilePolicySpec, type PolicySpec } from "../../src/domain/policy/spec.js";
import { formatVaultId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import {
  createLocalProvider,
  type LocalProvider,
  type LocalServerConfig,
} from "../../src/providers/local/index.js";
import {
  startHost,
  type Clock,
  type EventGridSettings,
  type RunningHost,
} from "@pgprotect/functions-runtime";
import { functionsApi, type ApiResponse } from "./functionsApi.js";
import type { PostgresFixture } from "./postgres.js";

/** The project's root folder: the function app the host loads. */
export const projectDir = fileURLToPath(new URL("../..", import.meta.url));

/** The vault the app uses when a request names none. */
export const defaultVaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });

/** A weekly policy (Sundays 22:00 UTC, kept three months): the policy most tests protect with. */
export const weeklyPolicy: PolicySpec = {
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M" },
};

/** The local runtime's Event Grid wiring with the app's own topic delivering to no one. */
export const silentTopics: EventGridSettings = {
  topics: { [localTopicName]: { subscriptions: [] } },
};

/**
 * The committed Event Grid wiring that `npm start` uses (`eventgrid.local.json`): the local topic
 * delivers to the app's Event Grid functions.
 */
export function committedEventGrid(): EventGridSettings {
  return eventGridFileSchema.parse(
    JSON.parse(readFileSync(path.join(projectDir, "eventgrid.local.json"), "utf8")),
  ) as EventGridSettings;
}

/** What the test's app runs with. */
export interface LocalAppOptions {
  /** The test file's PostgreSQL; its cluster is server `local` (`DATABASE_URL`). */
  readonly postgres: PostgresFixture;
  /** Names the temporary state folder (`pgprotect-<name>-…`), to tell runs apart. */
  readonly name: string;
  /** The servers the test's provider knows; default: `local` on the test's cluster. */
  readonly servers?: readonly LocalServerConfig[];
  /** App settings on top of `PGPROTECT_STATE_DIR` and `DATABASE_URL`. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Secrets stored before the app starts: connection strings by secret name. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Policies created in the default vault before the app starts, by name. */
  readonly policies?: Readonly<Record<string, PolicySpec>>;
  /** Local Event Grid topics; default {@link silentTopics}. */
  readonly eventGrid?: EventGridSettings;
  /** Whether timers run on their own; default false (tests run them through the admin API). */
  readonly timers?: boolean;
  /** The timers' clock; default the system clock. */
  readonly clock?: Clock;
  /** Where host lines go; default nowhere. */
  readonly log?: (line: string) => void;
}

/** The running app and what a test reaches it with. */
export interface LocalApp {
  readonly host: RunningHost;
  /** The HTTP API with the function key, bodies as JSON. */
  readonly api: (method: string, route: string, body?: unknown) => Promise<ApiResponse>;
  /** `PGPROTECT_STATE_DIR`: vaults, secrets, outbox, and the runtime's state under `runtime/`. */
  readonly stateDir: string;
  /** The URIs of the secrets of {@link LocalAppOptions.secrets}, by secret name. */
  readonly secretUris: Readonly<Record<string, string>>;
  /** A provider on the same state folder and servers, for arranging and inspecting state. */
  readonly provider: LocalProvider;
  /** Stops the host and removes the state folder. */
  stop(): Promise<void>;
}

/** Starts the app on the local runtime; the caller stops it (usually in `afterAll`). */
export async function startLocalApp(options: LocalAppOptions): Promise<LocalApp> {
  // `npm test` compiles the app first; the host runs it from dist/ as Azure would.
  expect(existsSync(path.join(projectDir, "dist", "src", "index.js"))).toBe(true);
  const { postgres } = options;
  const stateDir = mkdtempSync(path.join(tmpdir(), `pgprotect-${options.name}-`));
  let host: RunningHost | undefined;
  try {
    const provider = await createLocalProvider({
      stateDir,
      servers: options.servers ?? [
        { name: "local", connectionString: postgres.cluster.connectionUrl() },
      ],
      binDir: postgres.cluster.binDir,
    });
    const secretUris: Record<string, string> = {};
    for (const [name, connectionString] of Object.entries(options.secrets ?? {})) {
      secretUris[name] = await provider.secrets.setSecret(name, connectionString);
    }
    for (const [name, spec] of Object.entries(options.policies ?? {})) {
      await provider.backup.createPolicy(defaultVaultId, name, compilePolicySpec(spec));
    }
    host = await startHost({
      ...appHostOptions,
      appDir: projectDir,
      port: 0,
      stateDir: path.join(stateDir, "runtime"),
      banner: false,
      timers: options.timers ?? false,
      ...(options.clock ? { clock: options.clock } : {}),
      log: options.log ?? (() => undefined),
      env: {
        PGPROTECT_STATE_DIR: stateDir,
        DATABASE_URL: postgres.cluster.connectionUrl(),
        ...options.settings,
      },
      eventGrid: options.eventGrid ?? silentTopics,
    });
    const running = host;
    return {
      host: running,
      api: functionsApi(() => running),
      stateDir,
      secretUris,
      provider,
      async stop() {
        try {
          await running.stop();
        } finally {
          rmSync(stateDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await host?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
}

/** Whether a long-running operation's status answer is final (`Completed` or `Failed`). */
export const operationEnded = (r: { body: Record<string, unknown> }): boolean =>
  r.body.status === "Completed" || r.body.status === "Failed";
