/**
 * The local Key Vault stand-in: secrets addressed by Key Vault style URIs
 * (`https://{vault}.vault.azure.net/secrets/{name}[/{version}]`), kept in one JSON file only its
 * owner can read (0600), replaced atomically on every change. Values are never printed, logged or
 * quoted in errors.
 */
import { chmod, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { AppError, InvalidInputError, NotFoundError } from "../../domain/errors.js";
import {
  parseConnectionString,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import { LOCAL_KEY_VAULT_NAME } from "../../domain/protection/ids.js";
import type { SecretPort } from "../ports.js";
import { ProviderErrorCodes } from "../ports.js";
import { ErrorCodes } from "../../domain/errorCodes.js";
import { readJsonFile, writeJsonAtomic } from "../atomicFiles.js";

/** Code of a string that is not a Key Vault secret URI. */
export const SECRET_URI_INVALID = ErrorCodes.INVALID_SECRET_URI;

/** A parsed secret URI. */
export interface SecretAddress {
  readonly vaultName: string;
  readonly secretName: string;
  /** Present when the URI names a version; the local store keeps only the latest. */
  readonly version?: string;
}

const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
const VAULT_NAME = /^[A-Za-z][0-9A-Za-z-]{1,22}[0-9A-Za-z]$/;

const invalidUri = (uri: string, reason: string): InvalidInputError =>
  new InvalidInputError(SECRET_URI_INVALID, `'${uri}' is not a Key Vault secret URI: ${reason}`, [
    { path: "$.secretUri", code: SECRET_URI_INVALID, message: reason },
  ]);

/** Checks a secret name against Key Vault's rule (1-127 letters, digits and dashes). */
export function assertSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new InvalidInputError(SECRET_URI_INVALID, `'${name}' is not a valid secret name`, [
      { path: "NAME", code: SECRET_URI_INVALID, message: "use 1-127 letters, digits and dashes" },
    ]);
  }
}

/** Parses `https://{vault}.vault.azure.net/secrets/{name}[/{version}]`. */
export function parseSecretUri(uri: string): SecretAddress {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidUri(uri, "it does not parse as a URL");
  }
  const hostMatch = /^([^.]+)\.vault\.azure\.net$/i.exec(url.hostname);
  if (url.protocol !== "https:" || !hostMatch?.[1] || !VAULT_NAME.test(hostMatch[1])) {
    throw invalidUri(uri, "expected https://{vault}.vault.azure.net/secrets/{name}");
  }
  const parts = url.pathname.split("/").filter((p) => p !== "");
  if (
    parts[0]?.toLowerCase() !== "secrets" ||
    parts.length < 2 ||
    parts.length > 3 ||
    !SECRET_NAME.test(parts[1] ?? "")
  ) {
    throw invalidUri(uri, "expected the path /secrets/{name}[/{version}]");
  }
  return {
    vaultName: hostMatch[1].toLowerCase(),
    secretName: parts[1] as string,
    ...(parts[2] !== undefined ? { version: parts[2] } : {}),
  };
}

/** Formats a secret URI. */
export function formatSecretUri(vaultName: string, secretName: string): string {
  return `https://${vaultName.toLowerCase()}.vault.azure.net/secrets/${secretName}`;
}

interface StoredSecret {
  readonly value: string;
  readonly updated: string;
}

interface SecretFile {
  readonly version: 1;
  readonly secrets: Record<string, StoredSecret>;
}

/** Options of {@link LocalSecretStore}. */
export interface LocalSecretStoreOptions {
  /** The state folder; secrets live in `secrets.json` inside it. */
  readonly stateDir: string;
  /** The Key Vault name of new secrets' URIs. */
  readonly vaultName?: string;
  readonly now?: () => Date;
  /**
   * Rewrites connection parameters read from secrets before use: the private cluster's own
   * endpoint moves (another port) while secrets written earlier still name the old one.
   */
  readonly resolveEndpoint?: (params: PostgresConnectionParams) => PostgresConnectionParams;
}

/** Key Vault stand-in backed by a 0600 file. */
export class LocalSecretStore implements SecretPort {
  readonly file: string;
  readonly vaultName: string;
  readonly #now: () => Date;
  readonly #resolveEndpoint: (params: PostgresConnectionParams) => PostgresConnectionParams;
  /** Serialises read-modify-write cycles of this process. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalSecretStoreOptions) {
    this.file = path.join(path.resolve(options.stateDir), "secrets.json");
    this.vaultName = (options.vaultName ?? LOCAL_KEY_VAULT_NAME).toLowerCase();
    this.#now = options.now ?? (() => new Date());
    this.#resolveEndpoint = options.resolveEndpoint ?? ((params) => params);
  }

  /** The URI a secret of this store gets. */
  uriFor(secretName: string): string {
    assertSecretName(secretName);
    return formatSecretUri(this.vaultName, secretName);
  }

  /**
   * Creates or replaces a secret.
   *
   * @returns the secret's URI.
   */
  async setSecret(secretName: string, value: string): Promise<string> {
    const uri = this.uriFor(secretName);
    if (value === "") {
      throw new InvalidInputError(ErrorCodes.SECRET_EMPTY, "A secret value must not be empty", [
        { path: "stdin", code: ErrorCodes.SECRET_EMPTY, message: "the value read was empty" },
      ]);
    }
    await this.#update((secrets) => {
      secrets[this.#key(parseSecretUri(uri))] = { value, updated: this.#now().toISOString() };
    });
    return uri;
  }

  /** Deletes a secret; true when it existed. */
  async deleteSecret(uri: string): Promise<boolean> {
    const key = this.#key(parseSecretUri(uri));
    let existed = false;
    await this.#update((secrets) => {
      existed = key in secrets;
      delete secrets[key];
    });
    return existed;
  }

  async getSecret(uri: string): Promise<string> {
    const address = parseSecretUri(uri);
    const secret = (await this.#read()).secrets[this.#key(address)];
    if (!secret) {
      throw new NotFoundError(
        ProviderErrorCodes.secretNotFound,
        `Secret '${address.secretName}' was not found in key vault '${address.vaultName}'`,
        {
          recommendedAction: `Create it with: pgprotect local secret set ${address.secretName}`,
        },
      );
    }
    return secret.value;
  }

  async secretExists(uri: string): Promise<boolean> {
    return this.#key(parseSecretUri(uri)) in (await this.#read()).secrets;
  }

  /** URIs of every stored secret (never their values). */
  async listSecretUris(): Promise<string[]> {
    return Object.keys((await this.#read()).secrets)
      .sort()
      .map((key) => {
        const [vaultName, secretName] = key.split("/") as [string, string];
        return formatSecretUri(vaultName, secretName);
      });
  }

  /**
   * Reads a secret and parses it as a PostgreSQL connection string, naming the private cluster's
   * current endpoint when the secret names the cluster at an earlier one.
   *
   * @throws InvalidInputError `CONNECTION_STRING_INVALID` (the value is never quoted).
   */
  async getConnectionParams(uri: string): Promise<PostgresConnectionParams> {
    return this.#resolveEndpoint(parseConnectionString(await this.getSecret(uri)));
  }

  /** Keeps secrets out of `console.log` and `JSON.stringify` of the store. */
  toJSON(): { file: string; vaultName: string } {
    return { file: this.file, vaultName: this.vaultName };
  }

  #key(address: SecretAddress): string {
    // Key Vault names are case-insensitive.
    return `${address.vaultName}/${address.secretName.toLowerCase()}`;
  }

  async #read(): Promise<SecretFile> {
    const content = await readJsonFile<SecretFile>(this.file);
    if (content === undefined) return { version: 1, secrets: {} };
    const mode = (await stat(this.file)).mode & 0o077;
    if (mode !== 0) {
      throw new AppError(
        "LOCAL_SECRET_FILE_EXPOSED",
        `${this.file} is readable by other users; run: chmod 600 ${this.file}`,
        {
          httpStatus: 500,
        },
      );
    }
    return content;
  }

  #update(change: (secrets: Record<string, StoredSecret>) => void): Promise<void> {
    const run = async (): Promise<void> => {
      // The folder keeps its default mode: it also holds the private cluster, whose server user must traverse it.
      await mkdir(path.dirname(this.file), { recursive: true });
      const current = await this.#read();
      const secrets = { ...current.secrets };
      change(secrets);
      await writeJsonAtomic(this.file, { version: 1, secrets } satisfies SecretFile, 0o600);
      // The process umask can only narrow the mode; make sure no bit was widened by a previous owner.
      await chmod(this.file, 0o600);
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
