/**
 * The HTTP side of restore drills: the query string of `GET /api/drills` (filters, page size and
 * the continuation token) and a drill as the API shows it (the OpenAPI schema `Drill`).
 */
import { InvalidInputError, type InputProblem } from "../domain/errors.js";
import type { DrillState } from "../application/drills.js";
import { drillVerdicts, type DrillRecord, type DrillVerdict } from "../domain/drills/drill.js";
import type { DrillCursor, DrillQuery } from "../domain/drills/query.js";
import { jobPageSize } from "./jobRequests.js";

/** The continuation token of the page after `cursor`. */
export function encodeDrillCursor(cursor: DrillCursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

function decodeDrillCursor(token: string): DrillCursor | undefined {
  try {
    const value = JSON.parse(
      Buffer.from(token, "base64url").toString("utf8"),
    ) as Partial<DrillCursor>;
    return typeof value.s === "string" &&
      typeof value.i === "string" &&
      !Number.isNaN(Date.parse(value.s))
      ? { s: value.s, i: value.i }
      : undefined;
  } catch {
    return undefined;
  }
}

const problem = (name: string, message: string): InputProblem => ({
  path: `query.${name}`,
  code: "DRILLS_QUERY_INVALID",
  message,
});

/**
 * Reads the query string of `GET /api/drills`: `verdict` (comma-separated), `instance`,
 * `schedule`, `from`, `to`, `top` and `continuationToken`.
 *
 * @throws InvalidInputError `DRILLS_QUERY_INVALID` naming every bad parameter.
 */
export function parseDrillQuery(query: URLSearchParams): DrillQuery {
  const problems: InputProblem[] = [];
  let verdict: DrillVerdict[] | undefined;
  const verdictText = query.get("verdict")?.trim();
  if (verdictText) {
    verdict = [];
    for (const part of verdictText
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "")) {
      const found = drillVerdicts.find((v) => v.toLowerCase() === part.toLowerCase());
      if (found) verdict.push(found);
      else problems.push(problem("verdict", `'${part}' is not one of ${drillVerdicts.join(", ")}`));
    }
  }
  const instant = (name: "from" | "to") => {
    const value = query.get(name) ?? undefined;
    if (value === undefined) return undefined;
    if (Number.isNaN(Date.parse(value))) {
      problems.push(problem(name, `'${value}' is not an ISO 8601 instant`));
      return undefined;
    }
    return new Date(value).toISOString();
  };
  const from = instant("from");
  const to = instant("to");
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to))
    problems.push(problem("to", "to must be after from"));
  const topText = query.get("top");
  const top = topText === null ? jobPageSize.default : Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > jobPageSize.max)
    problems.push(problem("top", `top must be a whole number from 1 to ${jobPageSize.max}`));
  const token = query.get("continuationToken");
  const after = token === null ? undefined : decodeDrillCursor(token);
  if (token !== null && !after)
    problems.push(
      problem("continuationToken", "the continuation token is not one this API gave out"),
    );
  if (problems.length > 0) {
    throw new InvalidInputError(
      "DRILLS_QUERY_INVALID",
      `The drill query is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      problems,
    );
  }
  const instance = query.get("instance")?.trim();
  const schedule = query.get("schedule")?.trim();
  return {
    ...(verdict ? { verdict } : {}),
    ...(instance ? { instance } : {}),
    ...(schedule ? { schedule } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    top,
    ...(after ? { after } : {}),
  };
}

/** The link to the page after `cursor`, keeping the request's filters. */
export function nextDrillsLink(requestUrl: string, cursor: DrillCursor): string {
  const url = new URL(requestUrl);
  url.searchParams.set("continuationToken", encodeDrillCursor(cursor));
  return url.toString();
}

/** The status URL of a drill, on the host that answers `requestUrl`. */
export function drillStatusUrl(requestUrl: string, id: string): string {
  return new URL(`/api/drills/${encodeURIComponent(id)}`, requestUrl).toString();
}

const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms / 100) / 10);

/**
 * A drill as `GET /api/drills` and `GET /api/drills/{id}` show it (schema `Drill`); with `state`
 * (the one drill's answer), where a running drill is: waiting its turn or running.
 */
export function drillView(drill: DrillRecord, requestUrl: string, state?: DrillState) {
  return {
    id: drill.id,
    backupInstanceName: drill.backupInstanceName,
    backupInstanceId: drill.backupInstanceId,
    friendlyName: drill.friendlyName,
    vaultName: drill.vaultName,
    datasourceId: drill.datasourceId,
    datasourceName: drill.datasourceName,
    schedule: drill.schedule ?? null,
    requestedBy: drill.requestedBy ?? null,
    verdict: drill.verdict,
    startTime: drill.startTime,
    endTime: drill.endTime ?? null,
    timeToRestoreSeconds: seconds(drill.timeToRestoreMs),
    recoveryPointId: drill.recoveryPointId ?? null,
    recoveryPointTime: drill.recoveryPointTime ?? null,
    restoreJobId: drill.restoreJobId ?? null,
    verification: drill.verification ?? null,
    error: drill.error
      ? {
          code: drill.error.code,
          message: drill.error.message,
          recommendedAction: drill.error.recommendedAction ?? null,
        }
      : null,
    scratchRemoved: drill.verdict === "InProgress" ? null : (drill.scratchRemoved ?? false),
    ...(state ? { state } : {}),
    // A whole server's drill: each database's own verdict; null for a drill of one database.
    databases:
      drill.databases?.map((database) => ({
        databaseName: database.databaseName,
        scratchTarget: database.scratchTarget,
        verdict: database.verdict,
        verification: database.verification ?? null,
        seconds: database.seconds ?? null,
        restoreJobId: database.restoreJobId ?? null,
        error: database.error
          ? {
              code: database.error.code,
              message: database.error.message,
              recommendedAction: database.error.recommendedAction ?? null,
            }
          : null,
      })) ?? null,
    statusUrl: drillStatusUrl(requestUrl, drill.id),
  };
}

/** A backup instance's last drill (schema `DrillSummary`). */
export function drillSummaryView(drill: DrillRecord, requestUrl: string) {
  return {
    id: drill.id,
    verdict: drill.verdict,
    startTime: drill.startTime,
    endTime: drill.endTime ?? null,
    timeToRestoreSeconds: seconds(drill.timeToRestoreMs),
    statusUrl: drillStatusUrl(requestUrl, drill.id),
  };
}
