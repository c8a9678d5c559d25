/**
 * The HTTP API as the client commands call it: JSON in and out, the function key and, behind App
 * Service authentication, an Entra ID token; refusals read as RFC 9457 problem documents.
 */
import { ClientExitCodes } from "./exitCodes.js";
import { ClientError, hostProcessRuns, type ApiTarget } from "./target.js";

/** A problem document as the API answers it (the members the client reads). */
export interface Problem {
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly code?: string;
  readonly recommendedAction?: string;
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>;
}

/** The API answered with an error status. */
export class ApiProblemError extends Error {
  override readonly name = "ApiProblemError";
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }

  /** 401 and 403 are the caller's credentials; anything else is the request or the app. */
  get exitCode(): number {
    return this.problem.status === 401 || this.problem.status === 403
      ? ClientExitCodes.unauthorized
      : ClientExitCodes.refused;
  }
}

/** Gets a bearer token for a scope (DefaultAzureCredential by default; tests pass their own). */
export type TokenSource = (scope: string) => Promise<string>;

/** A token from `@azure/identity`'s DefaultAzureCredential, loaded only when asked for. */
export const defaultAzureToken: TokenSource = async (scope) => {
  const { DefaultAzureCredential } = await import("@azure/identity");
  const token = await new DefaultAzureCredential().getToken(scope);
  if (!token) throw new Error(`no token was issued for ${scope}`);
  return token.token;
};

/** The API, as the commands use it. */
export interface ApiClient {
  readonly target: ApiTarget;
  /** GETs `route` (under `/api/`) with the query's defined values. */
  get<T>(route: string, query?: Readonly<Record<string, string | undefined>>): Promise<T>;
  /** POSTs `body` as JSON to `route`. */
  post<T>(route: string, body: unknown): Promise<T>;
  /** PUTs `body` as JSON to `route`. */
  put<T>(route: string, body: unknown): Promise<T>;
  /** DELETEs `route` with the query's defined values. */
  delete<T>(route: string, query?: Readonly<Record<string, string | undefined>>): Promise<T>;
}

/** How long one request may take before the API counts as unreachable. */
const requestTimeoutMs = 30_000;

function readProblem(status: number, statusText: string, text: string): Problem {
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body === "object" && typeof body.title === "string")
      return { ...body, title: body.title, status: body.status ?? status };
  } catch {
    // Not JSON: an answer from something in front of the app (a proxy, App Service).
  }
  const detail = text.trim().replace(/\s+/g, " ").slice(0, 200);
  return { title: statusText || `HTTP ${status}`, status, ...(detail ? { detail } : {}) };
}

/** Why a request got no answer, in a few words (the cause's code where Node gives one). */
function unreachableReason(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string } };
  if (err.name === "TimeoutError") return `no answer within ${requestTimeoutMs / 1000} s`;
  return err.cause?.code ?? err.message ?? "no answer";
}

/** Builds the client for a resolved target. */
export function createApiClient(
  target: ApiTarget,
  tokenSource: TokenSource = defaultAzureToken,
): ApiClient {
  let token: Promise<string> | undefined;
  const bearer = async (): Promise<string | undefined> => {
    const scope = target.entraScope;
    if (!scope) return undefined;
    token ??= tokenSource(scope).catch((error: unknown) => {
      const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
      throw new ClientError(
        `no Entra ID token for ${scope}: ${reason} (sign in with 'az login', or set AZURE_CLIENT_ID and its credentials)`,
        ClientExitCodes.unauthorized,
      );
    });
    return token;
  };

  const send = async <T>(
    method: string,
    url: string,
    body?: unknown,
    renewed = false,
  ): Promise<T> => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (target.functionKey) headers["x-functions-key"] = target.functionKey;
    const accessToken = await bearer();
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      const host = target.localHost;
      const hint =
        host && !hostProcessRuns(host)
          ? `; the host that wrote ${host.lockFile} (PID ${host.pid}) is not running: start it with 'npm start'`
          : host
            ? "; is the local host running? (npm start)"
            : "";
      throw new ClientError(
        `cannot reach the API at ${target.baseUrl} (${unreachableReason(error)})${hint}`,
        ClientExitCodes.unreachable,
      );
    }
    // A bearer token expires (about an hour) while `--watch` or a long wait keeps polling: on a 401,
    // get a new one once and ask again.
    if (response.status === 401 && accessToken && !renewed) {
      token = undefined;
      return send<T>(method, url, body, true);
    }
    const text = await response.text();
    if (!response.ok)
      throw new ApiProblemError(readProblem(response.status, response.statusText, text));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ClientError(
        `the API at ${target.baseUrl} answered ${method} ${new URL(url).pathname} with something that is not JSON`,
        ClientExitCodes.refused,
      );
    }
  };

  const urlOf = (route: string, query?: Readonly<Record<string, string | undefined>>): string => {
    const url = new URL(`${target.baseUrl}/${route.replace(/^\/+/, "")}`);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined && value !== "") url.searchParams.set(name, value);
    return url.toString();
  };

  return {
    target,
    get: (route, query) => send("GET", urlOf(route, query)),
    post: (route, body) => send("POST", urlOf(route), body),
    put: (route, body) => send("PUT", urlOf(route), body),
    delete: (route, query) => send("DELETE", urlOf(route, query)),
  };
}

/** A problem document as one line: title, detail, code, and what to do. */
export function problemLine(problem: Problem): string {
  const parts = [problem.title];
  if (problem.detail && problem.detail !== problem.title) parts.push(problem.detail);
  let line = parts.join(": ");
  const paths = (problem.errors ?? [])
    .filter((e) => e.message && !line.includes(e.message))
    .map((e) => `${e.path} ${e.message}`);
  if (paths.length > 0) line += ` (${paths.join("; ")})`;
  if (problem.code) line += ` [${problem.code}]`;
  if (problem.recommendedAction) line += ` ${problem.recommendedAction}`;
  return line.replace(/\s*\n\s*/g, " ");
}
