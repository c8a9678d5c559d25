/**
 * Protecting every database of a server protects databases whose names differ only in
 * punctuation (`sales_eu` and `sales-eu`) each under its own operation: earlier versions folded
 * both into one operation id and left one of them out.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localTopicName } from "../../src/composition.js";
import { compilePolicySpec } from "../../src/domain/policy/spec.js";
import { formatVaultId, LOCAL_SCOPE } from "../../src/domain/protection/ids.js";
import { createLocalProvider } from "../../src/providers/local/index.js";
import { startHost, type RunningHost } from "../../src/runtime/host.js";
import { functionsApi } from "../support/functionsApi.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";

const projectDir = fileURLToPath(new URL("../..", import.meta.url));
const postgres = usePostgresCluster();

type Body = Record<string, unknown>;

describe("protecting every database of a server whose database names differ only in punctuation", () => {
  let stateDir: string;
  let host: RunningHost;
  let secretUri: string;
  const vaultId = formatVaultId({ ...LOCAL_SCOPE, vaultName: "pgprotect-vault" });
  const api = functionsApi(() => host);
  const request = () => ({
    serverName: "local",
    allDatabases: true,
    policyName: "weekly",
    secretUri,
  });
  const finished = (r: { body: Body }) =>
    r.body.status === "Completed" || r.body.status === "Failed";

  beforeAll(async () => {
    // `npm test` compiles the app first; the host runs it from dist/ as Azure would.
    expect(existsSync(path.join(projectDir, "dist", "src", "index.js"))).toBe(true);
    await postgres.query("postgres", "CREATE DATABASE sales_eu");
    await postgres.query("postgres", 'CREATE DATABASE "sales-eu"');
    stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-e2e-server-ids-"));
    const url = postgres.cluster.connectionUrl();
    const provider = await createLocalProvider({
      stateDir,
      servers: [{ name: "local", connectionString: url }],
      binDir: postgres.cluster.binDir,
    });
    secretUri = await provider.secrets.setSecret("local", url);
    await provider.backup.createPolicy(
      vaultId,
      "weekly",
      compilePolicySpec({
        datasourceType: "AzureDatabaseForPostgreSQL",
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M" },
      }),
    );
    host = await startHost({
      appDir: projectDir,
      port: 0,
      stateDir: path.join(stateDir, "runtime"),
      banner: false,
      timers: false,
      log: () => undefined,
      env: { PGPROTECT_STATE_DIR: stateDir, LOCAL_POSTGRES_SERVERS: `local=${url}` },
      eventGrid: { topics: { [localTopicName]: { subscriptions: [] } } },
    });
  }, 120_000);

  afterAll(async () => {
    await host?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("protects each database under its own operation, and answers the run when asked again", async () => {
    // Act
    const started = await api("POST", "protections", request());
    const done = await poll(() => api("GET", `protections/${String(started.body.id)}`), finished);
    const again = await api("POST", "protections", request());

    // Assert
    expect(done.body).toMatchObject({ status: "Completed", progress: { done: 3, total: 3 } });
    const summary = done.body.summary as {
      protected: string[];
      alreadyProtected: string[];
      failed: Array<{ databaseName: string; code: string }>;
      stuck: unknown[];
    };
    expect(summary.failed).toEqual([]);
    expect([...summary.protected].sort()).toEqual(["postgres", "sales-eu", "sales_eu"]);
    expect(summary.stuck).toEqual([]);
    // A run that protected every database is the operation a repeat is answered with.
    expect(again.body).toMatchObject({ id: started.body.id, existing: true });
  });
});
