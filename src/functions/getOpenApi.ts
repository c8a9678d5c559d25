import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { json, withProblemDetails } from "../http/handler.js";
import { openApiDocument } from "../http/openapi.js";

/** `GET /api/openapi.json`: the OpenAPI 3.1 document of this API. Anonymous: it holds no data. */
export async function getOpenApi(
  _request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  return json(200, openApiDocument());
}

app.http("getOpenApi", {
  route: "openapi.json",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: withProblemDetails(getOpenApi),
});
