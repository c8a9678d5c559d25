import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ApiProblemError,
  createApiClient,
  problemLine,
} from "../../../../src/cli/client/apiClient.js";
import { ClientExitCodes } from "../../../../src/cli/client/exitCodes.js";
import type { ApiTarget } from "../../../../src/cli/client/target.js";

describe("the API as the client commands call it", () => {
  let server: Server;
  let baseUrl: string;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push(request.headers);
      if (request.url?.startsWith("/api/refused")) {
        response.writeHead(409, { "content-type": "application/problem+json" });
        response.end(
          JSON.stringify({
            title: "Conflict with the current state",
            status: 409,
            detail: "A backup of local/shop is running",
            code: "BACKUP_IN_PROGRESS",
            recommendedAction: "Wait for job 42 to end.",
          }),
        );
      } else if (
        request.url?.startsWith("/api/renewed") &&
        request.headers.authorization !== "Bearer token-2"
      ) {
        response.writeHead(401, { "content-type": "application/problem+json" });
        response.end(JSON.stringify({ title: "Unauthorized", status: 401 }));
      } else if (request.url?.startsWith("/api/forbidden")) {
        response.writeHead(403, { "content-type": "text/html" });
        response.end("<html>\n<body>You do not have permission</body></html>");
      } else {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ url: request.url }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const target = (overrides: Partial<ApiTarget> = {}): ApiTarget => ({
    baseUrl,
    source: "--api",
    functionKey: "the-key",
    keySource: "PGPROTECT_KEY",
    entraScope: undefined,
    localHost: undefined,
    ...overrides,
  });

  it("sends the function key and, with an Entra scope, a bearer token for that scope", async () => {
    const scopes: string[] = [];
    const api = createApiClient(
      target({ entraScope: "api://pgprotect/.default" }),
      async (scope) => {
        scopes.push(scope);
        return "token-123";
      },
    );

    await api.get("jobs", { status: "Failed", vault: undefined });
    await api.get("jobs");

    expect(seen.at(-2)).toMatchObject({
      "x-functions-key": "the-key",
      authorization: "Bearer token-123",
    });
    expect(scopes).toEqual(["api://pgprotect/.default"]);
  });

  it("gets a new Entra token once when the API refuses the one it has, and asks again", async () => {
    let issued = 0;
    const api = createApiClient(target({ entraScope: "api://x/.default" }), async () => {
      issued += 1;
      return `token-${issued}`;
    });

    const answer = await api.get<{ url: string }>("renewed");

    expect(answer.url).toBe("/api/renewed");
    expect(issued).toBe(2);
  });

  it("leaves out query values that are not given", async () => {
    const answer = await createApiClient(target()).get<{ url: string }>("jobs", {
      status: "Failed",
      vault: undefined,
    });

    expect(answer.url).toBe("/api/jobs?status=Failed");
  });

  it("reads a problem document, and exits 3 for a refusal that is not about the caller", async () => {
    const error = await createApiClient(target())
      .post("refused", {})
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiProblemError);
    expect((error as ApiProblemError).exitCode).toBe(ClientExitCodes.refused);
    expect(problemLine((error as ApiProblemError).problem)).toBe(
      "Conflict with the current state: A backup of local/shop is running [BACKUP_IN_PROGRESS] Wait for job 42 to end.",
    );
  });

  it("exits 4 for a 403, even when what answered was not the app (no problem document)", async () => {
    const error = (await createApiClient(target())
      .get("forbidden")
      .catch((e: unknown) => e)) as ApiProblemError;

    expect(error.exitCode).toBe(ClientExitCodes.unauthorized);
    expect(problemLine(error.problem)).toBe(
      "Forbidden: <html> <body>You do not have permission</body></html>",
    );
  });

  it("says in one line, with exit 4, that no Entra token could be had", async () => {
    const api = createApiClient(target({ entraScope: "api://x/.default" }), () =>
      Promise.reject(new Error("DefaultAzureCredential failed to retrieve a token\nmore lines")),
    );

    const error = (await api.get("jobs").catch((e: unknown) => e)) as {
      exitCode: number;
      message: string;
    };

    expect(error.exitCode).toBe(ClientExitCodes.unauthorized);
    expect(error.message).toBe(
      "no Entra ID token for api://x/.default: DefaultAzureCredential failed to retrieve a token (sign in with 'az login', or set AZURE_CLIENT_ID and its credentials)",
    );
  });

  it("puts every bad input's path on the problem's one line", () => {
    expect(
      problemLine({
        title: "The request is not valid",
        status: 400,
        detail: "The body is not valid",
        code: "INVALID_BODY",
        errors: [{ path: "$.policyName", message: "Required" }],
      }),
    ).toBe(
      "The request is not valid: The body is not valid ($.policyName Required) [INVALID_BODY]",
    );
  });
});
