import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import {
  createVaultDirectory,
  setAppDependencies,
  type AppDependencies,
} from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import type { BackupJob } from "../../../src/domain/protection/types.js";
import { listJobs } from "../../../src/functions/listJobs.js";
import { withProblemDetails } from "../../../src/http/handler.js";
import { openSqliteJobHistory } from "../../../src/providers/history/sqliteJobHistory.js";
import type { Provider } from "../../../src/providers/ports.js";
import { jobAt } from "../../support/jobHistoryContract.js";
import { VAULT_ID } from "../../support/notificationFixtures.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  setAppDependencies(undefined);
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The app with a vault that shows `live` and a history holding `recorded`. */
async function useApp(live: BackupJob[], recorded: BackupJob[]) {
  const folder = await mkdtemp(path.join(tmpdir(), "pgprotect-list-jobs-"));
  const history = await openSqliteJobHistory(folder);
  cleanups.push(async () => {
    history.close();
    await rm(folder, { recursive: true, force: true });
  });
  await history.recordJobs(recorded);
  setAppDependencies({
    config: loadConfig({}),
    provider: { backup: { listJobs: async () => live } } as unknown as Provider,
    vaults: createVaultDirectory({ BACKUP_VAULT_IDS: VAULT_ID, PGPROTECT_PROVIDER: "azure" }),
    history,
  } as unknown as AppDependencies);
}

async function get(url: string, accept?: string) {
  const request = new HttpRequest({
    method: "GET",
    url: `http://localhost:7071${url}`,
    headers: accept ? { accept } : {},
  });
  const response = (await withProblemDetails(listJobs)(
    request,
    new InvocationContext({ functionName: "test" }),
  )) as HttpResponseInit;
  const headers = new Headers(response.headers as Record<string, string>);
  const body =
    response.jsonBody === undefined
      ? String(response.body ?? "")
      : JSON.stringify(response.jsonBody);
  return { status: response.status, headers, body };
}

describe("GET /api/jobs over the job history", () => {
  it("answers a window older than anything the vault still shows, in today's shape", async () => {
    // Arrange
    await useApp(
      [jobAt("recent", "2026-11-20T00:00:00.000Z", 2)],
      [jobAt("last-year", "2025-11-20T00:00:00.000Z", 2)],
    );

    // Act
    const response = await get("/api/jobs?from=2025-11-01T00:00:00Z&to=2025-12-01T00:00:00Z");

    // Assert
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body) as { value: BackupJob[]; nextLink: string | null };
    expect(body.value.map((job) => job.name)).toEqual(["last-year"]);
    expect(body.value[0]).toMatchObject({ status: "Completed", vaultName: "vault-prod" });
    expect(body.nextLink).toBeNull();
  });

  it("exports every job of the window as a CSV attachment when asked by Accept or format", async () => {
    // Arrange: more jobs than one page holds.
    const recorded = Array.from({ length: 60 }, (_, i) =>
      jobAt(`j${String(i).padStart(2, "0")}`, new Date(Date.UTC(2025, 0, 1, i)).toISOString(), 1),
    );
    await useApp([], recorded);

    // Act
    const byAccept = await get("/api/jobs?top=10", "text/csv");
    const byFormat = await get("/api/jobs?format=csv&status=Completed");

    // Assert
    expect(byAccept.status).toBe(200);
    expect(byAccept.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(byAccept.headers.get("content-disposition")).toBe('attachment; filename="jobs.csv"');
    const lines = byAccept.body.trimEnd().split("\r\n");
    expect(lines).toHaveLength(61);
    expect(lines[0]?.startsWith("jobName,vault,operation,status,")).toBe(true);
    expect(lines[1]?.startsWith("j59,vault-prod,OnDemandBackup,Completed,")).toBe(true);
    expect(byFormat.body).toBe(byAccept.body);
  });
});
