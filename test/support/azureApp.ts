/**
 * The app on the local runtime with the Azure provider, against fake Azure endpoints: the fake
 * Resource Manager for every call, a fake managed identity for its token, the runtime's own local
 * topic as its Event Grid topic (wired as `npm start` wires it), and Durable timers that fire at
 * once.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { localTopicName } from "../../src/composition.js";
import { createDurableExtension, type DurableClock } from "@pgprotect/functions-runtime/durable";
import { startHost, type RunningHost } from "@pgprotect/functions-runtime";
import { appHostOptions } from "../../src/cli/hostCli.js";
import { FAKE_SUBSCRIPTION_ID, type FakeArm } from "./fakeArm/index.js";
import type { FakeManagedIdentity } from "./fakeArm/fakeManagedIdentity.js";
import { functionsApi, type ApiResponse } from "./functionsApi.js";
import { committedEventGrid, projectDir } from "./localApp.js";
import { freePort } from "./ports.js";

/** The audience the app asks its managed identity for tokens of: Resource Manager's. */
export const ARM_AUDIENCE = "https://management.azure.com";

/**
 * A Durable clock that jumps to each wake-up instead of waiting for it, so that durable timers
 * (15 s and more between validations while role assignments propagate, job polls) fire at once.
 * Orchestration time therefore runs ahead of the wall clock; everything else runs in real time.
 */
export function skipAheadClock(): DurableClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    wakeAt(at, callback) {
      offset += Math.max(0, at - (Date.now() + offset));
      const handle = setImmediate(callback);
      return () => clearImmediate(handle);
    },
  };
}

/** What the test's Azure app runs against. */
export interface AzureAppOptions {
  /** Names the temporary state folder (`pgprotect-<name>-…`). */
  readonly name: string;
  /** The fake Resource Manager (of {@link FAKE_SUBSCRIPTION_ID}); the app trusts its certificate. */
  readonly fake: FakeArm;
  /** The fake managed identity the app gets its token from. */
  readonly identity: FakeManagedIdentity;
  /** `BACKUP_VAULT_IDS`: the vaults the app works with. */
  readonly vaultIds: string;
  /** Certificates of further fakes the app must trust (e.g. a fake Key Vault's). */
  readonly trust?: readonly string[];
  /** App settings on top of the provider, the endpoints and the topic. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Where host lines go; default nowhere. */
  readonly log?: (line: string) => void;
}

/** The running app. */
export interface AzureApp {
  readonly host: RunningHost;
  /** The HTTP API with the function key, bodies as JSON. */
  readonly api: (method: string, route: string, body?: unknown) => Promise<ApiResponse>;
  /** `PGPROTECT_STATE_DIR` and `TMPDIR` of the app. */
  readonly stateDir: string;
  /** Stops the host and removes the state folder. */
  stop(): Promise<void>;
}

/** Starts the app with the Azure provider against the fakes; the caller stops it. */
export async function startAzureApp(options: AzureAppOptions): Promise<AzureApp> {
  // `npm test` compiles the app first; the host runs it from dist/ as Azure would.
  expect(existsSync(path.join(projectDir, "dist", "src", "index.js"))).toBe(true);
  const stateDir = mkdtempSync(path.join(tmpdir(), `pgprotect-${options.name}-`));
  try {
    // The worker reads NODE_EXTRA_CA_CERTS when it starts: that is how it trusts the fakes' certificate.
    const caFile = path.join(stateDir, "fake-arm-ca.pem");
    writeFileSync(caFile, [options.fake.ca, ...(options.trust ?? [])].join("\n"));
    const port = await freePort();
    const host = await startHost({
      ...appHostOptions,
      appDir: projectDir,
      port,
      stateDir: path.join(stateDir, "runtime"),
      banner: false,
      timers: false,
      log: options.log ?? (() => undefined),
      durable: (durableOptions) =>
        createDurableExtension({ ...durableOptions, clock: skipAheadClock() }),
      env: {
        PGPROTECT_PROVIDER: "azure",
        PGPROTECT_STATE_DIR: stateDir,
        // Notification state lives in the temporary folder in Azure; this run's own.
        TMPDIR: stateDir,
        NODE_EXTRA_CA_CERTS: caFile,
        IDENTITY_ENDPOINT: options.identity.endpoint,
        IDENTITY_HEADER: options.identity.header,
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: options.fake.url,
        AZURE_TOKEN_AUDIENCE: ARM_AUDIENCE,
        BACKUP_VAULT_IDS: options.vaultIds,
        // Event Grid is the local runtime's own topic, which delivers to the notification function.
        EVENTGRID_TOPIC_ENDPOINT: `http://127.0.0.1:${port}/runtime/topics/${localTopicName}`,
        ...options.settings,
      },
      // The committed wiring that `npm start` uses: the topic delivers to the notification function.
      eventGrid: committedEventGrid(),
    });
    return {
      host,
      api: functionsApi(() => host),
      stateDir,
      async stop() {
        try {
          await host.stop();
        } finally {
          rmSync(stateDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
}
