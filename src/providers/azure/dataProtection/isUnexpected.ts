/**
 * `isUnexpected`: whether a response is an error answer, narrowing the union either way.
 */
import type { HttpResponse } from "@azure-rest/core-client";
import type { DataProtectionDefaultResponse } from "./responses.js";

const rgp =
  "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DataProtection";
const bi = `${rgp}/backupVaults/{vaultName}/backupInstances/{backupInstanceName}`;

/** The success statuses of each operation, keyed by `METHOD path-template`. */
const responseMap: Record<string, readonly string[]> = {
  "GET /subscriptions/{subscriptionId}/providers/Microsoft.DataProtection/backupVaults": ["200"],
  [`GET ${rgp}/backupVaults`]: ["200"],
  [`GET ${rgp}/backupVaults/{vaultName}`]: ["200"],
  [`GET ${rgp}/backupVaults/{vaultName}/backupPolicies`]: ["200"],
  [`GET ${rgp}/backupVaults/{vaultName}/backupPolicies/{backupPolicyName}`]: ["200"],
  [`PUT ${rgp}/backupVaults/{vaultName}/backupPolicies/{backupPolicyName}`]: ["200"],
  [`GET ${rgp}/backupVaults/{vaultName}/backupInstances`]: ["200"],
  [`GET ${bi}`]: ["200"],
  [`PUT ${bi}`]: ["200", "201", "202"],
  [`POST ${rgp}/backupVaults/{vaultName}/validateForBackup`]: ["200", "202"],
  [`POST ${bi}/stopProtection`]: ["200", "202"],
  [`POST ${bi}/suspendBackups`]: ["200", "202"],
  [`POST ${bi}/resumeBackups`]: ["200", "202"],
  [`POST ${bi}/resumeProtection`]: ["200", "202"],
  [`POST ${bi}/validateForModifyBackup`]: ["202"],
  [`DELETE ${bi}`]: ["200", "202", "204"],
  [`GET ${rgp}/backupVaults/{vaultName}/deletedBackupInstances`]: ["200"],
  [`GET ${rgp}/backupVaults/{vaultName}/backupResourceGuardProxies`]: ["200"],
  [`POST ${rgp}/backupVaults/{vaultName}/deletedBackupInstances/{backupInstanceName}/undelete`]: [
    "200",
    "202",
  ],
  [`POST ${bi}/backup`]: ["200", "202"],
  [`POST ${bi}/restore`]: ["200", "202"],
  [`POST ${bi}/validateRestore`]: ["200", "202"],
  [`GET ${bi}/recoveryPoints`]: ["200"],
  [`GET ${rgp}/backupVaults/{vaultName}/backupJobs`]: ["200"],
  [`GET ${rgp}/backupVaults/{vaultName}/backupJobs/{jobId}`]: ["200"],
  "GET /{resourceId}/providers/Microsoft.DataProtection/backupInstances": ["200"],
};

/** Each template as a case-insensitive regular expression over the URL path. */
const matchers = Object.entries(responseMap).map(([key, statuses]) => {
  const [method, template] = key.split(" ") as [string, string];
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) =>
      part === "{resourceId}"
        ? ".+"
        : part.startsWith("{")
          ? "[^/]+"
          : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return {
    method,
    regex: new RegExp(`^${pattern}$`, "i"),
    statuses,
    specific: !template.startsWith("/{"),
  };
});

function expectedStatuses(method: string, url: string): readonly string[] | undefined {
  const path = new URL(url).pathname;
  // Prefer exact routes over the catch-all extension route, which matches any path.
  const candidates = matchers.filter(
    (m) => m.method === method.toUpperCase() && m.regex.test(path),
  );
  return (candidates.find((m) => m.specific) ?? candidates[0])?.statuses;
}

/**
 * True when the response is not one of the operation's documented success statuses.
 *
 * @remarks Responses from URLs outside the route table (status monitors, `nextLink` pages) are
 * unexpected when their status is not 2xx.
 */
export function isUnexpected<TSuccess extends HttpResponse>(
  response: TSuccess | DataProtectionDefaultResponse,
): response is DataProtectionDefaultResponse {
  const url = response.request.headers.get("x-ms-original-url") ?? response.request.url;
  const statuses = expectedStatuses(response.request.method, url);
  if (statuses) return !statuses.includes(response.status);
  return !/^2\d\d$/.test(response.status);
}
