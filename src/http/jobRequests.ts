/**
 * The query string of `GET /api/jobs`: filters, page size and the continuation token, which
 * encodes where the previous page ended.
 */
import { InvalidInputError, type InputProblem } from "../domain/errors.js";
import type { JobOperation, JobStatus } from "../domain/protection/types.js";
import type { JobFilter } from "../providers/ports.js";

const jobStatuses: readonly JobStatus[] = ["InProgress", "Completed", "Failed", "Cancelled"];
const jobOperations: readonly JobOperation[] = ["OnDemandBackup", "ScheduledBackup", "Restore"];

/** Page size of `GET /api/jobs` when `top` is absent, and the largest allowed. */
export const jobPageSize = { default: 50, max: 200 } as const;

/** Where a page ended: the last job's start and name (jobs are listed newest first). */
export interface JobCursor {
  readonly s: string;
  readonly n: string;
}

/** The continuation token of the page after `cursor`. */
export function encodeJobCursor(cursor: JobCursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

function decodeJobCursor(token: string): JobCursor | undefined {
  try {
    const value = JSON.parse(
      Buffer.from(token, "base64url").toString("utf8"),
    ) as Partial<JobCursor>;
    return typeof value.s === "string" &&
      typeof value.n === "string" &&
      !Number.isNaN(Date.parse(value.s))
      ? { s: value.s, n: value.n }
      : undefined;
  } catch {
    return undefined;
  }
}

function listOf<T extends string>(
  raw: string | null,
  allowed: readonly T[],
  name: string,
  problems: InputProblem[],
): T[] | undefined {
  if (raw === null || raw.trim() === "") return undefined;
  const values: T[] = [];
  for (const part of raw
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const found = allowed.find((a) => a.toLowerCase() === part.toLowerCase());
    if (found) values.push(found);
    else
      problems.push({
        path: `query.${name}`,
        code: "JOBS_QUERY_INVALID",
        message: `'${part}' is not one of ${allowed.join(", ")}`,
      });
  }
  return values;
}

/** The filters and page of a `GET /api/jobs` request. */
export interface JobQuery {
  readonly filter: JobFilter;
  readonly vault?: string;
  /** A datasource's name (`sales`, `local/sales`) when not given by ARM id. */
  readonly datasourceName?: string;
  readonly top: number;
  readonly after?: JobCursor;
}

/**
 * Reads the query string of `GET /api/jobs`.
 *
 * @throws InvalidInputError `JOBS_QUERY_INVALID` naming every bad parameter.
 */
export function parseJobQuery(query: URLSearchParams): JobQuery {
  const problems: InputProblem[] = [];
  const status = listOf(query.get("status"), jobStatuses, "status", problems);
  const operation = listOf(query.get("operation"), jobOperations, "operation", problems);
  const since = query.get("since") ?? undefined;
  if (since !== undefined && Number.isNaN(Date.parse(since))) {
    problems.push({
      path: "query.since",
      code: "JOBS_QUERY_INVALID",
      message: `'${since}' is not an ISO 8601 instant`,
    });
  }
  const topText = query.get("top");
  const top = topText === null ? jobPageSize.default : Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > jobPageSize.max) {
    problems.push({
      path: "query.top",
      code: "JOBS_QUERY_INVALID",
      message: `top must be a whole number from 1 to ${jobPageSize.max}`,
    });
  }
  const token = query.get("continuationToken");
  const after = token === null ? undefined : decodeJobCursor(token);
  if (token !== null && !after) {
    problems.push({
      path: "query.continuationToken",
      code: "JOBS_QUERY_INVALID",
      message: "the continuation token is not one this API gave out",
    });
  }
  if (problems.length > 0) {
    throw new InvalidInputError(
      "JOBS_QUERY_INVALID",
      `The job query is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      problems,
    );
  }
  const datasource = query.get("datasource")?.trim() || undefined;
  const byId = datasource?.toLowerCase().startsWith("/subscriptions/");
  return {
    filter: {
      ...(status ? { status } : {}),
      ...(operation ? { operation } : {}),
      ...(since !== undefined ? { since: new Date(since).toISOString() } : {}),
      ...(datasource && byId ? { datasourceId: datasource } : {}),
    },
    ...(query.get("vault") ? { vault: query.get("vault") as string } : {}),
    ...(datasource && !byId ? { datasourceName: datasource } : {}),
    top,
    ...(after ? { after } : {}),
  };
}

/** The `nextLink` of a page that ended at `cursor`: the request's own URL with the next token. */
export function nextJobsLink(requestUrl: string, top: number, cursor: JobCursor): string {
  const next = new URL(requestUrl);
  next.searchParams.set("continuationToken", encodeJobCursor(cursor));
  next.searchParams.set("top", String(top));
  return next.toString();
}
