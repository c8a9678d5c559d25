import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { appConfig } from "../config.js";
import { dashboardPage } from "../http/dashboard/page.js";
import { dashboardContentSecurityPolicy, textResponse } from "../http/dashboard/responses.js";
import { withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/dashboard`: the dashboard page, for a caller who may read (the function key, given as
 * `?code=` when opened in a browser, and `Backup.Reader` behind App Service authentication). The
 * page holds no data and no key; its script reads the API's own routes.
 */
export async function getDashboard(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  authorize(request, "Backup.Reader", appConfig().WEBSITE_AUTH_ENABLED);
  return textResponse(dashboardPage(), "text/html; charset=utf-8", dashboardContentSecurityPolicy);
}

app.http("getDashboard", {
  route: "dashboard",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(getDashboard),
});
