import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import {
  createVaultDirectory,
  setAppDependencies,
  type AppDependencies,
} from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { NotFoundError } from "../../../src/domain/errors.js";
import { compilePolicySpec } from "../../../src/domain/policy/spec.js";
import type { BackupPolicyResource } from "../../../src/domain/policy/types.js";
import { formatVaultId, LOCAL_SCOPE } from "../../../src/domain/protection/ids.js";
import type { BackupInstance, BackupJob } from "../../../src/domain/protection/types.js";
import { listJobs } from "../../../src/functions/listJobs.js";
import { putPolicy } from "../../../src/functions/putPolicy.js";
import { startBackup } from "../../../src/functions/startBackup.js";
import { startRestore } from "../../../src/functions/startRestore.js";
import { withProblemDetails } from "../../../src/http/handler.js";
import type { Provider } from "../../../src/providers/ports.js";

const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
const flexibleId = `/subscriptions/${LOCAL_SCOPE.subscriptionId}/resourceGroups/${LOCAL_SCOPE.resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg1`;
const policy = compilePolicySpec({
  schedule: { days: ["Sunday"], time: "22:00" },
  retention: { default: "P3M", monthly: { vault: "P6M" } },
});

const instance: BackupInstance = {
  id: `${vaultId}/backupInstances/pg1-pg1-1`,
  name: "pg1-pg1-1",
  vaultName: "pgprotect-vault",
  friendlyName: "pg1",
  dataSourceInfo: {
    resourceId: flexibleId,
    datasourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
    resourceName: "pg1",
    resourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
    resourceLocation: "local",
  },
  policyId: `${vaultId}/backupPolicies/weekly`,
  protectionStatus: "ProtectionConfigured",
  provisioningState: "Succeeded",
  createdAt: "2026-11-01T00:00:00Z",
};

function job(name: string, startTime: string, extra: Partial<BackupJob> = {}): BackupJob {
  return {
    id: `${vaultId}/backupJobs/${name}`,
    name,
    vaultName: "pgprotect-vault",
    operation: "OnDemandBackup",
    operationCategory: "Backup",
    isUserTriggered: true,
    status: "Completed",
    startTime,
    backupInstanceId: instance.id,
    backupInstanceFriendlyName: instance.friendlyName,
    dataSourceId: flexibleId,
    dataSourceName: "pg1",
    dataSourceType: instance.dataSourceInfo.datasourceType,
    dataSourceLocation: "local",
    ...extra,
  };
}

const guid = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, "0")}`;

/** A provider that holds one Flexible Server instance, its policy and the given jobs. */
function useProvider(
  jobs: BackupJob[],
  policies: BackupPolicyResource[] = [{ name: "weekly", properties: policy }],
) {
  const triggered: unknown[] = [];
  const created: string[] = [];
  const backup = {
    getBackupInstance: async (_vault: string, name: string) => {
      if (name !== instance.name) throw new NotFoundError("RESOURCE_NOT_FOUND", "no such instance");
      return instance;
    },
    listPolicies: async () => policies,
    getPolicy: async (_vault: string, name: string) => {
      const found = policies.find((p) => p.name === name);
      if (!found) throw new NotFoundError("RESOURCE_NOT_FOUND", "no such policy");
      return found;
    },
    createPolicy: async (
      _vault: string,
      name: string,
      body: BackupPolicyResource["properties"],
    ) => {
      created.push(name);
      return { name, properties: body };
    },
    listJobs: async () => jobs,
    listRecoveryPoints: async () => [],
    triggerBackup: async (...args: unknown[]) => {
      triggered.push(args);
      return { jobId: `${vaultId}/backupJobs/${guid(99)}` };
    },
  };
  const deps = {
    config: loadConfig({}),
    provider: { backup } as unknown as Provider,
    vaults: createVaultDirectory({ BACKUP_VAULT_IDS: undefined, PGPROTECT_PROVIDER: "local" }),
  } as unknown as AppDependencies;
  setAppDependencies(deps);
  return { triggered, created };
}

async function call(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
  init: { method?: string; url: string; params?: Record<string, string>; body?: unknown },
) {
  const request = new HttpRequest({
    method: init.method ?? "GET",
    url: `http://localhost:7071${init.url}`,
    headers: { "content-type": "application/json" },
    ...(init.params ? { params: init.params } : {}),
    ...(init.body !== undefined ? { body: { string: JSON.stringify(init.body) } } : {}),
  });
  const response = (await withProblemDetails(handler)(
    request,
    new InvocationContext({ functionName: "test" }),
  )) as HttpResponseInit;
  const text =
    typeof response.body === "string" ? response.body : JSON.stringify(response.jsonBody);
  return { status: response.status ?? 200, body: JSON.parse(text) as Record<string, unknown> };
}

afterEach(() => setAppDependencies(undefined));

describe("POST /api/backup-instances/{name}/backups", () => {
  it("refuses a second backup of a Flexible Server in one week with 409, saying when the next may run, and triggers nothing", async () => {
    const thisWeek = new Date().toISOString();
    const { triggered } = useProvider([job(guid(1), thisWeek)]);

    const response = await call(startBackup, {
      method: "POST",
      url: "/api/backup-instances/pg1-pg1-1/backups",
      params: { name: "pg1-pg1-1" },
      body: { ruleName: "BackupWeekly" },
    });

    expect(response.status).toBe(409);
    expect(response.body.code).toBe("BACKUP_LIMIT_PER_WEEK_REACHED");
    expect(String(response.body.recommendedAction)).toMatch(
      /^Wait until \d{4}-\d{2}-\d{2}T00:00:00\.000Z/,
    );
    expect(triggered).toEqual([]);
  });

  it("answers a backup asked while one of the same Flexible Server runs with 409 naming the running job, and triggers nothing", async () => {
    const { triggered } = useProvider([
      job(guid(1), new Date().toISOString(), { status: "InProgress" }),
    ]);

    const response = await call(startBackup, {
      method: "POST",
      url: "/api/backup-instances/pg1-pg1-1/backups",
      params: { name: "pg1-pg1-1" },
      body: { ruleName: "BackupWeekly" },
    });

    expect(response.status).toBe(409);
    expect(response.body.code).toBe("BACKUP_IN_PROGRESS");
    expect(String(response.body.detail)).toContain(guid(1));
    expect(String(response.body.recommendedAction)).toContain(`GET /api/jobs/${guid(1)}`);
    expect(triggered).toEqual([]);
  });

  it("answers an unknown retention tag with 400 naming the policy's retention rules", async () => {
    const { triggered } = useProvider([]);

    const response = await call(startBackup, {
      method: "POST",
      url: "/api/backup-instances/pg1-pg1-1/backups",
      params: { name: "pg1-pg1-1" },
      body: { ruleName: "BackupWeekly", retentionTagOverride: "Yearly" },
    });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: "ADHOC_TAG_NOT_FOUND",
      errors: [{ path: "$.retentionTagOverride" }],
    });
    expect(String(response.body.detail)).toContain("Default, Monthly");
    expect(triggered).toEqual([]);
  });
});

describe("POST /api/backup-instances/{name}/restores", () => {
  it("asks for exactly one target", async () => {
    useProvider([]);

    const both = await call(startRestore, {
      method: "POST",
      url: "/api/backup-instances/pg1-pg1-1/restores",
      params: { name: "pg1-pg1-1" },
      body: { targetDatabaseName: "copy", targetFolder: "/tmp/x" },
    });

    expect(both.status).toBe(400);
    expect(both.body).toMatchObject({
      code: "BODY_INVALID",
      errors: [{ path: "$.targetDatabaseName" }],
    });
  });

  it("answers 409 when the instance has no recovery point yet, pointing at the backup endpoint", async () => {
    useProvider([]);

    const response = await call(startRestore, {
      method: "POST",
      url: "/api/backup-instances/pg1-pg1-1/restores",
      params: { name: "pg1-pg1-1" },
      body: { targetFolder: "/tmp/x" },
    });

    expect(response.status).toBe(409);
    expect(response.body.code).toBe("NO_RECOVERY_POINT");
    expect(String(response.body.recommendedAction)).toContain(
      "/api/backup-instances/pg1-pg1-1/backups",
    );
  });
});

describe("GET /api/jobs", () => {
  const jobs = [1, 2, 3, 4, 5].map((n) => job(guid(n), `2026-11-2${n}T10:00:00.000Z`));

  it("pages newest first, each page's nextLink leading to the next until the last", async () => {
    useProvider(jobs);

    const pages: string[][] = [];
    let url: string | null = "/api/jobs?top=2&status=Completed";
    while (url) {
      const page = await call(listJobs, { url: url.replace(/^https?:\/\/[^/]+/, "") });
      pages.push((page.body.value as BackupJob[]).map((j) => j.name.slice(-1)));
      url = page.body.nextLink as string | null;
    }

    expect(pages).toEqual([["5", "4"], ["3", "2"], ["1"]]);
  });

  it("names every bad parameter in one 400", async () => {
    useProvider(jobs);

    const response = await call(listJobs, {
      url: "/api/jobs?status=Done&top=0&since=yesterday&continuationToken=zzz",
    });

    expect(response.status).toBe(400);
    expect((response.body.errors as { path: string }[]).map((e) => e.path)).toEqual([
      "query.status",
      "query.since",
      "query.top",
      "query.continuationToken",
    ]);
  });

  describe("with a provider that lists jobs across vaults", () => {
    const east = formatVaultId({ ...LOCAL_SCOPE, vaultName: "vault-east" });
    const west = formatVaultId({ ...LOCAL_SCOPE, vaultName: "vault-west" });
    const inVault = (vault: string, n: number, day: number) =>
      job(guid(n), `2026-11-${day}T10:00:00.000Z`, {
        id: `${vault}/backupJobs/${guid(n)}`,
        vaultName: vault.split("/").pop() ?? "",
      });
    const byVault: Record<string, BackupJob[]> = {
      [east]: [inVault(east, 1, 21), inVault(east, 3, 23)],
      [west]: [inVault(west, 2, 22), inVault(west, 4, 24)],
    };

    /** Two configured vaults; `crossVault` adds the provider's `jobs` port over the same jobs. */
    function useVaults(crossVault: boolean) {
      const perVault: string[] = [];
      const across: { vaultIds: readonly string[]; filter: unknown }[] = [];
      const backup = {
        listJobs: async (vault: string) => {
          perVault.push(vault);
          return byVault[vault] ?? [];
        },
      };
      const jobs = {
        listJobsAcrossVaults: async (vaultIds: readonly string[], filter: unknown) => {
          across.push({ vaultIds, filter });
          return vaultIds
            .flatMap((vault) => byVault[vault] ?? [])
            .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
        },
      };
      setAppDependencies({
        config: loadConfig({}),
        provider: { backup, ...(crossVault ? { jobs } : {}) } as unknown as Provider,
        vaults: createVaultDirectory({
          BACKUP_VAULT_IDS: `${east},${west}`,
          PGPROTECT_PROVIDER: "azure",
        }),
      } as unknown as AppDependencies);
      return { perVault, across };
    }

    it("asks the cross-vault source once for every vault, never each vault, with the request's filter", async () => {
      // Arrange
      const { perVault, across } = useVaults(true);

      // Act
      const page = await call(listJobs, {
        url: "/api/jobs?status=Completed&since=2026-11-20T00:00:00Z",
      });

      // Assert
      expect(page.status).toBe(200);
      expect(across).toEqual([
        {
          vaultIds: [east, west],
          filter: { status: ["Completed"], since: "2026-11-20T00:00:00.000Z" },
        },
      ]);
      expect(perVault).toEqual([]);
    });

    it("answers the same pages as listing vault by vault, newest first across both vaults", async () => {
      // Arrange
      const pagesOf = async (crossVault: boolean) => {
        useVaults(crossVault);
        const pages: unknown[] = [];
        let url: string | null = "/api/jobs?top=3";
        while (url) {
          const page = await call(listJobs, { url: url.replace(/^https?:\/\/[^/]+/, "") });
          pages.push(page.body.value);
          url = page.body.nextLink as string | null;
        }
        return pages;
      };

      // Act
      const acrossVaults = await pagesOf(true);
      const vaultByVault = await pagesOf(false);

      // Assert
      expect(acrossVaults).toEqual(vaultByVault);
      expect((acrossVaults.flat() as BackupJob[]).map((j) => j.name.slice(-1))).toEqual([
        "4",
        "3",
        "2",
        "1",
      ]);
      expect(acrossVaults).toHaveLength(2);
    });

    it("asks the named vault only when the request names one", async () => {
      // Arrange
      const { across } = useVaults(true);

      // Act
      const page = await call(listJobs, { url: "/api/jobs?vault=vault-west" });

      // Assert
      expect(across.map((a) => a.vaultIds)).toEqual([[west]]);
      expect((page.body.value as BackupJob[]).map((j) => j.name.slice(-1))).toEqual(["4", "2"]);
    });
  });
});

describe("PUT /api/vaults/{vault}/policies/{name}", () => {
  const params = { vault: "pgprotect-vault", name: "weekly" };

  it("answers the same policy, written with another key order and null fields, with 200 and creates nothing", async () => {
    const { created } = useProvider([]);
    const reordered = JSON.parse(
      JSON.stringify({
        policyRules: policy.policyRules,
        datasourceTypes: policy.datasourceTypes,
        objectType: policy.objectType,
        name: null,
      }),
    );

    const response = await call(putPolicy, {
      method: "PUT",
      url: "/api/vaults/pgprotect-vault/policies/weekly",
      params,
      body: reordered,
    });

    expect(response.status).toBe(200);
    expect(created).toEqual([]);
  });

  it("refuses a different policy under an existing name with 409, saying to create a new policy and reassign", async () => {
    const { created } = useProvider([]);

    const response = await call(putPolicy, {
      method: "PUT",
      url: "/api/vaults/pgprotect-vault/policies/weekly",
      params,
      body: {
        spec: { schedule: { days: ["Monday"], time: "22:00" }, retention: { default: "P3M" } },
      },
    });

    expect(response.status).toBe(409);
    expect(response.body.code).toBe("POLICY_UPDATE_NOT_SUPPORTED");
    expect(String(response.body.recommendedAction)).toMatch(/new policy.*reassign/);
    expect(created).toEqual([]);
  });

  it("answers an invalid spec with 400 and the paths at fault", async () => {
    useProvider([]);

    const response = await call(putPolicy, {
      method: "PUT",
      url: "/api/vaults/pgprotect-vault/policies/other",
      params: { ...params, name: "other" },
      body: {
        spec: { schedule: { days: ["Someday"], time: "22:00" }, retention: { default: "P3M" } },
      },
    });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: "POLICY_SPEC_INVALID",
      errors: [{ path: "$.schedule.days[0]" }],
    });
  });
});
