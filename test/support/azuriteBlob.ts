/**
 * A real Blob Storage service for tests: Azurite's blob service (the `azurite` package) in a child
 * process on a free port of 127.0.0.1, in memory, in a fresh temporary folder. Startup is awaited
 * on its "successfully listens" line, never by sleeping.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { BlobServiceClient } from "@azure/storage-blob";
import { azuriteAccount } from "./azurite.js";
import { freePort } from "./ports.js";

/** A running Azurite blob service. */
export interface AzuriteBlob {
  /** The account's blob endpoint, `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly endpoint: string;
  /** A connection string for the development account on this port. */
  readonly connectionString: string;
  /** A client of the account. */
  client(): BlobServiceClient;
  /** Stops the service and removes its folder. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

/** Starts Azurite's blob service. */
export async function startAzuriteBlob(): Promise<AzuriteBlob> {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-azurite-blob-"));
  const port = await freePort();
  const main = path.join(
    path.dirname(createRequire(import.meta.url).resolve("azurite/package.json")),
    "dist",
    "src",
    "blob",
    "main.js",
  );
  const child = spawn(
    process.execPath,
    [
      main,
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--inMemoryPersistence",
      "--skipApiVersionCheck",
      "--loose",
      "--silent",
      "--disableTelemetry",
    ],
    { cwd: folder, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } },
  );
  try {
    await listening(child, port);
  } catch (error) {
    child.kill("SIGKILL");
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  child.stdout?.resume();
  child.stderr?.resume();
  const endpoint = `http://127.0.0.1:${port}/${azuriteAccount.name}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${azuriteAccount.name};AccountKey=${azuriteAccount.key};BlobEndpoint=${endpoint};`;
  return {
    endpoint,
    connectionString,
    client: () => BlobServiceClient.fromConnectionString(connectionString),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Resolves when Azurite prints its listening line; rejects with its output when it exits first. */
function listening(child: ChildProcess, port: number): Promise<void> {
  const output: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`Azurite's blob service did not start in time:\n${output.join("")}`));
    }, STARTUP_TIMEOUT_MS);
    lines.on("line", (line) => {
      output.push(`${line}\n`);
      if (line.includes(`successfully listens on http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        lines.removeAllListeners("line");
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Azurite's blob service exited (${code ?? signal}):\n${output.join("")}`));
    });
  });
}
