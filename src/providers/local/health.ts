/**
 * The local provider's health: every PostgreSQL server it serves answers `SELECT 1` within a
 * short time. Cheap enough for a probe every few seconds (one short connection per server).
 */
import { AppError } from "../../domain/errors.js";
import { parseConnectionString } from "../../domain/protection/connectionString.js";
import type { ProviderHealthPort } from "../ports.js";
import { clientConfig, withClient } from "./pgConnection.js";
import type { LocalServerConfig } from "./resourceDirectory.js";

/** How long one server may take to connect and answer. */
export const HEALTH_TIMEOUT_MS = 3_000;

/** Code of a health check that found a PostgreSQL server down. */
export const LOCAL_POSTGRES_UNAVAILABLE = "LOCAL_POSTGRES_UNAVAILABLE";

/** Checks the servers of the local provider. */
export function localHealthCheck(
  servers: readonly LocalServerConfig[],
  timeoutMs = HEALTH_TIMEOUT_MS,
): ProviderHealthPort {
  return {
    async check() {
      const failures = await Promise.all(
        servers.map(async (server) => {
          const params = parseConnectionString(server.connectionString);
          const where = `PostgreSQL server '${server.name}' (${params.host ?? "local socket"}:${params.port ?? 5432})`;
          try {
            await withClient(
              {
                ...clientConfig(params),
                connectionTimeoutMillis: timeoutMs,
                query_timeout: timeoutMs,
              },
              where,
              (client) => client.query("SELECT 1"),
            );
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        }),
      );
      const down = failures.filter((failure): failure is string => failure !== undefined);
      if (down.length > 0) {
        throw new AppError(LOCAL_POSTGRES_UNAVAILABLE, `PostgreSQL is down: ${down.join("; ")}`, {
          httpStatus: 503,
          retryable: true,
          recommendedAction:
            "Start the PostgreSQL server (the private one starts with the host), or fix DATABASE_URL / LOCAL_POSTGRES_SERVERS",
        });
      }
    },
  };
}
