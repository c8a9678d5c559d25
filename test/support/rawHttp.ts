/**
 * One HTTP request sent exactly as written: the request target goes on the wire unnormalised
 * (`fetch` resolves `../` and re-encodes), so tests can send what a hostile client would.
 */
import http from "node:http";

/** An answer read whole. */
export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** What to send. */
export interface RawRequest {
  readonly method: string;
  /** The request target: path and query, sent as given. */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Abandons the request after this long (default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * Sends one request on its own connection to `origin` and reads the whole answer.
 *
 * @remarks A server may answer (413, 401) and close before it has read the body; the answer
 * counts, and the write error that follows it does not.
 */
export function rawRequest(origin: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  const body =
    request.body === undefined
      ? undefined
      : typeof request.body === "string"
        ? Buffer.from(request.body, "utf8")
        : request.body;
  const timeoutMs = request.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: hostname,
        port: Number(port),
        method: request.method,
        path: request.target,
        agent: false,
        headers: {
          ...(body !== undefined ? { "content-length": String(body.length) } : {}),
          ...request.headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    req.end(body);
  });
}
