import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";

/** Liveness probe: answers when the app has loaded and its settings are valid. */
export async function getHealth(
  _request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: { status: "ok" } };
}

app.http("getHealth", {
  route: "health",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: getHealth,
});
