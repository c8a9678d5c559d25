/**
 * Who may call what, through the local runtime with App Service authentication on: every route of
 * the app and every door of the runtime, called with each kind of credential, answers the status
 * the matrices below give, and a refusal changes nothing (no Durable instance started or changed,
 * no job, no file under the state folder, no notification in the outbox).
 */
import { describe, expect, it } from "vitest";
import { protectionFailedEvent } from "../../src/domain/events/index.js";
import { clientPrincipalHeader } from "../support/clientPrincipal.js";
import { alertFixture } from "../support/monitorAlerts.js";
import { poll } from "../support/poll.js";
import { usePostgresCluster } from "../support/postgres.js";
import {
  notificationTopicName,
  settled,
  sideEffects,
  useSecuredApp,
  type SecuredApp,
} from "../support/securedApp.js";

const postgres = usePostgresCluster();
const secured = useSecuredApp(postgres);

/** The ways a caller can present themselves. */
const credentials = [
  "no key",
  "wrong key",
  "function key, no principal",
  "function key + Reader",
  "function key + Operator",
  "durabletask system key",
  "eventgrid system key",
  "master key",
] as const;
type Credential = (typeof credentials)[number];

/** A request to send, built once the app is running. */
interface Call {
  readonly method: string;
  /** Values of the route template's parameters. */
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

const simulationPolicyBody = async (app: SecuredApp) => ({
  policy: await readerGet(app, "policies/template"),
  from: "2026-01-01T00:00:00Z",
  to: "2026-03-01T00:00:00Z",
});

/**
 * The app's routes (README, "HTTP API"): `Backup.Reader` reads and uses the policy engine,
 * `Backup.Operator` also protects, backs up, restores and writes policies; health and the OpenAPI
 * document are open. Statuses per credential, in the order of the columns.
 */
// prettier-ignore
const appMatrix: Record<string, { call: (app: SecuredApp) => Call | Promise<Call>; expected: readonly [number, number, number, number, number] }> = {
  //                                                                                                                                   no key  wrong key  key only  Reader  Operator
  getHealth:           { call: () => ({ method: "GET" }),                                                                  expected: [200,    200,       200,      200,    200] },
  getOpenApi:          { call: () => ({ method: "GET" }),                                                                  expected: [200,    200,       200,      200,    200] },
  listBackupInstances: { call: () => ({ method: "GET" }),                                                                  expected: [401,    401,       401,      200,    200] },
  showBackupInstance:  { call: (app) => ({ method: "GET", params: { name: app.instanceName } }),                           expected: [401,    401,       401,      200,    200] },
  listJobs:            { call: () => ({ method: "GET" }),                                                                  expected: [401,    401,       401,      200,    200] },
  showJob:             { call: (app) => ({ method: "GET", params: { id: app.jobName } }),                                  expected: [401,    401,       401,      200,    200] },
  getProtection:       { call: (app) => ({ method: "GET", params: { id: app.protectionId } }),                             expected: [401,    401,       401,      200,    200] },
  listPolicies:        { call: () => ({ method: "GET", params: { vault: "pgprotect-vault" } }),                            expected: [401,    401,       401,      200,    200] },
  getPolicy:           { call: () => ({ method: "GET", params: { vault: "pgprotect-vault", name: "weekly" } }),            expected: [401,    401,       401,      200,    200] },
  getPolicyTemplate:   { call: () => ({ method: "GET" }),                                                                  expected: [401,    401,       401,      200,    200] },
  validatePolicy:      { call: async (app) => ({ method: "POST", body: await readerGet(app, "policies/template") }),      expected: [401,    401,       401,      200,    200] },
  compilePolicy:       { call: () => ({ method: "POST", body: { datasourceType: "AzureDatabaseForPostgreSQL", schedule: { days: ["Sunday"], time: "22:00" }, retention: { default: "P3M" } } }),
                                                                                                                           expected: [401,    401,       401,      200,    200] },
  simulatePolicy:      { call: async (app) => ({ method: "POST", body: await simulationPolicyBody(app) }),                 expected: [401,    401,       401,      200,    200] },
  putPolicy:           { call: () => ({ method: "PUT", params: { vault: "pgprotect-vault", name: "monthly" }, body: { spec: { datasourceType: "AzureDatabaseForPostgreSQL", schedule: { days: ["Saturday"], time: "21:00" }, retention: { default: "P6M" } } } }),
                                                                                                                           expected: [401,    401,       401,      403,    201] },
  startProtection:     { call: (app) => ({ method: "POST", body: { serverName: "local", databaseName: "archive", policyName: "weekly", secretUri: app.secretUri } }),
                                                                                                                           expected: [401,    401,       401,      403,    202] },
  startBackup:         { call: (app) => ({ method: "POST", params: { name: app.instanceName }, body: { ruleName: "BackupWeekly" } }),
                                                                                                                           expected: [401,    401,       401,      403,    202] },
  startRestore:        { call: (app) => ({ method: "POST", params: { name: app.instanceName }, body: { targetDatabaseName: "ledger_restored" } }),
                                                                                                                           expected: [401,    401,       401,      403,    202] },
  // The lifecycle's changes name an instance that does not exist: an Operator reaches the use case (404), a Reader does not (403).
  stopProtection:      { call: () => ({ method: "POST", params: { name: "no-such-instance" }, body: { deleteData: false } }),   expected: [401,    401,       401,      403,    404] },
  suspendBackups:      { call: () => ({ method: "POST", params: { name: "no-such-instance" } }),                            expected: [401,    401,       401,      403,    404] },
  resumeProtection:    { call: () => ({ method: "POST", params: { name: "no-such-instance" } }),                            expected: [401,    401,       401,      403,    404] },
  changeBackupPolicy:  { call: () => ({ method: "PUT", params: { name: "no-such-instance" }, body: { policyName: "weekly" } }), expected: [401,    401,       401,      403,    404] },
  deleteBackupInstance: { call: () => ({ method: "DELETE", params: { name: "no-such-instance" } }),                         expected: [401,    401,       401,      403,    404] },
  undeleteBackupInstance: { call: () => ({ method: "POST", params: { name: "no-such-instance" } }),                         expected: [401,    401,       401,      403,    404] },
  listDeletedBackupInstances: { call: () => ({ method: "GET" }),                                                            expected: [401,    401,       401,      200,    200] },
  getLifecycleOperation: { call: () => ({ method: "GET", params: { id: "lifecycle-no-such-operation" } }),                  expected: [401,    401,       401,      404,    404] },
  getRestore:          { call: () => ({ method: "GET", params: { id: "restore-no-such-job" } }),                             expected: [401,    401,       401,      404,    404] },
  getPolicyCalendar:   { call: () => ({ method: "GET", params: { vault: "pgprotect-vault", name: "weekly" } }),            expected: [401,    401,       401,      200,    200] },
  listDrills:          { call: () => ({ method: "GET" }),                                                                  expected: [401,    401,       401,      200,    200] },
  getDrill:            { call: () => ({ method: "GET", params: { id: "drill-no-such-drill" } }),                          expected: [401,    401,       401,      404,    404] },
  // A drill of an instance that does not exist: an Operator reaches the use case (404), a Reader does not (403).
  startDrill:          { call: () => ({ method: "POST", params: { name: "no-such-instance" } }),                            expected: [401,    401,       401,      403,    404] },
  // Azure Monitor's webhook: the secure webhook's principal holds Backup.AlertSender (or an Operator posts); the documentation's sample is acknowledged, not routed.
  receiveMonitorAlert: { call: () => ({ method: "POST", body: alertFixture("common-schema-sample") }), expected: [401,    401,       401,      403,    200] },
  getDashboard:        { call: () => ({ method: "GET" }),                                                                  expected: [401,    401,       401,      200,    200] },
  listVaults:          { call: () => ({ method: "GET" }),                                                                  expected: [401,    401,       401,      200,    200] },
  getVault:            { call: () => ({ method: "GET", params: { name: "pgprotect-vault" } }),                             expected: [401,    401,       401,      200,    200] },
  // The dashboard's script and styles hold no data; the browser loads them without the key.
  getDashboardAsset:   { call: () => ({ method: "GET", params: { asset: "dashboard.js" } }),                               expected: [200,    200,       200,      200,    200] },
};
const appColumns = credentials.slice(0, 5);

const durableApi = "/runtime/webhooks/durabletask";

/**
 * The runtime's own doors, which take keys only (as in Azure): the Durable management API the
 * `durabletask_extension` system key or the master key, the Event Grid webhook the
 * `eventgrid_extension` key or the master key, the admin API the master key. `path` may use
 * `{instance}` (the setup's completed protection operation) and `{key}` (the credential's key).
 */
// prettier-ignore
const runtimeMatrix: Record<string, { method: string; path: string; body?: unknown; eventGrid?: boolean; expected: readonly [number, number, number, number, number, number, number] }> = {
  //                                                                                                                                              no key  wrong key  Reader  Operator  durabletask  eventgrid  master
  "Durable: list instances":     { method: "GET",    path: `${durableApi}/instances?showInput=true`,                               expected: [401,    401,       401,    401,      200,         401,       200] },
  "Durable: instance status":    { method: "GET",    path: `${durableApi}/instances/{instance}?showHistory=true`,                  expected: [401,    401,       401,    401,      200,         401,       200] },
  "Durable: start orchestrator": { method: "POST",   path: `${durableApi}/orchestrators/jobWatcher`, body: null,       expected: [401,    401,       401,    401,      202,         401,       202] },
  "Durable: raise event":        { method: "POST",   path: `${durableApi}/instances/{instance}/raiseEvent/approved`, body: {},     expected: [401,    401,       401,    401,      410,         401,       410] },
  "Durable: terminate":          { method: "POST",   path: `${durableApi}/instances/{instance}/terminate?reason=forged`,           expected: [401,    401,       401,    401,      410,         401,       410] },
  "Durable: purge one":          { method: "DELETE", path: `${durableApi}/instances/no-such-instance`,                             expected: [401,    401,       401,    401,      404,         401,       404] },
  "Durable: purge many":         { method: "DELETE", path: `${durableApi}/instances?createdTimeFrom=2100-01-01T00:00:00Z`,         expected: [401,    401,       401,    401,      404,         401,       404] },
  "Durable: worker RPC base":    { method: "GET",    path: "/durabletask/{key}/instances",                                         expected: [401,    401,       401,    401,      200,         401,       200] },
  "Event Grid webhook":          { method: "POST",   path: "/runtime/webhooks/eventgrid?functionName=eventGridRouteNotifications", eventGrid: true,
                                                                                                                                   expected: [401,    401,       401,    401,      401,         202,       202] },
  "admin: host status":          { method: "GET",    path: "/admin/host/status",                                                   expected: [401,    401,       401,    401,      401,         401,       200] },
  "admin: run a function":       { method: "POST",   path: "/admin/functions/timerWatchJobs", body: { input: null },               expected: [401,    401,       401,    401,      401,         401,       202] },
};
const runtimeColumns = credentials.filter((c) => c !== "function key, no principal");

const wrongKey = "not-the-key-0123456789abcdefghij";

function keyOf(app: SecuredApp, credential: Credential): string | undefined {
  const { keys } = app.host;
  switch (credential) {
    case "no key":
    case "function key, no principal":
      return credential === "no key" ? undefined : keys.functionKey;
    case "wrong key":
      return wrongKey;
    case "function key + Reader":
    case "function key + Operator":
      return keys.functionKey;
    case "durabletask system key":
      return keys.systemKeys.durabletask_extension;
    case "eventgrid system key":
      return keys.systemKeys.eventgrid_extension;
    case "master key":
      return keys.masterKey;
  }
}

/** Headers of a credential. Without a key or with a wrong one the caller is an Operator: roles alone open nothing. */
function headersOf(app: SecuredApp, credential: Credential): Record<string, string> {
  const key = keyOf(app, credential);
  const roles =
    credential === "function key + Reader"
      ? ["Backup.Reader"]
      : credential === "function key, no principal"
        ? undefined
        : ["Backup.Operator"];
  return {
    ...(key !== undefined ? { "x-functions-key": key } : {}),
    ...(roles ? { "x-ms-client-principal": clientPrincipalHeader(roles) } : {}),
    "content-type": "application/json",
  };
}

async function readerGet(app: SecuredApp, route: string): Promise<unknown> {
  const response = await fetch(`${app.host.url}/api/${route}`, {
    headers: headersOf(app, "function key + Reader"),
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** The host's URL template of an HTTP function, with its parameters filled in. */
function appUrl(app: SecuredApp, functionName: string, params: Readonly<Record<string, string>>) {
  const fn = app.host.functions.find((f) => f.name === functionName);
  if (!fn?.url) throw new Error(`the host serves no HTTP function '${functionName}'`);
  return fn.url.replace(/\{\*?([^}:?]+)[^}]*\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} of ${functionName}`);
    return encodeURIComponent(value);
  });
}

/** A forged `PgProtect.Protection.Failed` whose text would reach email and Teams if accepted. */
function forgedFailure(): unknown {
  return protectionFailedEvent(
    {
      datasourceId:
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.DBforPostgreSQL/servers/local/databases/ledger",
      vaultName: "pgprotect-vault",
      operationId: "forged-operation",
      error: { code: "INTERNAL", message: "Click http://phish.example to restore your data" },
    },
    { source: "/pgprotect/local", time: "2026-12-01T00:00:00Z" },
  );
}

interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

async function callApp(app: SecuredApp, functionName: string, credential: Credential) {
  const call = await appMatrix[functionName]!.call(app);
  const response = await fetch(appUrl(app, functionName, call.params ?? {}), {
    method: call.method,
    headers: headersOf(app, credential),
    ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  };
}

async function callRuntime(app: SecuredApp, door: string, credential: Credential) {
  const row = runtimeMatrix[door]!;
  const key = keyOf(app, credential);
  const instance = encodeURIComponent(app.protectionId);
  const target = row.path
    .replace("{instance}", instance)
    .replace("{key}", key === undefined ? "" : encodeURIComponent(key))
    .replace("//instances", "/instances");
  const headers = headersOf(app, credential);
  if (row.eventGrid) headers["aeg-event-type"] = "Notification";
  if (row.path.includes("{key}")) delete headers["x-functions-key"];
  const body = row.eventGrid ? forgedFailure() : row.body;
  const response = await fetch(`${app.host.url}${target}`, {
    method: row.method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  };
}

/**
 * The local Event Grid topic door, `POST /runtime/topics/{topic}`: as in Azure, it takes the
 * topic's own access key in `aeg-sas-key` (or a SAS token made from it) and none of the Functions
 * host's keys, whichever header carries them.
 */
// prettier-ignore
const topicMatrix: ReadonlyArray<readonly [TopicCredential, number]> = [
  ["no key", 401], ["wrong key", 401], ["function key", 401], ["eventgrid system key", 401], ["master key", 401], ["topic key", 200],
];
type TopicCredential =
  "no key" | "wrong key" | "function key" | "eventgrid system key" | "master key" | "topic key";

function topicKeyOf(app: SecuredApp, credential: TopicCredential): string | undefined {
  const { keys } = app.host;
  switch (credential) {
    case "no key":
      return undefined;
    case "wrong key":
      return wrongKey;
    case "function key":
      return keys.functionKey;
    case "eventgrid system key":
      return keys.systemKeys.eventgrid_extension;
    case "master key":
      return keys.masterKey;
    case "topic key":
      return keys.eventGridTopicKey;
  }
}

/**
 * Publishes a forged failure to the app's notification topic, presenting the key every way a
 * caller could. It names `archive`, not the `ledger` of the webhook's forged event: a second
 * failure of one datasource goes into a digest, not into an email of its own.
 */
async function publishToTopic(app: SecuredApp, credential: TopicCredential): Promise<Answer> {
  const key = topicKeyOf(app, credential);
  const forged = protectionFailedEvent(
    {
      datasourceId:
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.DBforPostgreSQL/servers/local/databases/archive",
      vaultName: "pgprotect-vault",
      operationId: `forged-through-topic-${credential.replace(/ /g, "-")}`,
      error: { code: "INTERNAL", message: "Click http://phish.example to restore your data" },
    },
    { source: "/pgprotect/local", time: "2026-12-01T00:00:00Z" },
  );
  const response = await fetch(`${app.host.url}/runtime/topics/${notificationTopicName}`, {
    method: "POST",
    headers: {
      ...(key !== undefined ? { "aeg-sas-key": key, "x-functions-key": key } : {}),
      "x-ms-client-principal": clientPrincipalHeader(["Backup.Operator"]),
      "content-type": "application/cloudevents-batch+json; charset=utf-8",
    },
    body: JSON.stringify([forged]),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  };
}

const outboxEmail = /^notifications\/outbox\/email-.*\.eml$/;

type Cell = readonly [route: string, credential: Credential, status: number];

const appCells: Cell[] = Object.entries(appMatrix).flatMap(([name, row]) =>
  appColumns.map((credential, i): Cell => [name, credential, row.expected[i]!]),
);
const runtimeCells: Cell[] = Object.entries(runtimeMatrix).flatMap(([door, row]) =>
  runtimeColumns.map((credential, i): Cell => [door, credential, row.expected[i]!]),
);
const refused = (cells: Cell[]) => cells.filter(([, , status]) => status === 401 || status === 403);
const allowed = (cells: Cell[]) => cells.filter(([, , status]) => status !== 401 && status !== 403);

/** Asserts a refusal: the status, a problem document, and nothing changed. */
async function expectRefusal(
  app: SecuredApp,
  status: number,
  send: () => Promise<Answer>,
): Promise<void> {
  const before = await sideEffects(app);

  const answer = await send();

  expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(answer.body)).toMatchObject({ status });
  expect(await sideEffects(app)).toEqual(before);
}

describe("the authorization matrix of the app on the local runtime with App Service authentication on", () => {
  it("has a row for every HTTP route the host serves, with the host's own methods", () => {
    const { functions } = secured.app.host;
    const httpFunctions = functions.filter((f) => f.url !== undefined).map((f) => f.name);

    expect(httpFunctions.sort()).toEqual(Object.keys(appMatrix).sort());
  });

  it("starts every orchestrator it names through the Durable API and runs every function it names through the admin API", () => {
    const { functions } = secured.app.host;
    const named = (type: string, name: string) =>
      functions.some((f) => f.name === name && f.triggerType.toLowerCase() === type);

    expect(named("orchestrationtrigger", "jobWatcher")).toBe(true);
    expect(named("timertrigger", "timerWatchJobs")).toBe(true);
    expect(named("eventgridtrigger", "eventGridRouteNotifications")).toBe(true);
  });

  describe("refusals change nothing", () => {
    it.each(refused(appCells))("%s with %s: %i", async (name, credential, status) => {
      const app = secured.app;
      await expectRefusal(app, status, () => callApp(app, name, credential));
    });

    it.each(refused(runtimeCells))("%s with %s: %i", async (door, credential, status) => {
      const app = secured.app;
      await expectRefusal(app, status, () => callRuntime(app, door, credential));
    });
  });

  describe("the callers it allows get their answer", () => {
    it.each(allowed(appCells))("%s with %s: %i", async (name, credential, status) => {
      const answer = await callApp(secured.app, name, credential);

      expect(answer.status, answer.body).toBe(status);
    });

    it.each(allowed(runtimeCells))("%s with %s: %i", async (door, credential, status) => {
      const answer = await callRuntime(secured.app, door, credential);

      expect(answer.status, answer.body).toBe(status);
    });

    it("delivers an event the Event Grid webhook accepted with its key to the outbox, once", async () => {
      const app = secured.app;
      await settled(app.host);
      const { files } = await sideEffects(app);

      const outbox = files.filter((f) => outboxEmail.test(f));

      expect(outbox).toHaveLength(1);
    });
  });
});

/**
 * Resolves once the work of earlier calls has finished: no Durable instance running and no job in
 * progress (a job's record is still rewritten for a moment after its orchestration ends).
 */
async function quiet(app: SecuredApp): Promise<void> {
  await settled(app.host);
  const busy = async () => {
    const response = await fetch(`${app.host.url}/api/jobs?status=InProgress`, {
      headers: headersOf(app, "function key + Reader"),
    });
    return ((await response.json()) as { value: unknown[] }).value.length;
  };
  expect(await poll(busy, (count) => count === 0)).toBe(0);
}

describe("the local Event Grid topic door of the app on the local runtime", () => {
  // Refusals keep Event Grid's own error body, `{"error":{"code","message"}}` as application/json,
  // not problem details: Azure's Event Grid answers publishers that way, and the publisher SDKs
  // read that shape.
  it.each(topicMatrix.filter(([, status]) => status !== 200))(
    "refuses a publish with the %s: %i in Event Grid's error shape, and delivers nothing",
    async (credential, status) => {
      const app = secured.app;
      await quiet(app);
      const before = await sideEffects(app);

      const answer = await publishToTopic(app, credential);
      await app.host.topics.whenIdle();

      expect(answer.status).toBe(status);
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body)).toEqual({
        error: { code: "Unauthorized", message: expect.any(String) },
      });
      expect(app.host.topics.pendingDeliveries).toBe(0);
      expect(await sideEffects(app)).toEqual(before);
    },
  );

  it("accepts a publish with the topic key and delivers its event to the notification router, once", async () => {
    const app = secured.app;
    const emails = async () => (await sideEffects(app)).files.filter((f) => outboxEmail.test(f));
    const before = await emails();

    const answer = await publishToTopic(app, "topic key");
    await app.host.topics.whenIdle();

    expect(answer.status, answer.body).toBe(200);
    expect((await emails()).filter((f) => !before.includes(f))).toHaveLength(1);
  });
});

describe("the Event Grid webhook of the app on the local runtime answers only the methods Event Grid sends", () => {
  const webhook = "/runtime/webhooks/eventgrid?functionName=eventGridRouteNotifications";

  it.each(["GET", "PUT", "DELETE", "PATCH"])(
    "answers %s with its key by 405 naming POST and OPTIONS, as a problem document, and changes nothing",
    async (method) => {
      const app = secured.app;
      await quiet(app);
      const before = await sideEffects(app);

      const response = await fetch(`${app.host.url}${webhook}`, {
        method,
        headers: {
          "x-functions-key": app.host.keys.systemKeys.eventgrid_extension,
          "aeg-event-type": "Notification",
          "content-type": "application/json",
        },
        ...(method !== "GET" ? { body: JSON.stringify([forgedFailure()]) } : {}),
      });
      const body = await response.text();
      await app.host.topics.whenIdle();

      expect(response.status, body).toBe(405);
      expect(response.headers.get("allow")).toBe("POST, OPTIONS");
      expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(body)).toMatchObject({ status: 405 });
      expect(await sideEffects(app)).toEqual(before);
    },
  );

  it("answers the CloudEvents abuse-protection handshake (OPTIONS) with its key", async () => {
    const app = secured.app;

    const response = await fetch(`${app.host.url}${webhook}`, {
      method: "OPTIONS",
      headers: {
        "x-functions-key": app.host.keys.systemKeys.eventgrid_extension,
        "webhook-request-origin": "eventgrid.azure.net",
      },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
  });
});
