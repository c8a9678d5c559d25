import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { checkAppHealth } from "../http/health.js";
import { problemResponse } from "../http/problemDetails.js";

/**
 * Health probe: 200 `{status: "ok", provider}` while the configured provider can serve, else 503
 * problem details saying what is down (locally: the provider did not start, or its PostgreSQL does
 * not answer), with the provider named in both.
 */
export async function getHealth(
  _request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const { provider, problem } = await checkAppHealth();
  if (!problem) return { status: 200, jsonBody: { status: "ok", provider } };
  const response = problemResponse(problem);
  return {
    ...response,
    body: JSON.stringify({ ...(JSON.parse(String(response.body)) as object), provider }),
  };
}

app.http("getHealth", {
  route: "health",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: getHealth,
});
