/**
 * The app's HTTP API as the end-to-end tests call it: through a running local host, with its
 * function key, bodies sent and read as JSON.
 */
import type { RunningHost } from "@pgprotect/functions-runtime";

/** An answer of the API, its body parsed as JSON. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/**
 * A caller of the API of the host `host()` gives (read at each call, since tests start the host
 * in `beforeAll`). `route` is under `/api/`, or a whole URL such as a `Location` header.
 */
export function functionsApi(
  host: () => Pick<RunningHost, "url" | "functionKey">,
): (method: string, route: string, body?: unknown) => Promise<ApiResponse> {
  return async (method, route, body) => {
    const { url, functionKey } = host();
    const response = await fetch(route.startsWith("http") ? route : `${url}/api/${route}`, {
      method,
      headers: { "x-functions-key": functionKey, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
}
