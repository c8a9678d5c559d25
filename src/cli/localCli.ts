/**
 * `pgprotect local ...`: commands for the embedded local provider.
 *
 * ```
 * pgprotect local secret set NAME      reads the value from stdin (no echo on a terminal), prints the URI
 * pgprotect local secret list          prints the URI of every secret (never values)
 * pgprotect local secret delete NAME
 * pgprotect local vault create NAME   makes a Backup vault (names as Azure's: 2-50 characters)
 * ```
 */
import path from "node:path";
import type { ReadStream } from "node:tty";
import { loadConfig } from "../config.js";
import { isAppError, toAppError } from "../domain/errors.js";
import { formatVaultId, LOCAL_SCOPE } from "../domain/protection/ids.js";
import { assertName, vaultNameRule } from "../domain/protection/names.js";
import { LocalSecretStore } from "../providers/local/secretStore.js";
import { createVaultFolder } from "../providers/local/vaultStore.js";
import { createDemoDatabase } from "./localDemo.js";
import type { CliCommand, CliIo } from "./io.js";

const usage = `Usage: pgprotect local <command>

Commands:
  secret set NAME      Store a secret read from stdin; prints its URI
  secret list          Print the URI of every stored secret
  secret delete NAME   Delete a secret
  vault create NAME    Create a Backup vault (2-50 letters, digits and '-'); prints its id
  demo [NAME]          Create a demo database (default 'demo') with data on the local server,
                       and store its connection string as the secret NAME
`;

/** Settings the local commands need. */
export interface LocalCliSettings {
  /** State folder, relative to the command's working folder unless absolute. */
  readonly stateDir: string;
  /** The server the local provider protects, when not the private cluster. */
  readonly databaseUrl?: string | undefined;
}

/** Reads the whole value from a pipe or file, minus one trailing line break. */
async function readPiped(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** Reads one line from a terminal with echo off. */
function readHidden(stdin: ReadStream, stderr: NodeJS.WritableStream): Promise<string> {
  stderr.write("Secret value: ");
  return new Promise((resolve, reject) => {
    let value = "";
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (result: string | Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      stderr.write("\n");
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return done(value);
        if (ch === "\u0003") return done(new Error("cancelled"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** Builds the `local` command group over the given settings (the app settings by default). */
export function createLocalCli(
  settings: () => LocalCliSettings = () => {
    const config = loadConfig();
    return { stateDir: config.PGPROTECT_STATE_DIR, databaseUrl: config.DATABASE_URL };
  },
): CliCommand {
  return async (args: readonly string[], io: CliIo): Promise<number> => {
    const [area, command, name, ...extra] = args;
    if (area === undefined || area === "--help" || area === "-h" || area === "help") {
      io.stdout.write(usage);
      return area === undefined ? 2 : 0;
    }
    const usageError = (message: string): number => {
      io.stderr.write(`pgprotect local: ${message}; see 'pgprotect local --help'\n`);
      return 2;
    };
    if (area === "demo") {
      try {
        const stateDir = path.resolve(io.cwd, settings().stateDir);
        const demo = await createDemoDatabase({
          stateDir,
          databaseUrl: settings().databaseUrl,
          name: command ?? "demo",
        });
        io.stdout.write(
          `Created database '${demo.databaseName}' with ${demo.rows} rows in schema shop.\n` +
            `Its connection string is the secret ${demo.secretUri}\n`,
        );
        return 0;
      } catch (error) {
        const appError = toAppError(error);
        io.stderr.write(
          `pgprotect local: ${appError.code}: ${appError.message}${appError.recommendedAction ? ` (${appError.recommendedAction})` : ""}\n`,
        );
        return 1;
      }
    }
    if (area === "vault") {
      if (command !== "create") return usageError(`unknown vault command '${command ?? ""}'`);
      if (!name || extra.length > 0) return usageError("vault create needs one NAME");
      try {
        const vaultName = assertName(vaultNameRule, name, "NAME");
        const stateDir = path.resolve(io.cwd, settings().stateDir);
        const vault = await createVaultFolder(stateDir, vaultName);
        io.stdout.write(`${formatVaultId({ ...LOCAL_SCOPE, vaultName: vault.vaultName })}\n`);
        if (!vault.created)
          io.stderr.write(`pgprotect local: the vault '${vault.vaultName}' exists already\n`);
        return 0;
      } catch (error) {
        const appError = toAppError(error);
        io.stderr.write(`pgprotect local: ${appError.code}: ${appError.message}\n`);
        return 1;
      }
    }
    if (area !== "secret") return usageError(`unknown command '${area}'`);
    if (extra.length > 0)
      return usageError(
        "too many arguments (a secret value is read from stdin, never from arguments)",
      );
    const store = new LocalSecretStore({ stateDir: path.resolve(io.cwd, settings().stateDir) });
    try {
      switch (command) {
        case "set": {
          if (!name) return usageError("secret set needs a NAME");
          const stdin = io.stdin as Partial<ReadStream> & NodeJS.ReadableStream;
          const value =
            stdin.isTTY && typeof stdin.setRawMode === "function"
              ? await readHidden(stdin as ReadStream, io.stderr)
              : await readPiped(io.stdin);
          io.stdout.write(`${await store.setSecret(name, value)}\n`);
          return 0;
        }
        case "list":
          for (const uri of await store.listSecretUris()) io.stdout.write(`${uri}\n`);
          return 0;
        case "delete": {
          if (!name) return usageError("secret delete needs a NAME");
          const existed = await store.deleteSecret(store.uriFor(name));
          if (!existed) {
            io.stderr.write(`pgprotect local: secret '${name}' does not exist\n`);
            return 1;
          }
          return 0;
        }
        default:
          return usageError(`unknown secret command '${command ?? ""}'`);
      }
    } catch (error) {
      const appError = isAppError(error) ? error : toAppError(error);
      io.stderr.write(`pgprotect local: ${appError.code}: ${appError.message}\n`);
      return 1;
    }
  };
}

/** `pgprotect local ...` with the app settings. */
export const runLocalCli: CliCommand = createLocalCli();
