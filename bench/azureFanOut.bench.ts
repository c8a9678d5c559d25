/**
 * Protects a fleet of Flexible Servers (200 by default) through the Azure provider against the
 * fake Resource Manager enforcing Resource Manager's per-subscription token buckets (reads 250
 * burst refilled at 25/s, writes 200 burst refilled at 10/s) and Resource Graph's per-user quota
 * (15 queries per 5 s), the way `protectServer` fans out: the servers are listed once (one
 * Resource Graph query), then one `protectDatasource` orchestration per server is given its
 * datasource as listed, a batch of `--concurrency` at a time (32, `protectServer`'s widest),
 * each batch awaited whole before the next.
 *
 * Everything above the HTTP wire is the app's: the activities of `createActivities` over
 * `createAzureServices` (Data Protection REST client, Resource Graph, the one throttling policy
 * with production limits), authenticated by `DefaultAzureCredential` against a fake App Service
 * managed identity endpoint. Orchestrations run to their end with real, asynchronous activities
 * and durable timers firing at once.
 *
 * The service's long-running operations are shortened, on both sides alike: they announce the
 * `Retry-After` the service's REST docs show for validateForBackup (10 s) and take that long
 * scaled by 0.01, and the client scales the `Retry-After` it honours by the same factor. Backup
 * instance PUTs answer 201 with the instance provisioned, as those docs show. So the time is
 * Resource Manager's buckets', not the service's. `--polls-before-done N` instead ends every
 * operation after N status reads, however long the client waited (a service whose estimate is
 * wrong).
 *
 * The lower bound: Resource Manager lets the first 200 writes through at once and then 10 a
 * second, so W accepted writes take at least (W - 200) / 10 seconds; the reads' bound, (R - 250)
 * / 25 seconds, is printed beside it.
 *
 * Options: `--servers N` (200), `--concurrency N` (32), `--polls-before-done N` (see above).
 *
 * Run: `npm run bench:azure`. Goals: no failure, at most 4 Resource Manager writes per server,
 * and total time within 1.25 times the write bucket's lower bound.
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createActivities } from "../src/activities/createActivities.js";
import { defaultPolicyTemplate } from "../src/domain/policy/template.js";
import { fromServer } from "../src/application/protectionChecks.js";
import {
  protectDatasource,
  type ProtectDatasourceInput,
  type ProtectDatasourceOutput,
} from "../src/orchestrations/protectDatasource.js";
import { createAzureServices } from "../src/providers/azure/azureServices.js";
import { armRequestLimits } from "../src/providers/azure/throttling.js";
import {
  assignVaultRoles,
  FAKE_SUBSCRIPTION_ID,
  FakeArm,
  type RecordedRequest,
} from "../test/support/fakeArm/index.js";
import { FakeManagedIdentity } from "../test/support/fakeArm/fakeManagedIdentity.js";
import { OPENAPI_PATH } from "../test/support/fakeArm/openApiValidator.js";
import { runOrchestration } from "../test/support/fakeArm/orchestrationRunner.js";
import { projectRoot } from "./support/projectRoot.js";

const { values: args } = parseArgs({
  options: {
    servers: { type: "string", default: "200" },
    concurrency: { type: "string", default: "32" },
    "polls-before-done": { type: "string" },
  },
});
const servers = Number(args.servers);
const concurrency = Number(args.concurrency);
const pollsBeforeDone =
  args["polls-before-done"] === undefined ? undefined : Number(args["polls-before-done"]);
if (![servers, concurrency].every((n) => Number.isInteger(n) && n >= 1)) {
  throw new Error("--servers and --concurrency must be positive integers");
}
if (pollsBeforeDone !== undefined && !(Number.isInteger(pollsBeforeDone) && pollsBeforeDone >= 0)) {
  throw new Error("--polls-before-done must be a whole number");
}
/** Service time to real time, on the fake's side and the client's alike. */
const timeScale = 0.01;
/** The `Retry-After` of validateForBackup in the service's REST docs. */
const serviceRetryAfterSeconds = 10;
/** Resource Graph's documented per-user quota. */
const graphQuota = { queries: 15, windowMs: 5_000 };
const goalWritesPerServer = 4;
const goalRatio = 1.25;
const token = "token-from-managed-identity";

/**
 * The fake validates against the Data Protection OpenAPI document, which it finds beside its own
 * source (`test/fixtures/azure/`). Compiled into `dist/`, it looks under `dist/test/fixtures/`,
 * where the compiler copies nothing: the document is placed there once.
 */
function provideOpenApiDocument(): void {
  if (existsSync(OPENAPI_PATH)) return;
  const source = path.join(projectRoot(), "test", "fixtures", "azure", path.basename(OPENAPI_PATH));
  mkdirSync(path.dirname(OPENAPI_PATH), { recursive: true });
  copyFileSync(source, OPENAPI_PATH);
}

/** Requests Resource Manager meters as writes and let through (Resource Graph has its own quota). */
function isAcceptedWrite(request: RecordedRequest): boolean {
  return request.method !== "GET" && request.operationId !== "Resources" && request.status !== 429;
}

function isAcceptedRead(request: RecordedRequest): boolean {
  return request.method === "GET" && request.status !== 429;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  provideOpenApiDocument();
  const fake = await FakeArm.start({
    subscriptionId: FAKE_SUBSCRIPTION_ID,
    token,
    retryAfterSeconds: serviceRetryAfterSeconds,
    ...(pollsBeforeDone === undefined ? { operationTimeScale: timeScale } : { pollsBeforeDone }),
    backupInstancePut: "201",
    limits: { reads: armRequestLimits.reads, writes: armRequestLimits.writes },
    graphQuota,
  });
  const identity = await FakeManagedIdentity.start(token);
  // @azure/identity reads these itself, as it does inside Azure Functions.
  process.env["IDENTITY_ENDPOINT"] = identity.endpoint;
  process.env["IDENTITY_HEADER"] = identity.header;
  try {
    const vaultId = fake.addVault("rg-backup", "vault-fleet");
    const names = Array.from(
      { length: servers },
      (_, i) => `pg-fleet-${String(i).padStart(3, "0")}`,
    );
    // The vault's identity holds its roles already (checked, not granted), so the writes counted
    // are protection's own.
    for (const name of names) {
      assignVaultRoles(
        fake,
        fake.addPostgresServer({ resourceGroup: "rg-db", name, kind: "flexibleServers" }),
      );
    }
    const services = createAzureServices(
      {
        AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION_ID,
        AZURE_RESOURCE_MANAGER_ENDPOINT: fake.url,
        AZURE_TOKEN_AUDIENCE: fake.url,
      },
      undefined,
      {
        tlsOptions: { ca: fake.ca },
        // The service's long-running operations, shortened; throttling keeps production timing.
        polling: { retryAfterScale: timeScale, intervalInMs: 5 },
      },
    );
    await services.backup.createPolicy(
      vaultId,
      "weekly",
      defaultPolicyTemplate("AzureDatabaseForPostgreSQLFlexibleServer"),
    );
    const activities = createActivities({
      provider: services,
      events: { publish: async () => undefined },
      eventSource: "/pgprotect/bench",
    }) as unknown as Record<string, (input: never) => Promise<unknown>>;
    // The fake's buckets start full with the first request of the fan-out; the setup's few
    // requests are left out of the counts but did spend tokens, so the bound below is a little low.
    const before = fake.requests.length;

    console.log(
      `Protecting ${servers} Flexible Servers, ${concurrency} at a time, against Resource Manager's buckets ` +
        `(writes ${armRequestLimits.writes.burst} burst + ${armRequestLimits.writes.refillPerSecond}/s, ` +
        `reads ${armRequestLimits.reads.burst} burst + ${armRequestLimits.reads.refillPerSecond}/s)`,
    );
    const started = performance.now();
    // The fan-out's one listing: every server, with its id, location and tags.
    const fleet = (await services.directory.listServers())
      .filter((server) => server.kind === "flexibleServers")
      .map(fromServer);
    const outcomes: { name: string; outcome: string; code?: string; ms: number }[] = [];
    for (let offset = 0; offset < fleet.length; offset += concurrency) {
      const batch = fleet.slice(offset, offset + concurrency);
      const results = await Promise.allSettled(
        batch.map(async (datasource) => {
          const t0 = performance.now();
          const run = await runOrchestration<ProtectDatasourceOutput>(
            protectDatasource,
            {
              datasource: { datasourceId: datasource.datasourceId },
              resolved: datasource,
              vaultId,
              policyName: "weekly",
            } satisfies ProtectDatasourceInput,
            activities,
          );
          return { output: run.output, ms: performance.now() - t0 };
        }),
      );
      results.forEach((result, i) => {
        const name = batch[i]?.serverName ?? "?";
        if (result.status === "fulfilled") {
          outcomes.push({
            name,
            outcome: result.value.output.outcome,
            ...(result.value.output.error ? { code: result.value.output.error.code } : {}),
            ms: result.value.ms,
          });
        } else {
          outcomes.push({ name, outcome: "Threw", code: String(result.reason), ms: 0 });
        }
      });
    }
    const totalMs = performance.now() - started;

    const requests = fake.requests.slice(before);
    const writes = requests.filter(isAcceptedWrite).length;
    const reads = requests.filter(isAcceptedRead).length;
    const throttled = requests.filter((r) => r.status === 429).length;
    const countByOperation = (list: readonly RecordedRequest[]) => {
      const counts = new Map<string, number>();
      for (const request of list) {
        counts.set(request.operationId, (counts.get(request.operationId) ?? 0) + 1);
      }
      return [...counts].map(([op, n]) => `${op} ${n}`).join(", ");
    };
    const graphQueries = requests.filter(
      (r) => r.operationId === "Resources" && r.status !== 429,
    ).length;
    const failures = outcomes.filter((o) => o.outcome !== "Protected");
    const writeBoundMs =
      (Math.max(0, writes - armRequestLimits.writes.burst) /
        armRequestLimits.writes.refillPerSecond) *
      1000;
    const readBoundMs =
      (Math.max(0, reads - armRequestLimits.reads.burst) / armRequestLimits.reads.refillPerSecond) *
      1000;
    const ratio = writeBoundMs > 0 ? totalMs / writeBoundMs : Number.POSITIVE_INFINITY;
    const bindingMs = Math.max(writeBoundMs, readBoundMs);
    const sorted = outcomes.map((o) => o.ms).sort((a, b) => a - b);

    console.log(`\nServers protected:    ${servers - failures.length} of ${servers}`);
    for (const failure of failures.slice(0, 10)) {
      console.log(`  ${failure.name}: ${failure.outcome} ${failure.code ?? ""}`);
    }
    console.log(
      `Writes accepted:      ${writes} (${(writes / servers).toFixed(2)} per server; ` +
        countByOperation(requests.filter(isAcceptedWrite)) +
        ")",
    );
    console.log(
      `Reads accepted:       ${reads} (${(reads / servers).toFixed(2)} per server; ` +
        countByOperation(requests.filter(isAcceptedRead)) +
        ")",
    );
    console.log(`Resource Graph:       ${graphQueries} queries`);
    console.log(`Answered 429:         ${throttled}`);
    console.log(`Contract violations:  ${fake.violations.length}`);
    console.log(`Total time:           ${seconds(totalMs)}`);
    console.log(
      `One server:           median ${seconds(sorted[Math.floor(sorted.length / 2)] ?? 0)}, ` +
        `slowest ${seconds(sorted.at(-1) ?? 0)}`,
    );
    console.log(
      `Write bucket bound:   ${seconds(writeBoundMs)} ((${writes} - ${armRequestLimits.writes.burst}) / ${armRequestLimits.writes.refillPerSecond}/s)`,
    );
    console.log(
      `Read bucket bound:    ${seconds(readBoundMs)} ((${reads} - ${armRequestLimits.reads.burst}) / ${armRequestLimits.reads.refillPerSecond}/s)`,
    );
    console.log(
      writeBoundMs > 0
        ? `Ratio time/write bound: ${ratio.toFixed(3)} (goal at most ${goalRatio})`
        : `Ratio time/write bound: none (${writes} writes fit in the burst; run more servers)`,
    );
    if (bindingMs > 0) {
      console.log(
        `Ratio time/larger bound (${readBoundMs > writeBoundMs ? "reads" : "writes"}): ${(totalMs / bindingMs).toFixed(3)}`,
      );
    }

    const goals = [
      { name: "no failures", met: failures.length === 0 },
      {
        name: `at most ${goalWritesPerServer} writes per server`,
        met: writes <= goalWritesPerServer * servers,
      },
      {
        name: `time within ${goalRatio} x the write bound`,
        // Below the burst the bucket imposes nothing and the ratio says nothing.
        met: writeBoundMs > 0 ? ratio <= goalRatio : undefined,
      },
    ];
    console.log("");
    for (const goal of goals) {
      const verdict = goal.met === undefined ? "N/A   " : goal.met ? "MET   " : "MISSED";
      console.log(`${verdict} ${goal.name}`);
    }
    if (fake.violations.length > 0) {
      console.log(`First contract violation: ${JSON.stringify(fake.violations[0])}`);
    }
  } finally {
    await identity.stop();
    await fake.stop();
  }
}

await main();
