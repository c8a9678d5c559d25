import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { policyCalendarSvg } from "../application/dashboardCalendar.js";
import { appDependencies } from "../composition.js";
import { svgContentSecurityPolicy, textResponse } from "../http/dashboard/responses.js";
import { withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/vaults/{vault}/policies/{name}/calendar.svg[?year=2027 | ?from=&to=]`: the policy's
 * retention calendar, day by day from the simulator (default window: the next 12 months).
 */
export async function getPolicyCalendar(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const param = (name: string) => {
    const value = request.query.get(name);
    return value === null ? {} : { [name]: value };
  };
  const svg = await policyCalendarSvg(
    deps,
    request.params.vault,
    request.params.name ?? "",
    { ...param("year"), ...param("from"), ...param("to") },
    new Date(),
  );
  return textResponse(svg, "image/svg+xml; charset=utf-8", svgContentSecurityPolicy);
}

app.http("getPolicyCalendar", {
  route: "vaults/{vault}/policies/{name}/calendar.svg",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(getPolicyCalendar),
});
