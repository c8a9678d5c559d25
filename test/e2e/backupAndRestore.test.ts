import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePostgresCluster } from "../support/postgres.js";
import { poll } from "../support/poll.js";
import { functionsApi } from "../support/functionsApi.js";
import { startLocalApp, type LocalApp } from "../support/localApp.js";
import type { RunningHost } from "@pgprotect/functions-runtime";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

/** The next Sunday 22:00 UTC strictly after `now`: what a "Sunday 22:00 UTC" policy runs next. */
function nextSunday2200(now: Date): string {
  const candidate = new Date(
    Date.UTC(
      now.getUTCFullYear(),
      now.getUTCMonth(),
      now.getUTCDate() + ((7 - now.getUTCDay()) % 7),
      22,
    ),
  );
  if (candidate.getTime() <= now.getTime()) candidate.setUTCDate(candidate.getUTCDate() + 7);
  return candidate.toISOString();
}

const ordersSql = `
  SELECT id, item, amount::text, placed_at, details, photo, note
  FROM orders ORDER BY id`;

describe("backing up and restoring a database through the HTTP API on the local runtime", () => {
  let app: LocalApp;
  let stateDir: string;
  let host: RunningHost;
  let secretUri: string;
  let instanceName: string;
  let backupJob: Body;
  let restoreJob: Body;

  const api = functionsApi(() => host);
  const followJob = (statusUrl: string) =>
    poll(
      () => api("GET", statusUrl),
      (r) => r.status !== 200 || r.body.status !== "InProgress",
    );

  const spec = {
    datasourceType: "AzureDatabaseForPostgreSQL",
    schedule: { days: ["Sunday"], time: "22:00" },
    retention: { default: "P3M", monthly: { vault: "P12M" } },
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE shop");
    await postgres.query(
      "shop",
      `CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, amount numeric(12,2), placed_at timestamptz, details jsonb, photo bytea, note text);
       INSERT INTO orders
         SELECT g, 'item ' || g || ' — café', g * 1.25, timestamptz '2026-01-01 10:00+00' + g * interval '1 hour',
                jsonb_build_object('qty', g, 'tags', jsonb_build_array('a', 'b')), decode(md5(g::text), 'hex'),
                CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g END
         FROM generate_series(1, 500) g`,
    );
    app = await startLocalApp({ postgres, name: "e2e" });
    ({ host, stateDir } = app);
    secretUri = await app.provider.secrets.setSecret(
      "shop",
      postgres.cluster.connectionUrl("shop"),
    );
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("creates a policy from a short spec, answers the same spec again with it, and refuses to change it in place", async () => {
    const created = await api("PUT", "vaults/pgprotect-vault/policies/monthly-keep", { spec });
    const again = await api("PUT", "vaults/pgprotect-vault/policies/monthly-keep", { spec });
    const changed = await api("PUT", "vaults/pgprotect-vault/policies/monthly-keep", {
      spec: { ...spec, retention: { default: "P6M" } },
    });
    const listed = await api("GET", "vaults/pgprotect-vault/policies");

    expect(created.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe("POLICY_UPDATE_NOT_SUPPORTED");
    expect(String(changed.body.recommendedAction)).toContain("new policy");
    expect((listed.body.value as Body[]).map((p) => p.name)).toEqual(["monthly-keep"]);
  });

  it("protects the database, then lists it as configured with its policy and next scheduled backup", async () => {
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "shop",
      policyName: "monthly-keep",
      secretUri,
    });
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    instanceName = String(done.body.backupInstanceName);

    const listed = await api("GET", "backup-instances");

    expect(done.body).toMatchObject({ status: "Completed", outcome: "Protected" });
    expect(listed.status).toBe(200);
    expect(listed.body.value).toEqual([
      expect.objectContaining({
        name: instanceName,
        friendlyName: "local/shop",
        vaultName: "pgprotect-vault",
        kind: "database",
        protectionStatus: "ProtectionConfigured",
        policy: expect.objectContaining({ name: "monthly-keep" }),
        lastSuccessfulBackup: null,
        nextScheduledBackup: nextSunday2200(new Date()),
      }),
    ]);
  });

  it("answers a retention rule given as ruleName with 400 naming BackupWeekly, and starts no job", async () => {
    const response = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "Monthly",
    });
    const jobs = await api("GET", "jobs");

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      code: "ADHOC_RULE_IS_RETENTION_RULE",
      errors: [{ path: "$.ruleName" }],
    });
    expect(String(response.body.detail)).toContain("'BackupWeekly'");
    expect(jobs.body.value).toEqual([]);
  });

  it("runs an ad-hoc backup under the Monthly tag, followed to Completed and listed among completed jobs", async () => {
    const started = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
      retentionTagOverride: "Monthly",
    });

    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(started.body.statusUrl);
    expect(started.body).toMatchObject({
      ruleName: "BackupWeekly",
      retentionTag: "Monthly",
      status: "InProgress",
    });
    const done = await followJob(String(started.body.statusUrl));
    backupJob = done.body;
    expect(done.body).toMatchObject({
      status: "Completed",
      operation: "OnDemandBackup",
      retentionTag: "Monthly",
      id: started.body.jobId,
    });

    const followed = await poll(
      () =>
        fetch(
          `${host.url}/runtime/webhooks/durabletask/instances/${String(started.body.operationId)}`,
          { headers: { "x-functions-key": host.keys.systemKeys.durabletask_extension } },
        ).then((r) => r.json() as Promise<Body>),
      (r) => r.runtimeStatus === "Completed" || r.runtimeStatus === "Failed",
    );
    expect(followed).toMatchObject({
      runtimeStatus: "Completed",
      output: { outcome: "Completed", jobId: started.body.jobId },
    });

    const completed = await api("GET", "jobs?status=Completed");
    const inProgress = await api("GET", "jobs?status=InProgress");
    const instance = await api("GET", `backup-instances/${instanceName}`);

    expect((completed.body.value as Body[]).map((j) => j.id)).toEqual([started.body.jobId]);
    expect(inProgress.body.value).toEqual([]);
    expect(instance.body.lastSuccessfulBackup).toMatchObject({
      jobId: started.body.jobId,
      retentionTag: "Monthly",
      recoveryPointId: backupJob.recoveryPointId,
    });
    expect(instance.body.recoveryPointCount).toBe(1);
  });

  it("restores the backup into a new database, verified, with every row equal to the original", async () => {
    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetDatabaseName: "shop_restored",
    });

    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      recoveryPointId: backupJob.recoveryPointId,
      target: { kind: "database" },
    });
    const done = await followJob(String(started.body.statusUrl));
    restoreJob = done.body;
    expect(done.body).toMatchObject({
      status: "Completed",
      operation: "Restore",
      restoreVerification: { verified: true, rows: 500, mismatches: [] },
    });
    const original = await postgres.query("shop", ordersSql);
    const restored = await postgres.query("shop_restored", ordersSql);
    expect(restored).toHaveLength(500);
    expect(restored).toEqual(original);
  });

  it("refuses to restore over an existing database, and creates no job", async () => {
    const response = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetDatabaseName: "shop",
    });
    const jobs = await api("GET", "jobs");

    expect(response.status).toBe(409);
    expect(response.body.code).toBe("RESTORE_TARGET_EXISTS");
    expect((jobs.body.value as Body[]).length).toBe(2);
  });

  it("pages the job list newest first, and finds a job by its ARM id as well as its GUID", async () => {
    const first = await api("GET", "jobs?top=1");
    const second = await api("GET", String(first.body.nextLink));
    const byArmId = await api("GET", `jobs${String(backupJob.id)}`);
    const restores = await api("GET", "jobs?operation=Restore&datasource=local/shop");

    expect((first.body.value as Body[]).map((j) => j.id)).toEqual([restoreJob.id]);
    expect((second.body.value as Body[]).map((j) => j.id)).toEqual([backupJob.id]);
    expect(second.body.nextLink).toBeNull();
    expect(byArmId.body).toEqual(backupJob);
    expect((restores.body.value as Body[]).map((j) => j.id)).toEqual([restoreJob.id]);
  });

  it("restores the backup as files: the dump and its manifest, byte for byte as backed up", async () => {
    const folder = path.join(stateDir, "restores", "restored-files");

    const started = await api("POST", `backup-instances/${instanceName}/restores`, {
      targetFolder: folder,
      filePrefix: "shop-",
    });
    const done = await followJob(String(started.body.statusUrl));

    expect(done.body).toMatchObject({ status: "Completed", recoveryDestination: folder });
    const manifest = JSON.parse(
      readFileSync(path.join(folder, "shop-recovery-point.json"), "utf8"),
    ) as { files: { fileName: string; sha256: string }[] };
    const [file] = manifest.files;
    expect(file?.fileName).toMatch(/^shop-.*\.dump$/);
    const digest = createHash("sha256")
      .update(readFileSync(path.join(folder, String(file?.fileName))))
      .digest("hex");
    expect(digest).toBe(file?.sha256);
  });

  it("answers an unknown backup instance with a 404 problem", async () => {
    const response = await api("POST", "backup-instances/nope/backups", {
      ruleName: "BackupWeekly",
    });

    expect(response.status).toBe(404);
    expect(response.body.code).toBe("BACKUP_INSTANCE_NOT_FOUND");
  });
});
