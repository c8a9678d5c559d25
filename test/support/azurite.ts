/**
 * Real storage services for tests: Azurite's table or blob service (the `azurite` package, pure
 * JavaScript) in a child process on a free port of 127.0.0.1, in memory, in a fresh temporary
 * folder. Startup is awaited on the service's listening line, never by sleeping. The blob
 * service's client lives in `azuriteBlob.ts`, so that table tests do not load the blob SDK.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll } from "vitest";
import { freePort } from "./ports.js";

/**
 * Azurite's well-known development account and key: public, documented, and accepted by no real
 * storage account.
 */
export const azuriteAccount = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
} as const;

/** One of Azurite's services; each runs as a process of its own. */
export type AzuriteServiceKind = "table" | "blob";

/** A running Azurite service. */
export interface AzuriteService {
  readonly port: number;
  /** The account's endpoint of the service, `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly endpoint: string;
  /** A connection string for the development account on this port. */
  readonly connectionString: string;
  /** How long the service took to start, in milliseconds (spawn to listening line). */
  readonly startupMs: number;
  /** Stops the service and removes its folder. */
  stop(): Promise<void>;
}

/** A running Azurite table service. */
export interface AzuriteTable extends AzuriteService {
  /** A client of a table on this service (the table is not created). */
  client(tableName: string): TableClient;
}

/** What tells the services apart: their flags, listening line and connection-string key. */
const serviceTraits: Record<
  AzuriteServiceKind,
  { readonly listeningLine: (port: number) => string; readonly endpointKey: string }
> = {
  table: {
    listeningLine: (port) => `successfully started on 127.0.0.1:${port}`,
    endpointKey: "TableEndpoint",
  },
  blob: {
    listeningLine: (port) => `successfully listens on http://127.0.0.1:${port}`,
    endpointKey: "BlobEndpoint",
  },
};

/** How long Azurite may take to announce it is listening. */
const STARTUP_TIMEOUT_MS = 30_000;
/** How long it may take to exit after SIGINT before it is killed. */
const STOP_TIMEOUT_MS = 5_000;
/** Attempts when the free port is taken between finding it and Azurite binding it. */
const PORT_ATTEMPTS = 3;

/** Starts Azurite's table service. */
export async function startAzuriteTable(): Promise<AzuriteTable> {
  const service = await startAzuriteService("table");
  return {
    ...service,
    client: (tableName) =>
      TableClient.fromConnectionString(service.connectionString, tableName, {
        allowInsecureConnection: true,
      }),
  };
}

/**
 * Starts one of Azurite's services, on another free port when the one found was taken before
 * Azurite could bind it.
 *
 * @param nextPort where the ports to try come from (a free one each time, unless a test says).
 */
export async function startAzuriteService(
  kind: AzuriteServiceKind,
  nextPort: () => Promise<number> = freePort,
): Promise<AzuriteService> {
  const folder = await mkdtemp(path.join(tmpdir(), `pgprotect-azurite-${kind}-`));
  try {
    for (let attempt = 1; ; attempt += 1) {
      const port = await nextPort();
      const started = Date.now();
      const child = spawnAzurite(kind, folder, port);
      const outcome = await listening(child, serviceTraits[kind].listeningLine(port));
      if (outcome.ok) {
        return running(kind, child, folder, port, Date.now() - started);
      }
      if (!outcome.output.includes("EADDRINUSE") || attempt >= PORT_ATTEMPTS) {
        throw new Error(`Azurite's ${kind} service did not start:\n${outcome.output}`);
      }
    }
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts Azurite for the calling test file (`beforeAll`) and stops it afterwards (`afterAll`).
 *
 * @returns the service, readable once `beforeAll` ran.
 */
export function useAzuriteTable(): { readonly service: AzuriteTable } {
  let service: AzuriteTable | undefined;
  beforeAll(async () => {
    service = await startAzuriteTable();
  });
  afterAll(async () => {
    await service?.stop();
  });
  return {
    get service(): AzuriteTable {
      if (!service) throw new Error("Azurite is not started yet");
      return service;
    },
  };
}

/** Every entity of a table, in the service's order (the table must exist). */
export async function allEntities(client: TableClient): Promise<Record<string, unknown>[]> {
  const entities: Record<string, unknown>[] = [];
  for await (const entity of client.listEntities()) entities.push(entity);
  return entities;
}

/** A table name no other test uses: letters and digits, starting with a letter. */
export function uniqueTableName(prefix = "t"): string {
  return `${prefix}${randomBytes(8).toString("hex")}`;
}

function spawnAzurite(kind: AzuriteServiceKind, folder: string, port: number): ChildProcess {
  const packageJson = createRequire(import.meta.url).resolve("azurite/package.json");
  const main = path.join(path.dirname(packageJson), "dist", "src", kind, "main.js");
  return spawn(
    process.execPath,
    [
      main,
      `--${kind}Host`,
      "127.0.0.1",
      `--${kind}Port`,
      String(port),
      "--inMemoryPersistence",
      "--skipApiVersionCheck",
      "--loose",
      "--silent",
      // Azurite reports usage to Application Insights unless told not to; tests stay offline.
      "--disableTelemetry",
    ],
    // The folder is the working directory: Azurite writes nothing in memory mode, but just in case.
    { cwd: folder, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } },
  );
}

/** Resolves when Azurite prints its listening line, or with its output when it exits first. */
async function listening(
  child: ChildProcess,
  ready: string,
): Promise<{ ok: true } | { ok: false; output: string }> {
  const output: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const timeout = AbortSignal.timeout(STARTUP_TIMEOUT_MS);
  return new Promise((resolve) => {
    const finish = (result: { ok: true } | { ok: false; output: string }) => {
      lines.removeAllListeners("line");
      child.removeListener("exit", onExit);
      timeout.removeEventListener("abort", onTimeout);
      resolve(result);
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish({ ok: false, output: `${output.join("")}(exit ${code ?? signal})` });
    const onTimeout = () => {
      child.kill("SIGKILL");
      finish({
        ok: false,
        output: `${output.join("")}(no listening line within ${STARTUP_TIMEOUT_MS} ms)`,
      });
    };
    lines.on("line", (line) => {
      output.push(`${line}\n`);
      if (line.includes(ready)) finish({ ok: true });
    });
    child.once("exit", onExit);
    timeout.addEventListener("abort", onTimeout, { once: true });
  });
}

function running(
  kind: AzuriteServiceKind,
  child: ChildProcess,
  folder: string,
  port: number,
  startupMs: number,
): AzuriteService {
  const endpoint = `http://127.0.0.1:${port}/${azuriteAccount.name}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${azuriteAccount.name};AccountKey=${azuriteAccount.key};${serviceTraits[kind].endpointKey}=${endpoint};`;
  // Keep reading its output, so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    port,
    endpoint,
    connectionString,
    startupMs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(folder, { recursive: true, force: true });
    },
  };
}
