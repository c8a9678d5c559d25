/**
 * What the `pgprotect` client shows of the job history's alarms, against a running host: a backup
 * taken after most rows were deleted is marked an anomaly in `instances` and `jobs`, as tables and
 * as the API's JSON; and `pgprotect policy calendar` writes an SVG file from a policy file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ManualClock } from "@pgprotect/functions-runtime";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPgprotect, type CliRun } from "../support/hostProcess.js";
import { startLocalApp, weeklyPolicy, type LocalApp } from "../support/localApp.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

function json<T>(run: CliRun): T {
  expect(run.code, run.output).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe("the pgprotect client shows the job history's alarms", () => {
  let app: LocalApp;
  let env: NodeJS.ProcessEnv;
  let instanceName = "";
  let anomalousJob = "";

  /** One pass of the job watcher, which records jobs and raises alarms. */
  const runWatcher = async () => {
    const response = await fetch(`${app.host.url}/admin/functions/timerWatchJobs`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-functions-key": app.host.keys.masterKey },
      body: "{}",
    });
    expect(response.status).toBe(202);
    await app.host.timers.idle();
  };

  const backUp = async () => {
    const run = await runPgprotect(["backup", instanceName, "--wait", "--output", "json"], env);
    return json<Body>(run);
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE shop");
    await postgres.query(
      "shop",
      `CREATE TABLE orders (id int PRIMARY KEY, note text);
       INSERT INTO orders SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 20000) g`,
    );
    app = await startLocalApp({
      postgres,
      name: "cli-alarms",
      policies: { weekly: weeklyPolicy },
      secrets: { shop: postgres.cluster.connectionUrl("shop") },
      // Timers on a clock that never moves: the job watcher runs only when the test runs it.
      timers: true,
      clock: new ManualClock(new Date()),
    });
    env = { PATH: process.env.PATH, PGPROTECT_STATE_DIR: app.stateDir };
    const protect = await runPgprotect(
      [
        "protect",
        "--server",
        "local",
        "--database",
        "shop",
        "--policy",
        "weekly",
        "--secret-uri",
        app.secretUris.shop ?? "",
        "--wait",
      ],
      env,
    );
    expect(protect.code, protect.output).toBe(0);
    instanceName = /backup instance\s+(\S+)/.exec(protect.stdout)?.[1] ?? "";

    expect((await backUp()).status).toBe("Completed");
    await runWatcher();
    await postgres.query("shop", "DELETE FROM orders WHERE id > 200");
    const second = await backUp();
    expect(second.status).toBe("Completed");
    anomalousJob = String(second.name);
    const marked = await poll(
      async () => {
        await runWatcher();
        return json<{ value: Array<{ alarms?: { anomaly: Body | null } }> }>(
          await runPgprotect(["instances", "--output", "json"], env),
        );
      },
      (list) => Boolean(list.value[0]?.alarms?.anomaly),
      150_000,
    );
    expect(marked.value[0]?.alarms?.anomaly).toMatchObject({ jobName: anomalousJob });
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("marks the item needing attention in the instances table", async () => {
    const table = await runPgprotect(["instances"], env);

    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+DATASOURCE\s+VAULT\s+STATE\s+.*\s+ATTENTION$/m);
    const row = table.stdout.split("\n").find((line) => line.startsWith(instanceName));
    expect(row).toMatch(/\sanomaly$/);
  });

  it("marks the anomalous backup in the jobs table and gives the numbers in the API's JSON", async () => {
    const table = await runPgprotect(["jobs"], env);
    const list = json<{ value: Array<{ name: string; alarms: Body[] }> }>(
      await runPgprotect(["jobs", "--output", "json"], env),
    );

    expect(table.code, table.output).toBe(0);
    expect(table.stdout).toMatch(/^JOB\s+OPERATION\s+STATUS\s+.*\s+ALARMS$/m);
    const rows = table.stdout.split("\n").slice(1);
    expect(rows.filter((line) => line.endsWith(" anomaly"))).toEqual([
      expect.stringMatching(new RegExp(`^${anomalousJob}\\s`)) as string,
    ]);
    const marked = list.value.find((job) => job.name === anomalousJob);
    expect(marked?.alarms).toEqual([
      expect.objectContaining({
        kind: "anomaly",
        summary: expect.stringMatching(/^Size down to [\d.]+ % of the usual: size /) as string,
      }),
    ]);
    expect(list.value.filter((job) => job.alarms.length === 0)).toHaveLength(1);
  });

  it("writes a policy's retention calendar as an SVG file, offline, from the policy file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pgprotect-calendar-"));
    try {
      writeFileSync(path.join(dir, "spec.json"), JSON.stringify(weeklyPolicy));
      const policy = await runPgprotect(
        ["policy", "compile", "--spec", path.join(dir, "spec.json")],
        env,
      );
      writeFileSync(path.join(dir, "weekly.json"), policy.stdout);

      const run = await runPgprotect(
        ["policy", "calendar", "--policy", path.join(dir, "weekly.json"), "--year", "2027"],
        { PATH: process.env.PATH },
      );
      writeFileSync(path.join(dir, "calendar.svg"), run.stdout);

      expect(run.code, run.stderr).toBe(0);
      const svg = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" }).parse(
        readFileSync(path.join(dir, "calendar.svg"), "utf8"),
      ) as { svg: { g: Array<Record<string, string>> } };
      const days = svg.svg.g.filter((g) => g["@_class"] === "day");
      expect(days).toHaveLength(365);
      expect(days.filter((day) => day["@_data-backups"] !== "0")).toHaveLength(52);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
