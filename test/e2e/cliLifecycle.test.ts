/**
 * The `pgprotect` lifecycle commands (`suspend`, `resume`, `change-policy`, `delete`, `deleted`,
 * `undelete`, `stop`) as a person and a script use them: the real command in child processes
 * against a running host.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  DeletedBackupInstanceView,
  LifecycleOperationView,
} from "../../src/application/lifecycle.js";
import { runPgprotect, type CliRun } from "../support/hostProcess.js";
import { startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

function json<T>(run: CliRun): T {
  expect(run.code, run.output).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe("the pgprotect lifecycle commands against a running host", () => {
  let app: LocalApp;
  /** The environment of a person in the project: only the state folder names the local host. */
  let env: NodeJS.ProcessEnv;
  let instanceName: string;

  /** The instance's lifecycle state and policy, as `pgprotect instances NAME` shows them. */
  const instance = async () =>
    json<{ protectionState: string; policy: { name: string } }>(
      await runPgprotect(["instances", instanceName, "--output", "json"], env),
    );

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query(
      "ledger",
      "CREATE TABLE entries (id int PRIMARY KEY); INSERT INTO entries SELECT generate_series(1, 50)",
    );
    app = await startLocalApp({
      postgres,
      name: "cli-lifecycle",
      policies: {
        weekly: weeklyPolicy,
        monthly: { ...weeklyPolicy, retention: { default: "P6M" } },
      },
      secrets: { ledger: postgres.cluster.connectionUrl("ledger") },
    });
    env = { PATH: process.env.PATH, PGPROTECT_STATE_DIR: app.stateDir };
    const protect = await runPgprotect(
      [
        "protect",
        "--server",
        "local",
        "--database",
        "ledger",
        "--policy",
        "weekly",
        "--secret-uri",
        app.secretUris.ledger ?? "",
        "--wait",
      ],
      env,
    );
    expect(protect.code, protect.output).toBe(0);
    instanceName = /backup instance\s+(\S+)/.exec(protect.stdout)?.[1] ?? "";
    expect(instanceName).not.toBe("");
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("suspends with --wait, a line per change on a pipe, and ends on the state reached", async () => {
    const run = await runPgprotect(["suspend", instanceName, "--wait", "--interval", "0.2"], env);

    expect(run.code, run.output).toBe(0);
    expect(run.stderr).toMatch(
      /^lifecycle-\S+: suspend of \S+ Completed, state BackupSchedulesSuspended$/m,
    );
    expect(run.stdout).toMatch(/status\s+Completed/);
    expect(run.stdout).toMatch(/state\s+BackupSchedulesSuspended/);
    expect((await instance()).protectionState).toBe("BackupSchedulesSuspended");
  });

  it("says a second suspend is already done, and exits 0 without starting an operation", async () => {
    const run = await runPgprotect(["suspend", instanceName, "--wait"], env);

    expect(run.code, run.output).toBe(0);
    expect(run.stderr).toMatch(
      /^pgprotect: \S+: already done, the instance is BackupSchedulesSuspended/,
    );
    expect(run.stdout).toMatch(/outcome\s+already done/);
    expect(run.stdout).not.toMatch(/lifecycle-/);
  });

  it("lists a suspended instance as suspended, not as stopped", async () => {
    const run = await runPgprotect(["instances"], env);

    expect(run.code, run.output).toBe(0);
    const row = run.stdout.split("\n").find((line) => line.startsWith(instanceName));
    expect(row).toMatch(/BackupSchedulesSuspended/);
  });

  it("resumes with --wait and answers the completed operation as JSON", async () => {
    const operation = json<LifecycleOperationView>(
      await runPgprotect(
        ["resume", instanceName, "--wait", "--interval", "0.2", "--output", "json"],
        env,
      ),
    );

    expect(operation).toMatchObject({
      action: "resume",
      backupInstanceName: instanceName,
      status: "Completed",
      state: "ProtectionConfigured",
      error: null,
    });
    expect((await instance()).protectionState).toBe("ProtectionConfigured");
  });

  it("moves the instance to a second policy with change-policy --wait", async () => {
    const run = await runPgprotect(
      ["change-policy", instanceName, "--policy", "monthly", "--wait", "--interval", "0.2"],
      env,
    );

    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/status\s+Completed/);
    expect((await instance()).policy.name).toBe("monthly");
  });

  it("refuses change-policy to a policy the vault lacks: one line with the code, exit 3", async () => {
    const run = await runPgprotect(["change-policy", instanceName, "--policy", "nightly"], env);

    expect(run.code, run.output).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^pgprotect: .*nightly.*\[[A-Z_]+\]/);
    expect((await instance()).policy.name).toBe("monthly");
  });

  it("deletes the instance, lists it with deleted, and undeletes it stopped", async () => {
    const deleted = await runPgprotect(
      ["delete", instanceName, "--wait", "--interval", "0.2"],
      env,
    );
    const table = await runPgprotect(["deleted"], env);
    const list = json<{ value: DeletedBackupInstanceView[] }>(
      await runPgprotect(["deleted", "--output", "json"], env),
    );
    const undeleted = await runPgprotect(
      ["undelete", instanceName, "--wait", "--interval", "0.2"],
      env,
    );
    const deletedAfter = json<{ value: DeletedBackupInstanceView[] }>(
      await runPgprotect(["deleted", "--output", "json"], env),
    );

    expect(deleted.code, deleted.output).toBe(0);
    expect(deleted.stdout).toMatch(/status\s+Completed/);
    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toMatch(
      /^NAME\s+DATASOURCE\s+VAULT\s+POLICY\s+DELETED\s+PURGED\s+UNDELETABLE/,
    );
    expect(table.stdout).toMatch(new RegExp(`${instanceName}\\s+local/ledger\\s+.*\\byes\\b`));
    expect(list.value.map((i) => [i.name, i.undeletable])).toEqual([[instanceName, true]]);
    expect(undeleted.code, undeleted.output).toBe(0);
    expect(undeleted.stdout).toMatch(/state\s+ProtectionStopped/);
    expect(deletedAfter.value).toEqual([]);
    expect((await instance()).protectionState).toBe("ProtectionStopped");
  });

  it("refuses to suspend a stopped instance: one line with the 409's code, exit 3", async () => {
    const run = await runPgprotect(["suspend", instanceName], env);

    expect(run.code, run.output).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^pgprotect: .+\[PROTECTION_STATE_CONFLICT\]/);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("stops a resumed instance with stop --wait, keeping it listed as stopped", async () => {
    const resumed = await runPgprotect(
      ["resume", instanceName, "--wait", "--interval", "0.2"],
      env,
    );

    const stopped = await runPgprotect(["stop", instanceName, "--wait", "--interval", "0.2"], env);

    expect(resumed.code, resumed.output).toBe(0);
    expect(stopped.code, stopped.output).toBe(0);
    expect(stopped.stdout).toMatch(/action\s+stop/);
    expect(stopped.stdout).toMatch(/state\s+ProtectionStopped/);
    expect((await instance()).protectionState).toBe("ProtectionStopped");
  });

  it("exits 2 when change-policy names no policy, before calling the API", async () => {
    const run = await runPgprotect(["change-policy", instanceName], env);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--policy/);
  });
});
