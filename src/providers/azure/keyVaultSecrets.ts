/**
 * The secret port over Azure Key Vault: connection strings of Single Server databases live in
 * Key Vault secrets, addressed by their URIs (`https://{vault}.vault.azure.net/secrets/{name}`).
 *
 * @remarks A secret's value is a credential: it is returned to the caller and nowhere else, never
 * put in an error message or a log line.
 */
import type { TokenCredential } from "@azure/identity";
import {
  SecretClient,
  parseKeyVaultSecretIdentifier,
  type SecretClientOptions,
} from "@azure/keyvault-secrets";
import { AppError, InvalidInputError, NotFoundError } from "../../domain/errors.js";
import {
  parseConnectionString,
  type PostgresConnectionParams,
} from "../../domain/protection/connectionString.js";
import { ProviderErrorCodes, type SecretPort } from "../ports.js";

/** Key Vault hosts of the public and sovereign clouds. */
export const keyVaultHostSuffixes: readonly string[] = [
  ".vault.azure.net",
  ".vault.azure.cn",
  ".vault.usgovcloudapi.net",
  ".vault.microsoftazure.de",
];

/** Options of {@link KeyVaultSecretStore}. */
export interface KeyVaultSecretStoreOptions {
  readonly credential: TokenCredential;
  /** Pipeline, TLS and challenge options of each vault's client. */
  readonly client?: SecretClientOptions;
  /**
   * Host suffixes (or exact hosts) secrets may live under; the clouds' Key Vault domains by
   * default, so that a secret URI cannot send the app's token elsewhere.
   */
  readonly allowedHosts?: readonly string[];
}

/** What is known of a connection-string secret without revealing it. */
export interface ConnectionSecretSummary {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly hasPassword: boolean;
}

interface RestErrorLike {
  readonly statusCode?: number;
  readonly code?: string;
  /** The parsed error body (`{ error: { code, message, innerError } }`). */
  readonly details?: { readonly error?: { readonly innerError?: { readonly code?: string } } };
}

/** The inner error code of a Key Vault error (`ForbiddenByRbac`, `SecretDisabled`, ...). */
function innerCodeOf(error: RestErrorLike): string | undefined {
  return error.details?.error?.innerError?.code;
}

/** Secrets in Azure Key Vault. */
export class KeyVaultSecretStore implements SecretPort {
  private readonly clients = new Map<string, SecretClient>();

  constructor(private readonly options: KeyVaultSecretStoreOptions) {}

  private locate(uri: string): { client: SecretClient; name: string; version: string | undefined } {
    let parsed;
    try {
      parsed = parseKeyVaultSecretIdentifier(uri);
    } catch {
      throw new InvalidInputError("INVALID_SECRET_URI", `'${uri}' is not a Key Vault secret URI`, [
        {
          path: "$.secretUri",
          code: "INVALID_SECRET_URI",
          message: "expected https://{vault}.vault.azure.net/secrets/{name}",
        },
      ]);
    }
    const host = new URL(parsed.vaultUrl).hostname.toLowerCase();
    const allowed = this.options.allowedHosts ?? keyVaultHostSuffixes;
    if (!allowed.some((entry) => (entry.startsWith(".") ? host.endsWith(entry) : host === entry))) {
      throw new InvalidInputError("INVALID_SECRET_URI", `'${host}' is not a Key Vault host`, [
        {
          path: "$.secretUri",
          code: "INVALID_SECRET_URI",
          message: `the host must end with ${allowed.join(", ")}`,
        },
      ]);
    }
    let client = this.clients.get(parsed.vaultUrl);
    if (!client) {
      // Key Vault's challenge names the cloud's Key Vault resource, which a host outside the
      // clouds' domains never ends with; such a host is reached only when configured explicitly.
      const cloudHost = keyVaultHostSuffixes.some((suffix) => host.endsWith(suffix));
      client = new SecretClient(
        parsed.vaultUrl,
        this.options.credential,
        cloudHost
          ? this.options.client
          : { ...this.options.client, disableChallengeResourceVerification: true },
      );
      this.clients.set(parsed.vaultUrl, client);
    }
    return { client, name: parsed.name, version: parsed.version };
  }

  private classify(thrown: unknown, uri: string): AppError {
    if (thrown instanceof AppError) return thrown;
    const { statusCode, code } = (thrown ?? {}) as RestErrorLike;
    if (statusCode === 403 && innerCodeOf(thrown as RestErrorLike) === "SecretDisabled") {
      return new AppError("SECRET_DISABLED", `Secret ${uri} is disabled`, {
        serviceCode: "SecretDisabled",
        httpStatus: 409,
        retryable: false,
        recommendedAction: "Enable the secret's current version in Key Vault",
      });
    }
    if (statusCode === 404) {
      return new NotFoundError(ProviderErrorCodes.secretNotFound, `Secret ${uri} does not exist`, {
        ...(code ? { serviceCode: code } : {}),
        recommendedAction:
          "Create the secret with the database's connection string, or correct the secret URI",
      });
    }
    if (statusCode === 401 || statusCode === 403) {
      return new AppError(
        ProviderErrorCodes.missingRequiredPermissions,
        `The app may not read secret ${uri} (${code ?? statusCode})`,
        {
          ...(code ? { serviceCode: code } : {}),
          httpStatus: 403,
          retryable: false,
          recommendedAction:
            "Grant the identity 'Key Vault Secrets User' on the key vault (or get and list secret permissions in its access policy)",
        },
      );
    }
    const transient = statusCode === undefined || statusCode === 429 || statusCode >= 500;
    return new AppError(
      "KEY_VAULT_REQUEST_FAILED",
      `Reading secret ${uri} failed (${statusCode ?? "no response"})`,
      {
        ...(code ? { serviceCode: code } : {}),
        httpStatus: transient ? 502 : 400,
        retryable: transient,
        cause: thrown,
      },
    );
  }

  async getSecret(uri: string): Promise<string> {
    const { client, name, version } = this.locate(uri);
    let secret;
    try {
      secret = await client.getSecret(name, version ? { version } : {});
    } catch (thrown) {
      throw this.classify(thrown, uri);
    }
    if (secret.properties.enabled === false) {
      throw new AppError("SECRET_DISABLED", `Secret ${uri} is disabled`, {
        httpStatus: 409,
        retryable: false,
        recommendedAction: "Enable the secret's current version in Key Vault",
      });
    }
    if (secret.value === undefined) {
      throw new AppError("SECRET_EMPTY", `Secret ${uri} has no value`, {
        httpStatus: 409,
        retryable: false,
      });
    }
    return secret.value;
  }

  async secretExists(uri: string): Promise<boolean> {
    const { client, name, version } = this.locate(uri);
    try {
      // Version properties carry no value, so existence is checked without reading the secret.
      for await (const properties of client.listPropertiesOfSecretVersions(name)) {
        if (properties.enabled !== false && (!version || properties.version === version))
          return true;
      }
      return false;
    } catch (thrown) {
      const error = this.classify(thrown, uri);
      if (error.code === ProviderErrorCodes.secretNotFound) return false;
      throw error;
    }
  }

  /**
   * Reads a secret and checks that it is a PostgreSQL connection string, answering what it names
   * without the password.
   *
   * @throws InvalidInputError `CONNECTION_STRING_INVALID` (the value is not quoted back).
   */
  async inspectConnectionSecret(uri: string): Promise<ConnectionSecretSummary> {
    const params: PostgresConnectionParams = parseConnectionString(await this.getSecret(uri));
    return {
      ...(params.host === undefined ? {} : { host: params.host }),
      ...(params.port === undefined ? {} : { port: params.port }),
      ...(params.database === undefined ? {} : { database: params.database }),
      ...(params.user === undefined ? {} : { user: params.user }),
      hasPassword: params.password !== undefined && params.password !== "",
    };
  }
}
