/**
 * The query string of `GET /api/jobs`: filters, the window, page size, the continuation token
 * (which encodes where the previous page ended) and the format (JSON, or CSV for an export).
 */
import type { HttpResponseInit } from "@azure/functions";
import { InvalidInputError, type InputProblem } from "../domain/errors.js";
import { csvHeader, csvLines, csvMediaType } from "../domain/history/csv.js";
import type { BackupJob } from "../domain/protection/types.js";
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
  /** Jobs started at or after this instant. */
  readonly from?: string;
  /** Jobs started before this instant. */
  readonly to?: string;
  /** A backup instance by ARM id, name or friendly name. */
  readonly instance?: string;
  readonly top: number;
  readonly after?: JobCursor;
  /** `csv` exports every job of the window as CSV; `json` (the default) answers one page. */
  readonly format: "json" | "csv";
}

function instantOf(
  query: URLSearchParams,
  name: "since" | "from" | "to",
  problems: InputProblem[],
): string | undefined {
  const value = query.get(name) ?? undefined;
  if (value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value))) {
    problems.push({
      path: `query.${name}`,
      code: "JOBS_QUERY_INVALID",
      message: `'${value}' is not an ISO 8601 instant`,
    });
    return undefined;
  }
  return new Date(value).toISOString();
}

/**
 * The format asked for: `format=csv|json` first, otherwise CSV when `Accept` names `text/csv`
 * before (or without) JSON.
 */
function formatOf(
  query: URLSearchParams,
  accept: string | null,
  problems: InputProblem[],
): "json" | "csv" {
  const format = query.get("format")?.trim().toLowerCase();
  if (format === "csv" || format === "json") return format;
  if (format !== undefined) {
    problems.push({
      path: "query.format",
      code: "JOBS_QUERY_INVALID",
      message: "format must be json or csv",
    });
    return "json";
  }
  const types = (accept ?? "").split(",").map((part) => part.split(";")[0]?.trim().toLowerCase());
  const csv = types.indexOf("text/csv");
  const json = types.indexOf("application/json");
  return csv >= 0 && (json < 0 || csv < json) ? "csv" : "json";
}

/**
 * Reads the query string of `GET /api/jobs`.
 *
 * @throws InvalidInputError `JOBS_QUERY_INVALID` naming every bad parameter.
 */
export function parseJobQuery(query: URLSearchParams, accept: string | null = null): JobQuery {
  const problems: InputProblem[] = [];
  const status = listOf(query.get("status"), jobStatuses, "status", problems);
  const operation = listOf(query.get("operation"), jobOperations, "operation", problems);
  const since = instantOf(query, "since", problems);
  const from = instantOf(query, "from", problems);
  const to = instantOf(query, "to", problems);
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) {
    problems.push({
      path: "query.to",
      code: "JOBS_QUERY_INVALID",
      message: "to must be after from",
    });
  }
  const format = formatOf(query, accept, problems);
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
      ...(since !== undefined ? { since } : {}),
      ...(datasource && byId ? { datasourceId: datasource } : {}),
    },
    ...(query.get("vault") ? { vault: query.get("vault") as string } : {}),
    ...(datasource && !byId ? { datasourceName: datasource } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(query.get("instance")?.trim() ? { instance: (query.get("instance") ?? "").trim() } : {}),
    top,
    ...(after ? { after } : {}),
    format,
  };
}

/**
 * The CSV export of jobs, as an attachment; when the export stopped at its
 * row limit, a `Link` header (`rel="next"`) goes on from the last row.
 */
export function jobsCsvResponse(jobs: readonly BackupJob[], next?: string): HttpResponseInit {
  return {
    status: 200,
    headers: {
      "Content-Type": csvMediaType,
      "Content-Disposition": 'attachment; filename="jobs.csv"',
      ...(next ? { Link: `<${next}>; rel="next"` } : {}),
    },
    body: csvHeader() + csvLines(jobs),
  };
}

/** The `nextLink` of a page that ended at `cursor`: the request's own URL with the next token. */
export function nextJobsLink(requestUrl: string, top: number, cursor: JobCursor): string {
  const next = new URL(requestUrl);
  next.searchParams.set("continuationToken", encodeJobCursor(cursor));
  next.searchParams.set("top", String(top));
  return next.toString();
}
