/**
 * The Bicep that sends Azure Backup's alerts to the app agrees with the app, read without a Bicep
 * compiler: the action group posts in the common alert schema to the route the function
 * registers, with the function key or, behind App Service authentication, Entra ID for the app's
 * registration whose role the handler checks; the alert processing rule adds it to the alerts of
 * the Backup vaults the app covers.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

/** The text of a top-level declaration (`module alerts ...`), to the next one. */
function declaration(source: string, header: RegExp): string {
  const start = source.search(header);
  if (start < 0) throw new Error(`no ${String(header)}`);
  const rest = source.slice(start + 1);
  const next = rest.search(/^(resource|module|var|param|output|\/\/ ---)/m);
  return next < 0 ? source.slice(start) : source.slice(start, start + 1 + next);
}

describe("the alerts infrastructure", () => {
  const alerts = read("infra/app/alerts.bicep");
  const main = read("infra/main.bicep");
  const registration = read("infra/app/appRegistration.bicep");
  const handler = read("src/functions/receiveMonitorAlert.ts");

  it("posts to the route the alert function registers, in the common alert schema", () => {
    const route = /route:\s*"([^"]+)"/.exec(handler)?.[1];
    const group = declaration(alerts, /^resource actionGroup /m);

    expect(route).toBe("alerts");
    expect(alerts).toContain(
      `var alertsUrl = 'https://\${functionApp.properties.defaultHostName}/api/${route}'`,
    );
    expect(group).toMatch(/'Microsoft\.Insights\/actionGroups@\d{4}-\d{2}-\d{2}'/);
    expect(group).toMatch(/useCommonAlertSchema:\s*true/);
    expect(group).toMatch(/serviceUri:\s*serviceUri/);
    expect(/groupShortName:\s*'([^']*)'/.exec(group)?.[1]?.length).toBeLessThanOrEqual(12);
  });

  it("uses the function key only without App Service authentication, and Entra ID for the app's registration with it", () => {
    const group = declaration(alerts, /^resource actionGroup /m);
    const module = declaration(main, /^module alerts /m);

    expect(alerts).toMatch(
      /var serviceUri = useAadAuth\s*\?\s*alertsUrl\s*:\s*'\$\{alertsUrl\}\?code=\$\{listKeys\('\$\{functionApp\.id\}\/host\/default'/,
    );
    expect(group).toMatch(/useAadAuth:\s*useAadAuth/);
    expect(group).toMatch(/objectId:\s*useAadAuth \? appObjectId : null/);
    expect(group).toMatch(/identifierUri:\s*useAadAuth \? identifierUri : null/);
    expect(module).toMatch(/useAadAuth:\s*enableAuthentication/);
    expect(module).toMatch(
      /appObjectId:\s*enableAuthentication \? appRegistration\.outputs\.objectId/,
    );
    expect(registration).toMatch(/^output objectId string = application\.id$/m);
    expect(main).not.toMatch(/'\/api\/alerts'/);
  });

  it("gives Azure Monitor's webhook principal the role the handler checks, and nothing more", () => {
    const role = /authorize\(\s*request,\s*"([^"]+)"/.exec(handler)?.[1];
    const assignment = declaration(registration, /^resource alertSenderAssignment /m);

    expect(role).toBe("Backup.AlertSender");
    expect(registration).toContain(`value: '${role}'`);
    expect(assignment).toContain(`appRoleId: guid(uniqueName, '${role}')`);
    expect(assignment).toMatch(/principalId:\s*azureMonitorWebhook\.id/);
    expect(assignment).toMatch(/resourceId:\s*servicePrincipal\.id/);
  });

  it("adds the action group to the alerts of the app's Backup vaults", () => {
    const rule = declaration(alerts, /^resource alertProcessingRule /m);
    const module = declaration(main, /^module alerts /m);

    expect(rule).toMatch(/'Microsoft\.AlertsManagement\/actionRules@\d{4}-\d{2}-\d{2}'/);
    expect(rule).toMatch(/scopes:\s*backupVaultIds/);
    expect(rule).toMatch(/field:\s*'TargetResourceType'/);
    expect(rule).toContain("'microsoft.dataprotection/backupvaults'");
    expect(rule).toMatch(/actionType:\s*'AddActionGroups'/);
    expect(rule).toMatch(/actionGroupIds:\s*\[\s*actionGroup\.id\s*\]/);
    expect(module).toMatch(/backupVaultIds:\s*backupVaultIds/);
    expect(module).toMatch(/functionAppName:\s*api\.outputs\.SERVICE_API_NAME/);
    expect(read("infra/app/backupVault.bicep")).toMatch(/alertsForAllJobFailures:\s*'Enabled'/);
  });
});
