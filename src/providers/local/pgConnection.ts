/**
 * Short-lived `pg` connections for the local provider, and the mapping of PostgreSQL failures to
 * the service's error codes.
 */
import pg from "pg";
import { AppError } from "../../domain/errors.js";
import type { PostgresConnectionParams } from "../../domain/protection/connectionString.js";
import { ProviderErrorCodes } from "../ports.js";

/** SQLSTATEs that mean the credentials or privileges are wrong. */
const PERMISSION_STATES = new Set(["28P01", "28000", "42501"]);

/**
 * Turns a PostgreSQL or socket failure into an AppError with the service's code; the message
 * names the server, never the password.
 */
export function postgresFailure(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  const failure = error as { code?: string; message?: string };
  const detail = failure.message ?? String(error);
  if (failure.code && PERMISSION_STATES.has(failure.code)) {
    return new AppError(
      ProviderErrorCodes.missingDbPermissions,
      `${what}: the database refused the credentials or privileges (${detail})`,
      {
        httpStatus: 400,
        cause: error,
        recommendedAction:
          "Check the user name and password in the secret and the user's CONNECT and SELECT privileges",
      },
    );
  }
  return new AppError(ProviderErrorCodes.datasourceUnreachable, `${what}: ${detail}`, {
    httpStatus: 502,
    retryable: failure.code !== "3D000",
    cause: error,
  });
}

/** `pg` client settings for connection parameters, optionally in another database. */
export function clientConfig(params: PostgresConnectionParams, database?: string): pg.ClientConfig {
  const ssl = params.options.sslmode;
  return {
    host: params.host,
    port: params.port,
    user: params.user,
    password: params.password,
    database: database ?? params.database ?? "postgres",
    connectionTimeoutMillis: 15_000,
    ...(ssl && ssl !== "disable" && ssl !== "allow" && ssl !== "prefer"
      ? { ssl: { rejectUnauthorized: ssl.startsWith("verify") } }
      : {}),
  };
}

/** Opens a connection, runs `work`, closes the connection whatever happens. */
export async function withClient<T>(
  config: pg.ClientConfig,
  what: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(config);
  // An idle socket error after a failed query must not crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw postgresFailure(error, what);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal (standard_conforming_strings on). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
