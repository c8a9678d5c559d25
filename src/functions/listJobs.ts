import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { exportJobs, listJobPage } from "../application/jobs.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { jobsCsvResponse, nextJobsLink, parseJobQuery } from "../http/jobRequests.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/jobs`: backup and restore jobs of every vault the app covers, newest first, from
 * pgprotect's own history and the vaults. Filters: `status` and `operation` (comma-separated),
 * `vault`, `instance`, `datasource` (ARM id or name), `since` (started or ended since), `from` and
 * `to` (started within). Paged by `top`; `nextLink` fetches the next page. `format=csv` (or
 * `Accept: text/csv`) exports every job of the window as CSV.
 *
 * @remarks `GET /api/jobs/{id}` reads one job from the service itself.
 */
export async function listJobs(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const query = parseJobQuery(request.query, request.headers.get("accept"));
  if (query.format === "csv") {
    const exported = await exportJobs(deps, query);
    const next = exported.next ? nextJobsLink(request.url, query.top, exported.next) : undefined;
    return jobsCsvResponse(exported.value, next);
  }
  const page = await listJobPage(deps, query);
  const nextLink = page.next ? nextJobsLink(request.url, query.top, page.next) : null;
  return json(200, { value: page.value, nextLink });
}

app.http("listJobs", {
  route: "jobs",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(listJobs),
});
