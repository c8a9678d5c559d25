/**
 * `GET /api/drills`: restore drills, newest first, with verdict and time to restore. Filters:
 * `verdict` (comma-separated), `instance`, `schedule`, `from` and `to`. Paged by `top`; `nextLink`
 * fetches the next page. `GET /api/drills/{id}` reads one.
 */
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { listDrillPage } from "../application/drills.js";
import { appDependencies } from "../composition.js";
import { drillView, nextDrillsLink, parseDrillQuery } from "../http/drillRequests.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/** Answers one page of drills. */
export async function listDrills(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const page = await listDrillPage(deps, parseDrillQuery(request.query));
  return json(200, {
    value: page.value.map((drill) => drillView(drill, request.url)),
    nextLink: page.next ? nextDrillsLink(request.url, page.next) : null,
  });
}

app.http("listDrills", {
  route: "drills",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listDrills),
});
