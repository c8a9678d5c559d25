/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core), after a scenario
 * on the local runtime with App Service authentication on: a database protected and backed up, a
 * database protected ten days ago whose backup fails (a failed job and an overdue item), and a
 * weekly policy. Checks what a person sees and can do by keyboard, and saves a screenshot.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
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

  const backUpAndWait = async (instanceName: string) => {
    const started = await api("POST", `backup-instances/${instanceName}/backups`, {
      ruleName: "BackupWeekly",
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return poll(
      () => api("GET", `jobs/${encodeURIComponent(String(started.body.jobId))}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
      120_000,
    );
  };

  beforeAll(async () => {
    await postgres.query("postgres", "CREATE DATABASE shop");
    await postgres.query("shop", "CREATE TABLE orders (id int PRIMARY KEY, note text)");
    await postgres.query("postgres", "CREATE DATABASE ledger");
    app = await startLocalApp({
      postgres,
      name: "e2e-dashboard",
      secrets: { shop: postgres.cluster.connectionUrl("shop") },
      policies: { weekly: weeklyPolicy, "monthly-archive": monthlyArchivePolicy },
      settings: { WEBSITE_AUTH_ENABLED: "true" },
      log: (line) => hostLines.push(line),
    });

    // shop: protected now and backed up.
    const started = await api("POST", "protections", {
      serverName: "local",
      databaseName: "shop",
      policyName: "weekly",
      secretUri: app.secretUris.shop,
    });
    const protectedShop = await poll(
      () => api("GET", `protections/${String(started.body.id)}`),
      (r) => r.body.status === "Completed" || r.body.status === "Failed",
      120_000,
    );
    expect(protectedShop.body).toMatchObject({ status: "Completed" });
    const shopBackup = await backUpAndWait(String(protectedShop.body.backupInstanceName));
    expect(shopBackup.body.status).toBe("Completed");

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
    await app?.stop();
  });

  it("shows every protected item with its state, policy, last and next backup, and marks the overdue one", async () => {
    const shop = page.locator("#items-body tbody tr", { hasText: "shop" });
    const ledger = page.locator("#items-body tbody tr", { hasText: "ledger" });

    await expect.poll(() => page.locator("#items-body tbody tr").count()).toBe(2);
    const shopText = await shop.innerText();
    expect(shopText).toContain("ProtectionConfigured");
    expect(shopText).toContain("weekly");
    expect(shopText).toContain("On time");
    expect(shopText).not.toContain("never");
    const ledgerText = await ledger.innerText();
    expect(ledgerText).toContain("never");
    expect(ledgerText).toMatch(/Overdue since \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(await page.locator("#items-body caption").innerText()).toBe(
      "2 protected items, 1 overdue",
    );
  });

  it("lists the failed job with its error among the recent jobs", async () => {
    const failed = page.locator("#jobs-body tbody tr", { hasText: "Failed" });

    await expect.poll(() => failed.count()).toBe(1);
    const text = await failed.innerText();
    expect(text).toContain("ledger");
    expect(text).toContain("OnDemandBackup");
    expect(text).toMatch(/[A-Z_]+: \S/);
    expect(await page.locator("#jobs-body tbody tr", { hasText: "Completed" }).count()).toBe(1);
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
    await expect.poll(() => page.locator("#jobs-body tbody tr").count()).toBe(2);
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
