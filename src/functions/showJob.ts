import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { findJob } from "../application/backupInstances.js";
import { appDependencies } from "../composition.js";
import { json, withProblemDetails } from "../http/handler.js";
import { authorize } from "../http/principal.js";

/**
 * `GET /api/jobs/{id}`: one backup or restore job by its GUID or its ARM id (the ARM id may be
 * given as is, slashes included, or URL-encoded). A restore job into a database reports how the
 * restored data compared with the recovery point (`restoreVerification`).
 */
export async function showJob(
  request: HttpRequest,
  _context: InvocationContext,
): Promise<HttpResponseInit> {
  const deps = await appDependencies();
  authorize(request, "Backup.Reader", deps.config.WEBSITE_AUTH_ENABLED);
  const raw = request.params.id ?? "";
  // A catch-all route value keeps `%2F` encoded.
  const id = /%2f/i.test(raw) ? decodeURIComponent(raw) : raw;
  const { job } = await findJob(deps, id);
  return json(200, job);
}

app.http("showJob", {
  route: "jobs/{*id}",
  methods: ["GET"],
  authLevel: "function",
  handler: withProblemDetails(showJob),
});
