/**
 * Azure Resource Graph queries: one REST-level route (`POST /providers/Microsoft.ResourceGraph/
 * resources`), `$skipToken` paging, subscriptions in batches, and the per-user quota.
 *
 * @remarks Resource Graph meters each user separately from Resource Manager (for example 15
 * queries per 5 seconds) and says how much is left in `x-ms-user-quota-remaining` and when the
 * window resets in `x-ms-user-quota-resets-after` (`hh:mm:ss`). The quota policy holds queries
 * while the quota is spent and resends a throttled query when the window resets, so a watcher
 * slows down instead of failing. Queries go through a REST-level client rather than
 * `@azure/arm-resourcegraph`, whose generation (ms-rest-js) takes neither pipeline policies nor
 * TLS options.
 */
import { getClient, type Client, type ClientOptions } from "@azure-rest/core-client";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import { armErrorFromResponse, armErrorFromThrown, parseRetryAfterMs } from "./armErrors.js";
import { systemClock, type ThrottleClock } from "./throttling.js";

/** The Resource Graph api-version of every query. */
export const RESOURCE_GRAPH_API_VERSION = "2021-03-01" as const;

/** Subscriptions per query: Resource Graph advises staying well under 300 per request. */
export const SUBSCRIPTIONS_PER_QUERY = 200;

/** Parses `hh:mm:ss` (or `d.hh:mm:ss`) into milliseconds. */
export function parseQuotaResetsAfter(value: string | undefined): number | undefined {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value?.trim() ?? "");
  if (!match) return undefined;
  const [, days, hours, minutes, seconds] = match;
  return Math.round(
    ((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) *
      1000,
  );
}

/** Options of {@link resourceGraphQuotaPolicy}. */
export interface ResourceGraphQuotaOptions {
  readonly clock?: ThrottleClock;
  /** Factor applied to every wait; 1 in production, small in tests. */
  readonly waitScale?: number;
  /** Resends of one throttled query; 5 by default. */
  readonly maxRetries?: number;
}

/** Holds queries while the user's Resource Graph quota is spent; resends throttled ones. */
export function resourceGraphQuotaPolicy(options: ResourceGraphQuotaOptions = {}): PipelinePolicy {
  const clock = options.clock ?? systemClock;
  const scale = options.waitScale ?? 1;
  const maxRetries = options.maxRetries ?? 5;
  let blockedUntil = 0;
  return {
    name: "resourceGraphQuotaPolicy",
    async sendRequest(request, next) {
      for (let attempt = 0; ; attempt += 1) {
        const wait = blockedUntil - clock.now();
        if (wait > 0) await clock.sleep(wait, request.abortSignal);
        const response = await next(request);
        const remaining = Number(response.headers.get("x-ms-user-quota-remaining"));
        const resetsAfter = parseQuotaResetsAfter(
          response.headers.get("x-ms-user-quota-resets-after"),
        );
        if (Number.isFinite(remaining) && remaining <= 0 && resetsAfter !== undefined) {
          blockedUntil = Math.max(blockedUntil, clock.now() + resetsAfter * scale);
        }
        if (response.status !== 429 || attempt >= maxRetries) return response;
        const retryAfter =
          parseRetryAfterMs(response.headers.get("retry-after")) ?? resetsAfter ?? 5000;
        blockedUntil = Math.max(blockedUntil, clock.now() + retryAfter * scale);
      }
    },
  };
}

/** Options of {@link createResourceGraphClient}. */
export interface ResourceGraphClientOptions {
  readonly credential: TokenCredential;
  /** Resource Graph's endpoint: Resource Manager's (`https://management.azure.com`) in every cloud. */
  readonly endpoint: string;
  /** Token audience; the endpoint by default. */
  readonly tokenAudience?: string;
  /** Pipeline and TLS options. */
  readonly client?: ClientOptions;
  readonly quota?: ResourceGraphQuotaOptions;
  /** Rows per page; 1000 (Resource Graph's maximum) by default. */
  readonly pageSize?: number;
}

interface QueryResponseBody {
  readonly totalRecords?: number;
  readonly count?: number;
  readonly resultTruncated?: string;
  readonly $skipToken?: string;
  readonly data?: unknown;
}

/** Quotes a value for a Kusto string literal. */
export function kustoString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** A Kusto `(...)` list of string literals. */
export function kustoList(values: readonly string[]): string {
  return `(${values.map(kustoString).join(",")})`;
}

/** Runs Resource Graph queries. */
export class ResourceGraphClient {
  constructor(
    private readonly client: Client,
    private readonly pageSize = 1000,
  ) {}

  /**
   * Every row a query returns over the subscriptions, following `$skipToken` pages.
   *
   * @param operation - what is being looked up, for error messages.
   */
  async query<TRow>(
    subscriptions: readonly string[],
    query: string,
    operation: string,
  ): Promise<TRow[]> {
    const rows: TRow[] = [];
    for (let i = 0; i < subscriptions.length; i += SUBSCRIPTIONS_PER_QUERY) {
      const batch = subscriptions.slice(i, i + SUBSCRIPTIONS_PER_QUERY);
      let skipToken: string | undefined;
      do {
        const body = await this.page(batch, query, skipToken, operation);
        if (Array.isArray(body.data)) rows.push(...(body.data as TRow[]));
        skipToken = body.$skipToken;
      } while (skipToken);
    }
    return rows;
  }

  private async page(
    subscriptions: readonly string[],
    query: string,
    skipToken: string | undefined,
    operation: string,
  ): Promise<QueryResponseBody> {
    let response;
    try {
      response = await this.client.path("/providers/Microsoft.ResourceGraph/resources").post({
        body: {
          subscriptions,
          query,
          options: {
            $top: this.pageSize,
            resultFormat: "objectArray",
            ...(skipToken ? { $skipToken: skipToken } : {}),
          },
        },
      });
    } catch (thrown) {
      throw armErrorFromThrown(thrown, operation);
    }
    if (response.status !== "200") {
      throw armErrorFromResponse(
        { status: response.status, headers: response.headers, body: response.body },
        operation,
      );
    }
    return response.body as QueryResponseBody;
  }
}

/** Creates a Resource Graph client. */
export function createResourceGraphClient(
  options: ResourceGraphClientOptions,
): ResourceGraphClient {
  const endpoint = options.endpoint.replace(/\/+$/, "");
  const audience = (options.tokenAudience ?? endpoint).replace(/\/+$/, "");
  const client = getClient(endpoint, options.credential, {
    ...options.client,
    endpoint,
    apiVersion: RESOURCE_GRAPH_API_VERSION,
    credentials: { scopes: [`${audience}/.default`] },
    userAgentOptions: { userAgentPrefix: "pgprotect-resourcegraph/0.1.0" },
    additionalPolicies: [
      ...(options.client?.additionalPolicies ?? []),
      { policy: resourceGraphQuotaPolicy(options.quota), position: "perRetry" },
    ],
  });
  return new ResourceGraphClient(client, options.pageSize);
}
