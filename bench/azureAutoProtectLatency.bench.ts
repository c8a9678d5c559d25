/**
 * Auto-protection in Azure, end to end on the local Functions runtime: `--servers` tagged
 * Flexible Servers (20) are written, and each one's `Microsoft.Resources.ResourceWriteSuccess`
 * (Event Grid schema) is delivered over HTTP to the runtime's Event Grid webhook
 * (`/runtime/webhooks/eventgrid?functionName=eventGridAutoProtect`, its system key) at a random
 * moment of `--spread-seconds` (10), each delivery on its own, as Event Grid delivers them.
 *
 * The app is the real one from `dist/`, with the Azure provider, against the fake Resource
 * Manager holding Resource Manager's documented limits: the per-subscription token buckets
 * (reads 250 burst refilled at 25/s, writes 200 burst refilled at 10/s; "Understand how Azure
 * Resource Manager throttles requests") and Resource Graph's per-user quota (15 queries per 5 s;
 * "Guidance for throttled requests in Azure Resource Graph"). Its token comes from a fake
 * managed identity endpoint. Long-running operations answer without a wait (Retry-After 0).
 *
 * Protection started: the webhook answers once the trigger has read the server's tags and
 * started `protectDatasource` (a failure answers 500 and Event Grid redelivers), so the time
 * from sending an event to its 202 is the time to protection started. Protection configured
 * (the operation `Completed`) is printed beside it. Every event is then delivered a second time:
 * the servers must still have one backup instance each, written once.
 *
 * Options: `--servers N` (20), `--spread-seconds N` (10).
 *
 * Run: `npm run build && node dist/bench/azureAutoProtectLatency.bench.js`.
 * Goal: event delivered to protection started, p95 under 5 s; exits 1 when missed.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startHost, type EventGridSettings, type RunningHost } from "@pgprotect/functions-runtime";
import { createDurableExtension } from "@pgprotect/functions-runtime/durable";
import { appHostOptions, eventGridFileSchema } from "../src/cli/hostCli.js";
import { localTopicName } from "../src/composition.js";
import { defaultPolicyTemplate } from "../src/domain/policy/template.js";
import { protectionInstanceId } from "../src/domain/protection/operationIds.js";
import { createAzureServices } from "../src/providers/azure/azureServices.js";
import { armRequestLimits } from "../src/providers/azure/throttling.js";
import {
  assignVaultRoles,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  fakeArmCredential,
} from "../test/support/fakeArm/index.js";
import { FakeManagedIdentity } from "../test/support/fakeArm/fakeManagedIdentity.js";
import { OPENAPI_PATH } from "../test/support/fakeArm/openApiValidator.js";
import { resourceWriteEventGridEvent } from "../test/support/fakeArm/resourceWriteEvents.js";
import { freePort } from "../test/support/ports.js";
import { projectRoot } from "./support/projectRoot.js";

const { values: args } = parseArgs({
  options: {
    servers: { type: "string", default: "20" },
    "spread-seconds": { type: "string", default: "10" },
  },
});
const serverCount = Number(args.servers);
const spreadMs = Number(args["spread-seconds"]) * 1000;
if (!Number.isInteger(serverCount) || serverCount < 1 || serverCount > 500) {
  throw new Error("--servers must be an integer from 1 to 500");
}
if (!(spreadMs >= 0)) throw new Error("--spread-seconds must be 0 or more");

const goalMs = 5000;
const TOKEN = "bench-managed-identity-token";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value below which `p` of the sorted values fall (nearest rank). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

function summary(label: string, values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p).toFixed(0);
  return `${label}: p50 ${at(50)} ms, p95 ${at(95)} ms, max ${at(100)} ms (n=${sorted.length})`;
}

/** The fake validates against the OpenAPI document, which the build does not copy to `dist/`. */
function provideOpenApiDocument(): void {
  if (existsSync(OPENAPI_PATH)) return;
  const source = path.join(projectRoot(), "test", "fixtures", "azure", path.basename(OPENAPI_PATH));
  mkdirSync(path.dirname(OPENAPI_PATH), { recursive: true });
  copyFileSync(source, OPENAPI_PATH);
}

async function main(): Promise<number> {
  provideOpenApiDocument();
  const stateDir = mkdtempSync(path.join(tmpdir(), "pgprotect-bench-azure-autoprotect-"));
  const fake = await FakeArm.start({
    subscriptionId: FAKE_SUBSCRIPTION_ID,
    token: TOKEN,
    retryAfterSeconds: 0,
    limits: { reads: armRequestLimits.reads, writes: armRequestLimits.writes },
    graphQuota: { queries: 15, windowMs: 5000 },
  });
  const identity = await FakeManagedIdentity.start(TOKEN);
  let host: RunningHost | undefined;
  try {
    const vaultId = fake.addVault("rg-backup", "vault-pg");
    const servers = Array.from({ length: serverCount }, (_, i) => {
      const id = fake.addPostgresServer({
        resourceGroup: "rg-db",
        name: `pg-fleet-${String(i + 1).padStart(3, "0")}`,
        kind: "flexibleServers",
        tags: { "pgprotect-policy": "weekly" },
      });
      assignVaultRoles(fake, id);
      return id;
    });
    const arranged = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: "https://management.azure.com",
      },
      fakeArmCredential(TOKEN),
      { tlsOptions: { ca: fake.ca } },
    );
    await arranged.backup.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );

    const caFile = path.join(stateDir, "fake-arm-ca.pem");
    writeFileSync(caFile, fake.ca);
    const eventGrid = eventGridFileSchema.parse(
      JSON.parse(readFileSync(path.join(projectRoot(), "eventgrid.local.json"), "utf8")),
    ) as EventGridSettings;
    const port = await freePort();
    host = await startHost({
      ...appHostOptions,
      appDir: projectRoot(),
      port,
      stateDir: path.join(stateDir, "runtime"),
      banner: false,
      timers: false,
      log: () => undefined,
      durable: (options) => createDurableExtension(options),
      env: {
        PGPROTECT_PROVIDER: "azure",
        PGPROTECT_STATE_DIR: stateDir,
        TMPDIR: stateDir,
        NODE_EXTRA_CA_CERTS: caFile,
        IDENTITY_ENDPOINT: identity.endpoint,
        IDENTITY_HEADER: identity.header,
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: "https://management.azure.com",
        BACKUP_VAULT_IDS: vaultId,
        // The app publishes to its own runtime's topic, as `npm start` wires it.
        EVENTGRID_TOPIC_ENDPOINT: `http://127.0.0.1:${port}/runtime/topics/${localTopicName}`,
      },
      eventGrid,
    });
    const running = host;
    const webhook = `${running.url}/runtime/webhooks/eventgrid?functionName=eventGridAutoProtect`;
    const deliver = async (event: unknown): Promise<number> => {
      const response = await fetch(webhook, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "aeg-event-type": "Notification",
          "x-functions-key": running.keys.systemKeys.eventgrid_extension,
        },
        body: JSON.stringify([event]),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const statusOf = async (serverId: string): Promise<string | undefined> => {
      const response = await fetch(
        `${running.url}/api/protections/${protectionInstanceId(serverId)}`,
        { headers: { "x-functions-key": running.keys.functionKey } },
      );
      if (response.status !== 200) return undefined;
      return ((await response.json()) as { status?: string }).status;
    };

    const events = servers.map((serverId) => resourceWriteEventGridEvent(serverId));
    const started: number[] = [];
    const configured: number[] = [];
    const failures: string[] = [];
    const t0 = performance.now();
    await Promise.all(
      servers.map(async (serverId, i) => {
        await sleep(Math.random() * spreadMs);
        const sent = performance.now();
        const status = await deliver(events[i]);
        const answered = performance.now();
        if (status !== 202) {
          failures.push(`${serverId}: the webhook answered ${status}`);
          return;
        }
        started.push(answered - sent);
        for (;;) {
          const state = await statusOf(serverId);
          if (state === "Completed" || state === "Failed") {
            if (state === "Failed") failures.push(`${serverId}: the protection failed`);
            configured.push(performance.now() - sent);
            return;
          }
          await sleep(50);
        }
      }),
    );
    const wallMs = performance.now() - t0;

    // Event Grid delivers at least once: every event again.
    const again = await Promise.all(events.map((event) => deliver(event)));
    const puts = fake.requestsOf("BackupInstances_CreateOrUpdate").length;
    let instances = 0;
    for (const serverId of servers) {
      instances += (await arranged.backup.listBackupInstancesForDatasource(serverId)).length;
    }

    const p95 = percentile(
      [...started].sort((a, b) => a - b),
      95,
    );
    console.log(
      `azureAutoProtectLatency: ${serverCount} tagged Flexible Servers, events over ${spreadMs / 1000} s, wall ${(wallMs / 1000).toFixed(1)} s`,
    );
    console.log(summary("  event delivered -> protection started", started));
    console.log(summary("  event delivered -> protection configured", configured));
    console.log(
      `  redelivered: ${again.filter((s) => s === 202).length}/${again.length} answered 202; backup instances ${instances}, instance writes ${puts} (expected ${serverCount} each)`,
    );
    console.log(
      `  goal: p95 started < ${goalMs} ms -> ${p95.toFixed(0)} ms, ratio ${(p95 / goalMs).toFixed(2)}`,
    );
    for (const failure of failures) console.log(`  failure: ${failure}`);
    const ok =
      failures.length === 0 &&
      started.length === serverCount &&
      p95 < goalMs &&
      instances === serverCount &&
      puts === serverCount &&
      again.every((s) => s === 202);
    console.log(ok ? "  PASS" : "  FAIL");
    return ok ? 0 : 1;
  } finally {
    await host?.stop();
    await identity.stop();
    await fake.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
