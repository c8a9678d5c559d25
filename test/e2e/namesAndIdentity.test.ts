/**
 * Names and identity through the app on the local runtime: databases that differ only in case or
 * characters are protected apart, a repeat with other settings is refused, vault and policy names
 * resolve as Azure's do (without regard to case, never creating a vault), and names outside the
 * service's rules are 400s naming the rule.
 */
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionsApi } from "../support/functionsApi.js";
import { projectDir, startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import type { RunningHost } from "@pgprotect/functions-runtime";
import type { LocalProvider } from "../../src/providers/local/index.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();
const run = promisify(execFile);

const weeklySpec = { spec: weeklyPolicy };
const dailyLookingSpec = {
  spec: {
    datasourceType: "AzureDatabaseForPostgreSQL",
    schedule: { days: ["Wednesday"], time: "03:00" },
    retention: { default: "P6M" },
  },
};

/** Databases whose names an earlier version folded into one protection id, pair by pair. */
const lookalikes = ["Demo", "demo", "sales-eu", "sales_eu", "Ventes_Zoë_東京", "Ventes_Zoé_東京"];

describe("names and identity through the HTTP API on the local runtime", () => {
  let app: LocalApp;
  let stateDir: string;
  let host: RunningHost;
  let provider: LocalProvider;
  const secrets = new Map<string, string>();
  const api = functionsApi(() => host);

  const vaultFolders = () => readdir(path.join(stateDir, "vaults"));

  const protect = async (databaseName: string, policyName = "weekly") =>
    api("POST", "protections", {
      serverName: "local",
      databaseName,
      policyName,
      secretUri: secrets.get(databaseName),
    });

  beforeAll(async () => {
    for (const name of lookalikes) {
      await postgres.query("postgres", `CREATE DATABASE "${name}"`);
      await postgres.query(name, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
    }
    app = await startLocalApp({ postgres, name: "e2e-names" });
    ({ host, stateDir, provider } = app);
    for (const [index, name] of lookalikes.entries()) {
      secrets.set(
        name,
        await provider.secrets.setSecret(`db-${index}`, postgres.cluster.connectionUrl(name)),
      );
    }
    const policy = await api("PUT", "vaults/pgprotect-vault/policies/weekly", weeklySpec);
    expect(policy.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("protects Demo and demo, sales-eu and sales_eu, Ventes_Zoë_東京 and Ventes_Zoé_東京 each with its own backup instance", async () => {
    // Act: one after another, as the second of each pair used to be answered "existing".
    const outcomes: Record<string, unknown>[] = [];
    for (const name of lookalikes) {
      const started = await protect(name);
      expect(started.status).toBe(202);
      expect(started.body.existing).toBe(false);
      const done = await poll(
        () => api("GET", `protections/${String(started.body.id)}`),
        (r) => r.body.status === "Completed" || r.body.status === "Failed",
      );
      outcomes.push(done.body);
    }

    // Assert
    expect(outcomes.map((o) => o.outcome)).toEqual(lookalikes.map(() => "Protected"));
    const listed = await api("GET", "backup-instances");
    const friendlyNames = (listed.body.value as { friendlyName: string }[])
      .map((i) => i.friendlyName)
      .sort();
    expect(friendlyNames).toEqual(lookalikes.map((name) => `local/${name}`).sort());
    const names = (listed.body.value as { name: string }[]).map((i) => i.name);
    expect(new Set(names).size).toBe(lookalikes.length);
  });

  it("answers a repeat with the same settings as the existing protection, and one with another policy with 409 naming it", async () => {
    // Arrange
    const other = await api("PUT", "vaults/pgprotect-vault/policies/midweek", dailyLookingSpec);
    expect(other.status).toBe(201);

    // Act
    const same = await protect("demo");
    const differing = await protect("demo", "midweek");

    // Assert
    expect(same.status).toBe(202);
    expect(same.body).toMatchObject({ existing: true, status: "Completed" });
    expect(differing.status).toBe(409);
    expect(differing.headers.get("content-type")).toBe("application/problem+json");
    expect(differing.body.code).toBe("PROTECTION_EXISTS_WITH_OTHER_SETTINGS");
    expect(String(differing.body.detail)).toContain(String(same.body.id));
    expect(String(differing.body.detail)).toContain("policy 'weekly' (this request: 'midweek')");
    expect(String(differing.body.recommendedAction)).toMatch(/update-policy|stop its protection/);
    expect(
      await provider.backup.listBackupInstances(provider.backup.vaultId("pgprotect-vault")),
    ).toHaveLength(lookalikes.length);
  });

  it("answers a vault that does not exist with 404 and creates no folder, whether protecting or storing a policy", async () => {
    // Arrange
    const before = await vaultFolders();

    // Act
    const policy = await api("PUT", "vaults/no-such-vault/policies/weekly", weeklySpec);
    const protection = await api("POST", "protections", {
      serverName: "local",
      databaseName: "demo",
      policyName: "weekly",
      vaultName: "no-such-vault",
      secretUri: secrets.get("demo"),
    });

    // Assert
    expect(policy.status).toBe(404);
    expect(policy.body.code).toBe("VAULT_NOT_FOUND");
    expect(String(policy.body.recommendedAction)).toContain(
      "pgprotect local vault create no-such-vault",
    );
    expect(protection.status).toBe(404);
    expect(protection.body.code).toBe("VAULT_NOT_FOUND");
    expect(await vaultFolders()).toEqual(before);
  });

  it("takes PGPROTECT-VAULT as the vault pgprotect-vault, never a second folder", async () => {
    // Act
    const policy = await api("PUT", "vaults/PGPROTECT-VAULT/policies/weekly", weeklySpec);
    const listed = await api("GET", "backup-instances?vault=PGPROTECT-VAULT");

    // Assert
    expect(policy.status).toBe(200);
    expect(policy.body.name).toBe("weekly");
    expect(listed.status).toBe(200);
    expect(listed.body.value).toHaveLength(lookalikes.length);
    expect(await vaultFolders()).toEqual(["pgprotect-vault"]);
  });

  it("takes WEEKLY as the policy weekly: the same policy answers 200, another one 409", async () => {
    // Act
    const same = await api("PUT", "vaults/pgprotect-vault/policies/WEEKLY", weeklySpec);
    const changed = await api("PUT", "vaults/pgprotect-vault/policies/WEEKLY", dailyLookingSpec);
    const listed = await api("GET", "vaults/pgprotect-vault/policies");

    // Assert
    expect(same.status).toBe(200);
    expect(same.body.name).toBe("weekly");
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe("POLICY_UPDATE_NOT_SUPPORTED");
    const names = (listed.body.value as { name: string }[]).map((p) => p.name).sort();
    expect(names).toEqual(["midweek", "weekly"]);
  });

  it("answers a 300-character backup instance name with 400 naming the rule, never a 500", async () => {
    const name = "a".repeat(300);

    const shown = await api("GET", `backup-instances/${name}`);
    const backup = await api("POST", `backup-instances/${name}/backups`, {
      ruleName: "BackupWeekly",
    });

    for (const response of [shown, backup]) {
      expect(response.status).toBe(400);
      expect(response.body.code).toBe("BACKUP_INSTANCE_NAME_INVALID");
      expect(JSON.stringify(response.body.errors)).toContain("1-200 characters");
    }
  });

  it("refuses to restore into template1 or postgres with 400 saying why, and starts no job", async () => {
    // Arrange: a recovery point to restore.
    const listed = await api("GET", "backup-instances");
    const demo = (listed.body.value as { name: string; friendlyName: string }[]).find(
      (i) => i.friendlyName === "local/demo",
    );
    const instance = String(demo?.name);
    const backup = await api("POST", `backup-instances/${instance}/backups`, {
      ruleName: "BackupWeekly",
    });
    expect(backup.status).toBe(202);
    await poll(
      () => api("GET", `jobs/${String(backup.body.jobName ?? backup.body.jobId)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
    );
    const jobsBefore = (await api("GET", "jobs")).body.value as unknown[];

    // Act
    const template = await api("POST", `backup-instances/${instance}/restores`, {
      targetDatabaseName: "template1",
    });
    const maintenance = await api("POST", `backup-instances/${instance}/restores`, {
      targetDatabaseName: "postgres",
    });

    // Assert
    expect(template.status).toBe(400);
    expect(template.body.code).toBe("TARGET_DATABASE_NAME_INVALID");
    expect(String(template.body.detail)).toContain("template database");
    expect(maintenance.status).toBe(400);
    expect(String(maintenance.body.detail)).toContain("maintenance database");
    expect((await api("GET", "jobs")).body.value).toHaveLength(jobsBefore.length);
  });

  it("stores policies in a vault made with pgprotect local vault create, and refuses a bad name in one line", async () => {
    // Arrange
    const env = { ...process.env, PGPROTECT_STATE_DIR: stateDir };
    const cli = path.join(projectDir, "bin", "pgprotect.js");

    // Act
    const created = await run(
      process.execPath,
      [cli, "local", "vault", "create", "Archive-Vault"],
      {
        env,
      },
    );
    const refused = await run(process.execPath, [cli, "local", "vault", "create", "../x"], {
      env,
    }).catch((error: { code: number; stderr: string }) => error);
    const policy = await api("PUT", "vaults/archive-vault/policies/weekly", weeklySpec);

    // Assert
    expect(created.stdout).toMatch(/backupVaults\/Archive-Vault\n$/);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(
      /^pgprotect local: VAULT_NAME_INVALID: [^\n]*\n$/,
    );
    expect(policy.status).toBe(201);
    expect((await vaultFolders()).sort()).toEqual(["Archive-Vault", "pgprotect-vault"]);
  });
});
