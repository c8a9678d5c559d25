/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core), after a scenario
 * on the local runtime with App Service authentication on: a database protected and backed up,
 * then backed up again after most of its rows were deleted (an anomaly), then backed up while a
 * lock holds its table (a stuck job); a database protected ten days ago whose backup fails (a
 * failed job and an overdue item); one protected and suspended, one protected and deleted; and a
 * weekly policy. Checks what a person sees and can do by keyboard, and saves a screenshot.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
import pg from "pg";
import { ManualClock } from "@pgprotect/functions-runtime";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupInstanceNameFor, datasourceTargetOf } from "../../src/domain/protection/naming.js";
import type { PolicySpec } from "../../src/domain/policy/spec.js";
import { formatDatabaseId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import { createLocalProvider } from "../../src/providers/local/index.js";
import { clientPrincipalHeader } from "../support/clientPrincipal.js";
import {
  defaultVaultId,
  projectDir,
  startLocalApp,
  weeklyPolicy,
  type LocalApp,
} from "../support/localApp.js";
import { instanceSpec } from "../support/localProvider.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const postgres = usePostgresCluster();
const operator = clientPrincipalHeader(["Backup.Operator"], "operator@contoso.example");
const reader = clientPrincipalHeader(["Backup.Reader"], "reader@contoso.example");
const tenDaysMs = 10 * 86_400_000;
/** Sundays 22:00 UTC; a month's first backup kept 6 months in the vault, then 24 in the archive. */
const monthlyArchivePolicy: PolicySpec = {
  datasourceType: "AzureDatabaseForPostgreSQL",
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P1M", monthly: { vault: "P6M", archive: "P24M" } },
};

type Body = Record<string, unknown>;

describe("the dashboard in a real browser, after a scenario on the local runtime", () => {
  let app: LocalApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const hostLines: string[] = [];
  let pageHtml = "";
  let shopName = "";
  let stuckJobId = "";
  let locker: pg.Client | undefined;
  const alarmsOf = (item: Body | undefined) =>
    item?.alarms as { stuck: Body | null; anomaly: Body | null } | undefined;

  /** Calls the API as an Operator. */
  const api = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${app.host.url}/api/${route}`, {
      method,
      headers: {
        "x-functions-key": app.host.functionKey,
        "x-ms-client-principal": operator,
        "content-type": "application/json",
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Body };
  };

  const startBackup = async (instanceName: string) => {
    const started = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return String(started.body.jobId);
  };

  const backUpAndWait = async (instanceName: string) => {
    const jobId = await startBackup(instanceName);
    return poll(
      () => api("GET", `jobs/${encodeURIComponent(jobId)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
      120_000,
    );
  };

  /** Protects a database of the local server with the weekly policy; answers the instance's name. */
  const protect = async (databaseName: string) => {
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName,
      policyName: "weekly",
      secretUri: app.secretUris[databaseName],
    });
    const done = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
      120_000,
    );
    expect(done.body).toMatchObject({ status: "Completed" });
    return String(done.body.backupInstanceName);
  };

  /** Runs a lifecycle action and waits for its operation to complete. */
  const lifecycle = async (method: string, route: string) => {
    const answer = await api(method, route, method === "DELETE" ? undefined : {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const done = await poll(
      () => api("GET", `lifecycle-operations/${String(answer.body.operationId)}`),
      (r) => r.body.status !== "Running",
      120_000,
    );
    expect(done.body).toMatchObject({ status: "Completed" });
  };

  /** One pass of the job watcher, which records jobs in the history and raises its alarms. */
  const runWatcher = async () => {
    const response = await fetch(`${app.host.url}/admin/functions/timerWatchJobs`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-functions-key": app.host.keys.masterKey },
      body: "{}",
    });
    expect(response.status).toBe(202);
    await app.host.timers.idle();
  };

  /** The shop item as the API lists it, after watcher passes until `seen` holds. */
  const watchShopUntil = (seen: (shop: Body | undefined) => boolean) =>
    poll(
      async () => {
        await runWatcher();
        const list = await api("GET", "backup-instances");
        return (list.body.value as Body[]).find((item) => item.friendlyName === "local/shop");
      },
      seen,
      150_000,
    );

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE shop");
    await postgres.query(
      "shop",
      `CREATE TABLE orders (id int PRIMARY KEY, note text);
       INSERT INTO orders SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 20000) g`,
    );
    await postgres.query("postgres", "CREATE DATABASE ledger");
    await postgres.query("postgres", "CREATE DATABASE crm");
    await postgres.query("postgres", "CREATE DATABASE legacy");
    app = await startLocalApp({
      postgres,
      name: "e2e-dashboard",
      secrets: {
        shop: postgres.cluster.connectionUrl("shop"),
        crm: postgres.cluster.connectionUrl("crm"),
        legacy: postgres.cluster.connectionUrl("legacy"),
      },
      policies: { weekly: weeklyPolicy, "monthly-archive": monthlyArchivePolicy },
      // A job running a minute past its short usual time is stuck.
      settings: { WEBSITE_AUTH_ENABLED: "true", STUCK_JOB_FLOOR_MINUTES: "1" },
      // Timers on a clock that never moves: the job watcher runs only when the test runs it.
      timers: true,
      clock: new ManualClock(new Date()),
      log: (line) => hostLines.push(line),
    });

    // shop: protected now and backed up in full, then again once most of its rows are gone.
    shopName = await protect("shop");
    const shopBackup = await backUpAndWait(shopName);
    expect(shopBackup.body.status).toBe("Completed");
    await runWatcher();
    await postgres.query("shop", "DELETE FROM orders WHERE id > 200");
    expect((await backUpAndWait(shopName)).body.status).toBe("Completed");
    const anomalous = await watchShopUntil((shop) => Boolean(alarmsOf(shop)?.anomaly));
    expect(alarmsOf(anomalous)?.anomaly).toMatchObject({ kind: "anomaly" });

    // A restore drill of shop, on demand: restored, verified, timed and cleaned up.
    const drill = await api("POST", `backup-instances/${shopName}/drills`, {});
    expect(drill.status, JSON.stringify(drill.body)).toBe(202);
    const drilled = await poll(
      () => api("GET", `drills/${encodeURIComponent(String(drill.body.id))}`),
      (r) => r.body.verdict !== "InProgress",
      120_000,
    );
    expect(drilled.body).toMatchObject({ verdict: "Succeeded" });

    // crm: protected, then its backups suspended; legacy: protected, then deleted.
    const crmName = await protect("crm");
    await lifecycle("POST", `backup-instances/${crmName}/suspend`);
    const legacyName = await protect("legacy");
    await lifecycle("DELETE", `backup-instances/${legacyName}`);

    // ledger: protected ten days ago, as an operator would have, and never backed up since.
    const past = await createLocalProvider({
      stateDir: app.stateDir,
      servers: [{ name: "local", connectionString: postgres.cluster.connectionUrl() }],
      binDir: postgres.cluster.binDir,
      now: () => new Date(Date.now() - tenDaysMs),
    });
    const policy = await past.backup.getPolicy(defaultVaultId, "weekly");
    const secretUri = await past.secrets.setSecret(
      "ledger",
      postgres.cluster.connectionUrl("ledger"),
    );
    const datasourceId = formatDatabaseId({
      ...LOCAL_SCOPE,
      kind: "servers",
      serverName: "local",
      databaseName: "ledger",
    });
    const ledgerName = backupInstanceNameFor(datasourceTargetOf(datasourceId), randomUUID());
    await past.backup.createBackupInstance(
      defaultVaultId,
      ledgerName,
      instanceSpec(datasourceId, policy.id ?? "", secretUri),
    );
    const configured = await poll(
      () => api("GET", `backup-instances/${ledgerName}`),
      (r) => r.body.protectionStatus === "ProtectionConfigured",
    );
    expect(configured.body.protectionStatus).toBe("ProtectionConfigured");
    // Its database is gone: the next backup fails.
    await postgres.query("postgres", "DROP DATABASE ledger");
    const ledgerBackup = await backUpAndWait(ledgerName);
    expect(ledgerBackup.body.status).toBe("Failed");

    // shop again: a session holds its table, so the next backup waits past its expected time.
    locker = new pg.Client({ connectionString: postgres.cluster.connectionUrl("shop") });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
    stuckJobId = await startBackup(shopName);
    const stuck = await watchShopUntil((shop) => Boolean(alarmsOf(shop)?.stuck));
    expect(alarmsOf(stuck)?.stuck).toMatchObject({ kind: "stuck" });

    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      // Chromium's sandbox refuses to start as root, as CI containers run.
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
    // Behind App Service authentication the platform adds the signed-in Reader's principal.
    context = await browser.newContext({
      extraHTTPHeaders: { "x-ms-client-principal": reader },
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    const response = await page.goto(
      `${app.host.url}/api/dashboard?code=${encodeURIComponent(app.host.functionKey)}`,
    );
    expect(response?.status()).toBe(200);
    pageHtml = (await response?.text()) ?? "";
    await page.locator("#status", { hasText: /^Updated / }).waitFor({ timeout: 60_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    // The held backup ends once the lock goes, before the host stops.
    await locker?.query("ROLLBACK").catch(() => undefined);
    await locker?.end();
    await app?.stop();
  });

  it("shows every protected item with its state, policy, last and next backup, and marks the overdue one", async () => {
    const shop = page.locator("#items-body tbody tr", { hasText: "shop" });
    const ledger = page.locator("#items-body tbody tr", { hasText: "ledger" });

    await expect.poll(() => page.locator("#items-body tbody tr").count()).toBe(3);
    const shopText = await shop.innerText();
    expect(shopText).toContain("ProtectionConfigured");
    expect(shopText).toContain("weekly");
    expect(shopText).toContain("On time");
    expect(shopText).not.toContain("never");
    const ledgerText = await ledger.innerText();
    expect(ledgerText).toContain("never");
    expect(ledgerText).toMatch(/Overdue since \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(await page.locator("#items-body caption").innerText()).toBe(
      "3 protected items, 1 overdue, 1 stuck, 1 anomaly",
    );
  });

  it("marks the item whose backup is stuck and whose latest backup shrank, with the numbers beside each mark", async () => {
    const shop = page.locator("#items-body tbody tr", { hasText: "shop" });
    const ledger = page.locator("#items-body tbody tr", { hasText: "ledger" });

    const stuck = await shop.locator('[data-alarm="stuck"]').innerText();
    const anomaly = await shop.locator('[data-alarm="anomaly"]').innerText();

    expect(stuck).toMatch(
      /^Stuck Running for \d+ min when reported; expected within 1 min \(the configured floor\) \(raised \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\)$/,
    );
    expect(anomaly).toMatch(
      /^Anomaly Size down to [\d.]+ % of the usual: size [\d.]+ (B|KiB|MiB) against a usual [\d.]+ (KiB|MiB)/,
    );
    expect(await ledger.locator('[data-column="alarms"]').innerText()).toBe("None");
  });

  it("marks the stuck job and the anomalous backup among the recent jobs", async () => {
    const rows = page.locator("#jobs-body tbody tr");

    const running = rows.filter({ hasText: "InProgress" });
    const marked = rows.filter({ has: page.locator('[data-alarm="anomaly"]') });

    await expect.poll(() => running.count()).toBe(1);
    expect(await running.getAttribute("data-job")).toBe(stuckJobId.split("/").at(-1));
    expect(await running.locator('[data-alarm="stuck"]').innerText()).toMatch(/^Stuck Running for/);
    expect(await marked.count()).toBe(1);
    expect(await marked.innerText()).toContain("Completed");
    expect(await rows.locator("[data-alarm]").count()).toBe(2);
  });

  it("shows each item's lifecycle state in words, and the deleted item with when it is purged", async () => {
    const crm = page.locator("#items-body tbody tr", { hasText: "crm" });
    const deleted = page.locator("#deleted-body tbody tr");

    const crmState = await crm.locator('[data-column="state"]').innerText();
    const shopState = await page
      .locator("#items-body tbody tr", { hasText: "shop" })
      .locator('[data-column="state"]')
      .innerText();

    expect(crmState).toBe("Backups suspended\nBackupSchedulesSuspended");
    expect(shopState).toBe("Protected\nProtectionConfigured");
    expect(await deleted.count()).toBe(1);
    const legacy = await deleted.innerText();
    expect(legacy).toContain("local/legacy");
    expect(legacy).toContain("Deleted");
    expect(legacy).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(legacy).toContain("Yes, until it is purged");
    expect(await page.locator("#items-body tbody tr", { hasText: "legacy" }).count()).toBe(0);
  });

  it("lists the failed job with its error among the recent jobs", async () => {
    const failed = page.locator("#jobs-body tbody tr", { hasText: "Failed" });

    await expect.poll(() => failed.count()).toBe(1);
    const text = await failed.innerText();
    expect(text).toContain("ledger");
    expect(text).toContain("OnDemandBackup");
    expect(text).toMatch(/[A-Z_]+: \S/);
    const backups = page.locator("#jobs-body tbody tr", { hasText: "OnDemandBackup" });
    expect(await backups.filter({ hasText: "Completed" }).count()).toBe(2);
  });

  it("draws the weekly policy's calendar: a year of days, a backup every Sunday, each readable as text", async () => {
    const calendar = page.locator('.calendar[data-policy="weekly"]');
    const days = calendar.locator("svg g.day");

    expect(await days.count()).toBeGreaterThanOrEqual(365);
    const backupDays = await calendar
      .locator('svg g.day:not([data-backups="0"])')
      .evaluateAll((cells) => cells.map((cell) => cell.getAttribute("data-date") ?? ""));
    expect(backupDays.length).toBeGreaterThanOrEqual(52);
    expect(backupDays.every((date) => new Date(`${date}T00:00:00Z`).getUTCDay() === 0)).toBe(true);
    const firstBackup = await calendar
      .locator(`svg g.day[data-date="${backupDays[0] ?? ""}"] title`)
      .textContent();
    expect(firstBackup).toMatch(/backup at 22:00, tag Default \(rule Default\): VaultStore until /);
    expect(await calendar.locator("svg > title").textContent()).toContain(
      "Retention calendar of policy weekly",
    );
    expect(await calendar.locator("summary").innerText()).toContain("as a list");
  });

  it("draws a policy that archives: the archive tier appears once the first copies move there, with their expiry", async () => {
    const calendar = page.locator('.calendar[data-policy="monthly-archive"]');

    const archived = await calendar
      .locator('svg g.day:not([data-archive-store="0"]) title')
      .allTextContents();
    const monthly = await calendar
      .locator('svg g.day:not([data-backups="0"]) title', { hasText: "tag Monthly" })
      .first()
      .textContent();

    expect(archived.length).toBeGreaterThan(0);
    expect(archived[0]).toMatch(/held this day: \d+ in VaultStore, 1 in ArchiveStore/);
    expect(monthly).toMatch(
      /VaultStore until (\d{4}-\d{2}-\d{2}) 22:00, ArchiveStore from \1 22:00 until \d{4}-\d{2}-\d{2} 22:00; expires/,
    );
  });

  it("shows the vault's posture: its settings, and each warning with what to change", async () => {
    const vault = page.locator('#posture-body .vault[data-vault="pgprotect-vault"]');

    const heading = await vault.locator("h3").innerText();
    const settings = await vault.locator("dl.settings").innerText();
    const warnings = await vault.locator("li[data-warning]").allInnerTexts();

    expect(heading).toMatch(/^Vault pgprotect-vault \d+ warnings?$/);
    expect(settings).toMatch(/Redundancy\s+LocalDisk/);
    expect(settings).toMatch(/Soft delete\s+\S+/);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.find((text) => text.includes("redundancy: LocalDisk"))).toMatch(
      /^high redundancy: LocalDisk \(recommended: GeoRedundant\)\. .+ To change: .+/,
    );
  });

  it("shows the restore drill with its verdict and time to restore, and the item's last drill", async () => {
    const rows = page.locator("#drills-body tbody tr");
    const shopDrill = page
      .locator("#items-body tbody tr", { hasText: "shop" })
      .locator('[data-column="drill"]');

    await expect.poll(() => rows.count()).toBe(1);
    const text = await rows.innerText();
    expect(text).toContain("local/shop");
    expect(text).toContain("Succeeded");
    expect(text).toMatch(/\t\d+ (s|min \d+ s)\t/);
    expect(text).toMatch(/1 table, 200 rows verified/);
    expect(await shopDrill.innerText()).toMatch(
      /^Succeeded\n\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC, restored in \d+ (s|min \d+ s)$/,
    );
    expect(
      await page
        .locator("#items-body tbody tr", { hasText: "ledger" })
        .locator('[data-column="drill"]')
        .innerText(),
    ).toBe("None yet");
  });

  it("says plainly that drills and vault posture are not available from an app without their routes", async () => {
    // An app of an earlier version has neither route: its host answers 404 NOT_FOUND, as here.
    const older = await context.newPage();
    const notFound = {
      status: 404,
      contentType: "application/problem+json",
      body: JSON.stringify({ status: 404, title: "Not Found", code: "NOT_FOUND" }),
    };
    await older.route(/\/api\/(drills|vaults)(\?.*)?$/, (route) => route.fulfill(notFound));

    await older.goto(
      `${app.host.url}/api/dashboard?code=${encodeURIComponent(app.host.functionKey)}`,
    );
    await older.locator("#status", { hasText: /^Updated / }).waitFor({ timeout: 60_000 });

    expect(await older.locator("#drills-body").innerText()).toBe(
      "Not available: this app has no restore drill route yet.",
    );
    expect(await older.locator("#posture-body").innerText()).toBe(
      "Not available: this app has no vault posture route yet.",
    );
    expect(await older.locator("#items-body tbody tr").count()).toBe(3);
    await older.close();
  });

  it("is usable by keyboard: a skip link first, then every control in order, each with a visible focus ring", async () => {
    await page.locator("body").focus();
    const stops: string[] = [];
    const outlines: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press("Tab");
      // Evaluated in the page, where the DOM is (the test's own types have none).
      stops.push(
        await page.evaluate<string>(
          `(() => { const a = document.activeElement; return a.tagName.toLowerCase() + ":" + (a.getAttribute("name") ?? a.textContent ?? "").trim().slice(0, 80); })()`,
        ),
      );
      outlines.push(
        await page.evaluate<string>(
          `(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + " " + s.outlineWidth; })()`,
        ),
      );
    }

    expect(stops.slice(0, 6)).toEqual([
      "a:Skip to the protected items",
      "button:Refresh",
      "select:status",
      "select:operation",
      "select:instance",
      "button:Show jobs",
    ]);
    expect(stops[6]).toMatch(/^summary:The calendar of monthly-archive as a list/);
    expect(outlines.every((outline) => outline === "solid 3px")).toBe(true);

    // Enter on the focused summary opens the calendar's text form.
    await page.keyboard.press("Enter");
    const list = page.locator('.calendar[data-policy="monthly-archive"] details li');
    expect(await list.first().isVisible()).toBe(true);
    expect(await list.first().innerText()).toMatch(/backup at 22:00/);
    await page.keyboard.press("Enter");
  });

  it("filters the jobs by keyboard: status Failed shows only the failed job", async () => {
    await page.locator("#filter-status").focus();
    await page.keyboard.type("Failed");
    expect(await page.locator("#filter-status").inputValue()).toBe("Failed");
    await page.locator("#job-filters button").focus();
    await page.keyboard.press("Enter");

    await expect.poll(() => page.locator("#jobs-body tbody tr").count()).toBe(1);
    expect(await page.locator("#jobs-body tbody tr").innerText()).toContain("ledger");
  });

  it("saves a screenshot of what a person sees", async ({ annotate }) => {
    await page.locator("#filter-status").selectOption("");
    await page.locator("#job-filters button").click();
    await expect.poll(() => page.locator("#jobs-body tbody tr").count()).toBeGreaterThan(1);
    await page.locator("#job-filters button").blur();
    const folder = mkdtempSync(path.join(tmpdir(), "pgprotect-dashboard-"));
    const file = path.join(folder, "dashboard.png");

    try {
      const png = await page.screenshot({ path: file, fullPage: true });

      expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
      // The test report keeps a copy (vitest's attachments); the README shows the one in docs/,
      // renewed on request only, so that a test run never changes a tracked file.
      await annotate("The dashboard after the scenario", { path: file, contentType: "image/png" });
      if (process.env.UPDATE_DOCS_SCREENSHOT === "1") {
        copyFileSync(file, path.join(projectDir, "docs", "dashboard.png"));
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("keeps the key out of the page, its address and the host's logs, and allows only its own origin", async () => {
    const key = app.host.functionKey;
    const response = await fetch(`${app.host.url}/api/dashboard?code=${encodeURIComponent(key)}`, {
      headers: { "x-ms-client-principal": reader },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toMatch(
      /default-src 'none'; script-src 'self'; style-src 'self'/,
    );
    expect(response.headers.get("content-security-policy")).not.toContain("unsafe-inline");
    expect(pageHtml).not.toContain(key);
    expect(await response.text()).not.toContain(key);
    expect(page.url()).not.toContain("code=");
    expect(hostLines.length).toBeGreaterThan(0);
    expect(hostLines.filter((line) => line.includes(key))).toEqual([]);
  });

  it("serves a policy's calendar for a year to a Reader, and refuses a bad window or an unknown policy", async () => {
    const calendar = (query: string, policy = "monthly-archive") =>
      fetch(`${app.host.url}/api/vaults/pgprotect-vault/policies/${policy}/calendar.svg${query}`, {
        headers: { "x-functions-key": app.host.functionKey, "x-ms-client-principal": reader },
      });

    const year = await calendar("?year=2027");
    const badYear = await calendar("?year=next");
    const tooLong = await calendar("?from=2027-01-01&to=2038-01-01");
    const unknown = await calendar("", "no-such-policy");

    expect(year.status).toBe(200);
    expect(year.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(year.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
    const svg = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" }).parse(
      await year.text(),
    ) as { svg: { title: string; g: Array<Record<string, string>> } };
    expect(svg.svg.title).toBe(
      "Retention calendar of policy monthly-archive, 2027-01-01 to 2027-12-31 (UTC days)",
    );
    expect(svg.svg.g.filter((g) => g["@_class"] === "day")).toHaveLength(365);
    expect([badYear.status, tooLong.status, unknown.status]).toEqual([400, 400, 404]);
    expect(await badYear.json()).toMatchObject({ code: "CALENDAR_YEAR_INVALID" });
    expect(await tooLong.json()).toMatchObject({ code: "SIMULATION_WINDOW_TOO_LONG" });
    expect(await unknown.json()).toMatchObject({ code: "POLICY_NOT_FOUND" });
  });

  it("gives no page to a refused key or a caller without a role, and none of the API's data", async () => {
    const wrongKey = await context.newPage();
    const refused = await wrongKey.goto(`${app.host.url}/api/dashboard?code=not-the-key`);
    const noRole = await fetch(
      `${app.host.url}/api/dashboard?code=${encodeURIComponent(app.host.functionKey)}`,
    );

    expect(refused?.status()).toBe(401);
    expect(await wrongKey.locator("#items").count()).toBe(0);
    expect(noRole.status).toBe(401);
    expect(noRole.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    await wrongKey.close();
  });
});
