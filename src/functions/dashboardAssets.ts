import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { NotFoundError } from "../domain/errors.js";
import { dashboardContentSecurityPolicy, textResponse } from "../http/dashboard/responses.js";
import { dashboardScript } from "../http/dashboard/script.js";
import { dashboardStyles } from "../http/dashboard/styles.js";
import { withProblemDetails } from "../http/handler.js";

const assets: Readonly<Record<string, { body: string; contentType: string }>> = {
  "dashboard.js": { body: dashboardScript, contentType: "text/javascript; charset=utf-8" },
  "dashboard.css": { body: dashboardStyles, contentType: "text/css; charset=utf-8" },
};

/**
 * `GET /api/dashboard/{asset}`: the dashboard's script and style sheet. Anonymous, as
 * `/api/openapi.json` is: they are the same for everyone and hold no data, and a browser loads
 * them without the key (which the page never writes into its HTML).
 */
export async function getDashboardAsset(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const name = request.params.asset ?? "";
  const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
  if (!asset) {
    throw new NotFoundError("DASHBOARD_ASSET_NOT_FOUND", "The dashboard has no such file", {
      recommendedAction: "Open the dashboard at /api/dashboard",
    });
  }
  return textResponse(asset.body, asset.contentType, dashboardContentSecurityPolicy, "no-cache");
}

app.http("getDashboardAsset", {
  route: "dashboard/{asset}",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: withProblemDetails(getDashboardAsset),
});
