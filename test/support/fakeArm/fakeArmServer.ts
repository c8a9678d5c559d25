/**
 * A fake Azure Resource Manager for Microsoft.DataProtection, served over HTTPS on loopback.
 *
 * It answers like the service: policies are PUT synchronously (200); backup instance PUTs answer
 * 201 with a body and `Azure-AsyncOperation`, or 202 with `Azure-AsyncOperation` and `Location`;
 * validateForBackup, ad-hoc backup, restore and stop protection are 202 operations whose status
 * reads `Inprogress` (then `InProgress`) with `endTime` `0001-01-01T00:00:00` until done; status
 * URLs alternate between subscription/location, resource group and vault scope; lists page with
 * `nextLink`; errors carry a `UserFacingError` in `additionalInfo`. Every request and every
 * response is validated against the OpenAPI document: request violations are answered 400
 * `ContractViolation`, and all violations are kept in {@link FakeArm.violations} for the test to
 * assert empty.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenApiValidator, type ContractViolation } from "./openApiValidator.js";
import { RequiredOnlyPruner } from "./requiredOnly.js";
import { FakeRestores } from "./restores.js";
import { FakeRoleAssignmentCondition } from "./roleAssignmentCondition.js";
import { FakeCallerReadAccess } from "./callerReadAccess.js";
import { isStorageAccountsQuery, storageAccountRows } from "./storageAccounts.js";
import { FakeVaultPosture } from "./vaultPosture.js";
import { FakePostgresServers, isPostgresServerPath } from "./fakePostgresServers.js";
import { loopbackCertificate } from "../loopbackCertificate.js";

type Json = Record<string, unknown>;

/** A request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly operationId: string;
  readonly at: number;
  readonly body: unknown;
  /**
   * The client's `x-ms-client-request-id`: the pipeline keeps it across the attempts of one
   * request, so it ties a throttled request to its retry.
   */
  readonly clientRequestId?: string;
  /** The `Retry-After` seconds the fake answered with, when it did. */
  retryAfterSeconds?: number;
  /** The status the fake answered with; 0 when it closed the connection without answering. */
  status?: number;
  /** How the answer was lost after the fake carried the request out, when it was. */
  lost?: LostAnswer;
}

/**
 * How an answer is lost: a 500 sent instead of it, or the connection closed without one, after
 * the request was carried out; or `500-undone`, a 500 for a request the service never carried
 * out (a gateway that failed before passing it on), which looks the same to the client.
 */
export type LostAnswer = "500" | "drop" | "500-undone";

/** The principal id of every fake Backup vault's system-assigned identity. */
export const FAKE_VAULT_PRINCIPAL_ID = "11111111-2222-3333-4444-555555555555";

/** How the fake answers. */
export interface FakeArmOptions {
  readonly subscriptionId: string;
  /** Region of vaults and status URLs; `westus` by default. */
  readonly location?: string;
  /** Bearer token the fake accepts. */
  readonly token?: string;
  /** `Retry-After` seconds on 202 answers; 1 by default. */
  readonly retryAfterSeconds?: number;
  /** Status polls answered as running before an operation ends; 2 by default. */
  readonly pollsBeforeDone?: number;
  /**
   * When set, an operation ends once the `Retry-After` it announced has passed, scaled by this
   * factor into real time (the client's own scale should match), however often it was polled: a
   * service whose estimate is right. `pollsBeforeDone` is then ignored.
   */
  readonly operationTimeScale?: number;
  /**
   * How backup instance PUTs answer: `201` with the instance already provisioned (as the service's
   * REST docs show), `201-provisioning` with it still being configured, or `202` (as the
   * contract allows).
   */
  readonly backupInstancePut?: "201" | "201-provisioning" | "202";
  /** Status headers of 202 answers: both (as the service sends) or `Location` only (as vault operations do). */
  readonly lroHeaders?: "both" | "location";
  /** Items per page of every list; 2 by default, so that paging is always exercised. */
  readonly pageSize?: number;
  /** Job reads answered `InProgress` before a job completes; 1 by default. */
  readonly jobReadsBeforeDone?: number;
  /** Enforce token buckets like Resource Manager, answering 429 with `Retry-After` when empty. */
  readonly limits?: { readonly reads: Bucket; readonly writes: Bucket };
  /**
   * The time the buckets refill by and requests are stamped with (`RecordedRequest.at`);
   * `Date.now` by default. A test shares a virtual clock with the app's throttle so that the
   * buckets' arithmetic, not the machine's speed, decides which request is refused.
   */
  readonly clock?: { now(): number };
  /** Resource Graph's per-user quota: queries per window. */
  readonly graphQuota?: { readonly queries: number; readonly windowMs: number };
  /**
   * `required-only`: every Data Protection answer is pruned to the properties the OpenAPI
   * document requires (see `requiredOnly.ts`) before it is validated and sent, as a service
   * that omits everything optional would answer. `full` (the default) answers everything.
   */
  readonly answers?: "full" | "required-only";
}

/** A token bucket's size and refill rate. */
export interface Bucket {
  readonly burst: number;
  readonly refillPerSecond: number;
}

interface Vault {
  readonly id: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly location: string;
  /** Whether the vault has its system-assigned identity (it has by default). */
  readonly identity: boolean;
}

interface Instance {
  readonly id: string;
  readonly name: string;
  readonly vault: Vault;
  properties: Json;
  readonly createdAt: string;
}

interface Operation {
  readonly id: string;
  readonly vault: Vault;
  polls: number;
  readonly startTime: string;
  endTime?: string;
  outcome: () => { error?: Json; jobId?: string };
  result?: { error?: Json; jobId?: string };
}

interface Job {
  readonly id: string;
  readonly name: string;
  readonly vault: Vault;
  readonly instance: Instance;
  properties: Json;
  reads: number;
  finalStatus: "Completed" | "Failed";
  errorDetails?: Json[];
  onComplete?: () => void;
}

interface PostgresServer {
  readonly id: string;
  readonly name: string;
  readonly kind: "servers" | "flexibleServers";
  readonly location: string;
  tags: Record<string, string>;
  readonly databases: string[];
}

interface KeyVault {
  readonly id: string;
  readonly vaultUri: string;
  readonly rbac: boolean;
  readonly accessPolicies: readonly FakeKeyVaultAccessPolicy[];
}

/** An access policy entry of a fake key vault, as Resource Manager records it. */
export interface FakeKeyVaultAccessPolicy {
  readonly objectId: string;
  readonly applicationId?: string;
  readonly permissions: { readonly secrets: readonly string[] };
}

interface RecoveryPoint {
  readonly id: string;
  readonly instanceId: string;
  readonly properties: Json;
}

/** A soft-deleted backup instance and its `DeletionInfo`. */
interface DeletedInstance {
  readonly instance: Instance;
  readonly deletionInfo: Json;
}

const RUNNING_END_TIME = "0001-01-01T00:00:00";

/** How long a deleted backup instance can be undeleted: the service's default of 14 days. */
const SOFT_DELETE_RETENTION_MS = 14 * 86_400_000;

let validatorInstance: OpenApiValidator | undefined;
let prunerInstance: RequiredOnlyPruner | undefined;

function operationIdToken(): string {
  // Real operation ids are base64 ending in "=="; keep them URL-path safe.
  for (;;) {
    const token = randomBytes(16).toString("base64");
    if (/^[A-Za-z0-9]+==$/.test(token)) return token;
  }
}

/** The operation id at the end of a status URL. */
function operationTokenOf(statusUrl: string | undefined): string {
  return new URL(statusUrl ?? "https://invalid/").pathname.split("/").at(-1) ?? "";
}

function userFacingError(
  code: string,
  message: string,
  recommendedAction: string[],
  detailed?: string,
): Json {
  return {
    code,
    message,
    additionalInfo: [
      {
        type: "UserFacingError",
        info: {
          message,
          recommendedAction,
          code,
          target: "",
          innerError: {
            code,
            additionalInfo: detailed ? { DetailedNonLocalisedMessage: detailed } : {},
          },
          isRetryable: false,
          isUserError: true,
          properties: { ActivityId: randomUUID() },
          details: [],
        },
      },
    ],
  };
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

const notFound = (what: string) =>
  new HttpAnswer(404, { error: { code: "ResourceNotFound", message: `${what} was not found.` } });

const userError = (
  status: number,
  code: string,
  message: string,
  action: string[],
  detailed?: string,
) => new HttpAnswer(status, { error: userFacingError(code, message, action, detailed) });

/** The fake Resource Manager. */
export class FakeArm {
  /** Base URL, e.g. `https://127.0.0.1:41234`. */
  readonly url: string;
  /** PEM certificate to trust (`tlsOptions.ca`). */
  readonly ca: string;
  readonly requests: RecordedRequest[] = [];
  readonly violations: ContractViolation[] = [];

  /** The vaults' security settings and resource guard proxies (`vaultPosture.ts`). */
  readonly vaultPosture = new FakeVaultPosture();
  /** The condition on the app's own role assignment writes (`roleAssignmentCondition.ts`). */
  readonly roleAssignmentCondition = new FakeRoleAssignmentCondition();
  /** The app's own right to read, from its role assignments (`callerReadAccess.ts`); off at first. */
  readonly callerReadAccess = new FakeCallerReadAccess();
  private readonly vaults = new Map<string, Vault>();
  private readonly policies = new Map<string, Json>();
  private readonly instances = new Map<string, Instance>();
  private readonly operations = new Map<string, Operation>();
  private readonly jobs = new Map<string, Job>();
  private readonly recoveryPoints: RecoveryPoint[] = [];
  private readonly deniedDatasources = new Map<string, string>();
  private readonly deletedInstances = new Map<string, DeletedInstance>();
  private readonly unlistedVaults = new Set<string>();
  private readonly unindexedJobs = new Set<string>();
  private readonly throttled: { remaining: number; retryAfter: number }[] = [];
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private scopeCounter = 0;
  private readonly servers = new Map<string, PostgresServer>();
  /** The PostgreSQL servers' own GET: storage and replication role (`fakePostgresServers.ts`). */
  readonly postgresServers = new FakePostgresServers();
  private readonly keyVaults: KeyVault[] = [];
  private readonly assignments: {
    id: string;
    name: string;
    scope: string;
    roleDefinitionId: string;
    principalId: string;
  }[] = [];
  private graphWindow = { start: 0, used: 0 };
  /** Restores: validateRestore, the storage role, restores as files written for real (`restores.ts`). */
  readonly restores: FakeRestores<HttpAnswer> = new FakeRestores<HttpAnswer>({
    instanceOf: (params) => this.instanceOf(params),
    hasRecoveryPoint: (instanceId, pointId) =>
      this.recoveryPoints.some((p) => p.instanceId === instanceId && p.id.endsWith(`/${pointId}`)),
    createRestoreJob: (instance, destination) =>
      this.createJob(instance as Instance, "Restore", true, {}, destination),
    startOperation: (vault, outcome) => this.startOperation(vault as Vault, outcome),
    roleAssignments: () => this.assignments,
    answer: (status, body) => new HttpAnswer(status, body),
    userError,
    userFacingError,
    principalId: FAKE_VAULT_PRINCIPAL_ID,
  });
  private readonly lostAnswers: { operationId: string; how: LostAnswer; remaining: number }[] = [];

  private constructor(
    private readonly server: Server,
    private readonly options: Required<
      Omit<FakeArmOptions, "limits" | "token" | "graphQuota" | "operationTimeScale" | "clock">
    > &
      Pick<FakeArmOptions, "limits" | "token" | "graphQuota" | "operationTimeScale" | "clock">,
    private readonly validator: OpenApiValidator,
    ca: string,
    private readonly pruner: RequiredOnlyPruner | undefined,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `https://127.0.0.1:${port}`;
    this.ca = ca;
  }

  /** Starts a fake on a free loopback port. */
  static async start(options: FakeArmOptions): Promise<FakeArm> {
    const { key, cert } = await loopbackCertificate();
    validatorInstance ??= new OpenApiValidator();
    const resolved = {
      location: "westus",
      retryAfterSeconds: 1,
      pollsBeforeDone: 2,
      backupInstancePut: "201" as const,
      lroHeaders: "both" as const,
      pageSize: 2,
      jobReadsBeforeDone: 1,
      answers: "full" as const,
      ...options,
    };
    if (resolved.answers === "required-only") prunerInstance ??= new RequiredOnlyPruner();
    const server = createServer({ key, cert });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const fake = new FakeArm(
      server,
      resolved,
      validatorInstance,
      cert,
      resolved.answers === "required-only" ? prunerInstance : undefined,
    );
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      void fake.handle(req, res);
    });
    return fake;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Adds a Backup vault; returns its id. */
  addVault(resourceGroup: string, name: string, options: { identity?: boolean } = {}): string {
    const id = `/subscriptions/${this.options.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DataProtection/backupVaults/${name}`;
    this.vaults.set(id.toLowerCase(), {
      id,
      resourceGroup,
      name,
      location: this.options.location,
      identity: options.identity ?? true,
    });
    return id;
  }

  /** Makes validateForBackup of a datasource fail as when the vault lacks a role. */
  denyPermissions(datasourceId: string, detailedMessage: string): void {
    this.deniedDatasources.set(datasourceId.toLowerCase(), detailedMessage);
  }

  /** Makes a backup instance report that configuring its protection failed, with the service's error. */
  failProtection(instanceId: string, error: { code: string; message: string }): void {
    const instance = this.instances.get(instanceId.toLowerCase());
    if (!instance) throw new Error(`the fake has no backup instance ${instanceId}`);
    instance.properties["protectionStatus"] = {
      status: "ConfiguringProtectionFailed",
      errorDetails: { ...error, recommendedAction: ["Fix it, then protect again."] },
    };
    instance.properties["currentProtectionState"] = "ConfiguringProtectionFailed";
  }

  /**
   * Leaves a vault's backup instances out of list-for-datasource answers, as Resource Manager
   * does for a vault the caller may not read (another team's subscription); the service still
   * refuses to protect their datasources a second time.
   */
  hideFromDatasourceListing(vaultId: string): void {
    this.unlistedVaults.add(vaultId.toLowerCase());
  }

  /**
   * Leaves a job out of Resource Graph answers until {@link indexInGraph}, as Resource Graph
   * shows jobs minutes after Resource Manager does; Resource Manager still answers it.
   */
  lagInGraph(jobId: string): void {
    this.unindexedJobs.add(jobId.toLowerCase());
  }

  /** Resource Graph catches up with a job left out by {@link lagInGraph}. */
  indexInGraph(jobId: string): void {
    this.unindexedJobs.delete(jobId.toLowerCase());
  }

  /** Adds a PostgreSQL server with databases (Resource Graph lists it, Resource Manager its databases); returns its id. */
  addPostgresServer(server: {
    resourceGroup: string;
    name: string;
    kind: "servers" | "flexibleServers";
    tags?: Record<string, string>;
    databases?: string[];
  }): string {
    const id = `/subscriptions/${this.options.subscriptionId}/resourceGroups/${server.resourceGroup}/providers/Microsoft.DBforPostgreSQL/${server.kind}/${server.name}`;
    this.servers.set(id.toLowerCase(), {
      id,
      name: server.name,
      kind: server.kind,
      location: this.options.location,
      tags: { ...server.tags },
      databases: [
        ...(server.databases ?? []),
        ...(server.kind === "flexibleServers" ? ["azure_maintenance", "azure_sys"] : []),
      ],
    });
    return id;
  }

  /**
   * Adds a key vault Resource Graph finds by its vault URI (`https://{name}.vault.azure.net/` by
   * default; a fake Key Vault's URL in end-to-end tests); returns its id.
   */
  addKeyVault(keyVault: {
    resourceGroup: string;
    name: string;
    /** Whether it uses Azure RBAC rather than access policies. */
    rbac: boolean;
    accessPolicies?: readonly FakeKeyVaultAccessPolicy[];
    vaultUri?: string;
  }): string {
    const id = `/subscriptions/${this.options.subscriptionId}/resourceGroups/${keyVault.resourceGroup}/providers/Microsoft.KeyVault/vaults/${keyVault.name}`;
    this.keyVaults.push({
      id,
      vaultUri: keyVault.vaultUri ?? `https://${keyVault.name}.vault.azure.net/`,
      rbac: keyVault.rbac,
      accessPolicies: keyVault.accessPolicies ?? [],
    });
    return id;
  }

  /** Assigns a built-in role (by GUID) to a principal at a scope. */
  assignRole(scope: string, roleDefinitionGuid: string, principalId: string): void {
    const name = randomUUID();
    this.assignments.push({
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      scope,
      roleDefinitionId: `/subscriptions/${this.options.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleDefinitionGuid}`,
      principalId,
    });
  }

  /** Role assignments made so far (seeded or created by clients). */
  roleAssignments(): readonly { scope: string; roleDefinitionId: string; principalId: string }[] {
    return this.assignments;
  }

  /** Replaces a server's tags. */
  setTags(serverId: string, tags: Record<string, string>): void {
    const server = this.servers.get(serverId.toLowerCase());
    if (!server) throw new Error(`no server ${serverId}`);
    server.tags = { ...tags };
  }

  /** Answers the next `count` requests 429 with `Retry-After: retryAfterSeconds`. */
  throttleNext(count: number, retryAfterSeconds = 1): void {
    this.throttled.push({ remaining: count, retryAfter: retryAfterSeconds });
  }

  /** Makes a job fail instead of completing, with the service's error shape. */
  failJob(jobId: string, code: string, message: string): void {
    const job = [...this.jobs.values()].find(
      (j) => j.id.toLowerCase() === jobId.toLowerCase() || j.name === jobId,
    );
    if (!job) throw new Error(`no job ${jobId}`);
    job.finalStatus = "Failed";
    job.errorDetails = [
      {
        code,
        message,
        recommendedAction: ["Retry the operation next week."],
        isRetryable: false,
        isUserError: true,
      },
    ];
  }

  /**
   * Loses the answers of the next `times` requests of an operation: the fake carries each
   * request out (a backup starts its job) and then answers 500, or closes the connection
   * without answering (`drop`), as when a gateway or the network fails after the service acted;
   * or answers 500 without carrying it out (`500-undone`).
   */
  loseAnswers(operationId: string, how: LostAnswer, times = 1): void {
    this.lostAnswers.push({ operationId, how, remaining: times });
  }

  /** Takes one lost answer of the kind planned for the request's operation, if any. */
  private takeLostAnswer(record: RecordedRequest, how: LostAnswer): LostAnswer | undefined {
    const planned = this.lostAnswers.find(
      (l) => l.remaining > 0 && l.how === how && l.operationId === record.operationId,
    );
    if (!planned) return undefined;
    planned.remaining -= 1;
    record.lost = how;
    return how;
  }

  /** Jobs the fake holds for a backup instance (by its name), oldest first. */
  jobsOf(backupInstanceName: string): { id: string; category: string; status: string }[] {
    return [...this.jobs.values()]
      .filter((j) => j.instance.name.toLowerCase() === backupInstanceName.toLowerCase())
      .map((j) => ({
        id: j.id,
        category: String(j.properties["operationCategory"]),
        status: String(j.properties["status"]),
      }));
  }

  /** Requests of one operation, in order. */
  requestsOf(operationId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operationId === operationId);
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", this.url);
    let body: unknown;
    let answer: HttpAnswer;
    const matched = this.validator.match(method, url);
    try {
      body = text === "" ? undefined : (JSON.parse(text) as unknown);
    } catch {
      body = text;
    }
    const graph = url.pathname.toLowerCase() === "/providers/microsoft.resourcegraph/resources";
    const authorization = /\/providers\/Microsoft\.Authorization\/roleAssignments(\/[^/]+)?$/i.test(
      url.pathname,
    );
    // PostgreSQL's own provider is outside the Data Protection contract.
    const postgres =
      /\/providers\/microsoft\.dbforpostgresql\/[^/]+\/[^/]+\/databases(\/[^/]+)?$/i.test(
        url.pathname,
      );
    const postgresServer = isPostgresServerPath(url.pathname);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      operationId: graph
        ? "Resources"
        : postgresServer
          ? "Servers_Get"
          : postgres
            ? "Databases_Get"
            : authorization
              ? `RoleAssignments_${method}`
              : (matched?.operationId ?? "unknown"),
      at: this.now(),
      body,
      ...(typeof req.headers["x-ms-client-request-id"] === "string"
        ? { clientRequestId: req.headers["x-ms-client-request-id"] }
        : {}),
    };
    this.requests.push(record);
    // Resource Graph has its own per-user quota, not Resource Manager's buckets.
    const throttle = graph ? undefined : this.throttleAnswer(method);
    // Resource Graph does not refuse a read: it answers only what the caller may read.
    const readRefusal = graph
      ? undefined
      : this.callerReadAccess.refusal(method, url.pathname, this.assignments);
    if (req.headers.authorization !== `Bearer ${this.options.token ?? "fake-arm-token"}`) {
      answer = new HttpAnswer(401, {
        error: { code: "AuthenticationFailed", message: "Authentication failed." },
      });
    } else if (readRefusal) {
      answer = new HttpAnswer(readRefusal.status, readRefusal.body);
    } else if (
      method === "POST" &&
      url.pathname.toLowerCase() === "/providers/microsoft.resourcegraph/resources"
    ) {
      answer = this.graphQuery(url, body);
    } else if (postgres) {
      answer = this.postgresDatabases(method, url);
    } else if (postgresServer) {
      const served = this.postgresServers.answer(
        method,
        url,
        this.servers.get(url.pathname.toLowerCase()),
        (message) => this.violations.push({ direction: "request", operation: "Servers", message }),
      );
      answer = new HttpAnswer(served.status, served.body);
    } else if (authorization) {
      answer = this.authorization(method, url, body);
    } else if (throttle) {
      answer = throttle;
    } else {
      const violations = this.validator.validateRequest(method, url, body);
      if (violations.length > 0) {
        this.violations.push(...violations);
        answer = new HttpAnswer(400, {
          error: {
            code: "ContractViolation",
            message: violations.map((v) => v.message).join("; "),
          },
        });
      } else if (this.takeLostAnswer(record, "500-undone")) {
        answer = new HttpAnswer(500, {
          error: {
            code: "InternalServerError",
            message: "The server encountered an internal error.",
          },
        });
      } else {
        try {
          answer = this.route(matched?.operationId ?? "", matched?.pathParams ?? {}, url, body);
        } catch (error) {
          answer = new HttpAnswer(500, {
            error: { code: "InternalError", message: String(error) },
          });
        }
      }
    }
    const lose =
      answer.status < 300
        ? (this.takeLostAnswer(record, "500") ?? this.takeLostAnswer(record, "drop"))
        : undefined;
    if (lose) {
      // The service goes on with what it accepted though nobody follows it.
      const op = this.operations.get(
        operationTokenOf(answer.headers["azure-asyncoperation"] ?? answer.headers["location"]),
      );
      if (op && !op.result) {
        op.result = op.outcome();
        op.endTime = new Date().toISOString();
      }
      if (lose === "drop") {
        record.status = 0;
        req.socket.destroy();
        return;
      }
      answer = new HttpAnswer(500, {
        error: {
          code: "InternalServerError",
          message: "The server encountered an internal error.",
        },
      });
    }
    const contract =
      answer.status !== 401 && !graph && !postgres && !postgresServer && !authorization;
    if (contract && this.pruner && answer.body !== undefined) {
      answer = new HttpAnswer(
        answer.status,
        this.pruner.prune(method, url, answer.status, answer.body),
        answer.headers,
      );
    }
    record.status = answer.status;
    const retryAfter = Number(answer.headers["retry-after"]);
    if (answer.status === 429 && Number.isFinite(retryAfter)) record.retryAfterSeconds = retryAfter;
    // Resource Graph is outside the Data Protection contract; its request is checked by hand.
    if (contract) {
      this.violations.push(
        ...this.validator.validateResponse(method, url, answer.status, answer.body),
      );
    }
    const headers: Record<string, string> = {
      "x-ms-request-id": randomUUID(),
      ...this.remainingHeaders(method),
      ...answer.headers,
    };
    if (answer.body !== undefined) headers["content-type"] = "application/json; charset=utf-8";
    res.writeHead(answer.status, headers);
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  }

  /** Role assignments: list at a scope (`assignedTo(...)` filter) and create. */
  private authorization(method: string, url: URL, body: unknown): HttpAnswer {
    const match =
      /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments(?:\/([^/]+))?$/i.exec(
        url.pathname,
      );
    const scope = decodeURIComponent(match?.[1] ?? "");
    if (url.searchParams.get("api-version") !== "2022-04-01") {
      this.violations.push({
        direction: "request",
        operation: "RoleAssignments",
        message: `api-version ${url.searchParams.get("api-version")}`,
      });
      return new HttpAnswer(400, {
        error: { code: "InvalidApiVersionParameter", message: "Unsupported api-version" },
      });
    }
    const body2 = (a: (typeof this.assignments)[number]) => ({
      id: a.id,
      name: a.name,
      type: "Microsoft.Authorization/roleAssignments",
      properties: {
        scope: a.scope,
        roleDefinitionId: a.roleDefinitionId,
        principalId: a.principalId,
        principalType: "ServicePrincipal",
      },
    });
    if (method === "GET" && !match?.[2]) {
      const principal = /assignedTo\('([^']+)'\)/.exec(url.searchParams.get("$filter") ?? "")?.[1];
      const covers = (assigned: string) => {
        const a = assigned.toLowerCase();
        const s2 = scope.toLowerCase();
        return s2 === a || s2.startsWith(`${a}/`);
      };
      return new HttpAnswer(200, {
        value: this.assignments
          .filter((a) => covers(a.scope) && (!principal || a.principalId === principal))
          .map(body2),
      });
    }
    if (method === "PUT" && match?.[2]) {
      const properties = (
        body as
          | {
              properties?: {
                roleDefinitionId?: string;
                principalId?: string;
                principalType?: string;
              };
            }
          | undefined
      )?.properties;
      if (!properties?.roleDefinitionId || !properties.principalId) {
        this.violations.push({
          direction: "request",
          operation: "RoleAssignments_Create",
          message: "roleDefinitionId and principalId are required",
        });
        return new HttpAnswer(400, {
          error: { code: "InvalidRequest", message: "missing properties" },
        });
      }
      const refused = this.roleAssignmentCondition.refusal(url.pathname, {
        roleDefinitionId: properties.roleDefinitionId,
        principalId: properties.principalId,
        principalType: properties.principalType,
      });
      if (refused) return new HttpAnswer(refused.status, refused.body);
      // Resource Manager keeps one assignment of a role to a principal at a scope: another name
      // for the same is refused, as when two callers grant it at once.
      const principal = properties.principalId.toLowerCase();
      const role = properties.roleDefinitionId.split("/").at(-1)?.toLowerCase();
      const existing = this.assignments.find(
        (a) =>
          a.scope.toLowerCase() === scope.toLowerCase() &&
          a.principalId.toLowerCase() === principal &&
          a.roleDefinitionId.split("/").at(-1)?.toLowerCase() === role,
      );
      if (existing && existing.name !== match[2]) {
        return new HttpAnswer(409, {
          error: { code: "RoleAssignmentExists", message: "The role assignment already exists." },
        });
      }
      const assignment = {
        id: url.pathname,
        name: match[2],
        scope,
        roleDefinitionId: properties.roleDefinitionId,
        principalId: properties.principalId,
      };
      this.assignments.push(assignment);
      return new HttpAnswer(201, body2(assignment));
    }
    return new HttpAnswer(405, { error: { code: "MethodNotAllowed", message: method } });
  }

  /** `GET {server}/databases[/{name}]` of the PostgreSQL resource provider. */
  private postgresDatabases(method: string, url: URL): HttpAnswer {
    const match =
      /^(.*\/providers\/microsoft\.dbforpostgresql\/[^/]+\/[^/]+)\/databases(?:\/([^/]+))?$/i.exec(
        url.pathname,
      );
    const server = match?.[1] ? this.servers.get(match[1].toLowerCase()) : undefined;
    const expected = server?.kind === "flexibleServers" ? "2024-08-01" : "2017-12-01";
    if (method !== "GET" || url.searchParams.get("api-version") !== expected) {
      this.violations.push({
        direction: "request",
        operation: "Databases",
        message: `${method} with api-version ${url.searchParams.get("api-version")}, expected GET with ${expected}`,
      });
      return new HttpAnswer(400, {
        error: { code: "InvalidApiVersionParameter", message: "Unsupported api-version" },
      });
    }
    if (!server) return notFound("Server");
    const body = (name: string) => ({
      id: `${server.id}/databases/${name}`,
      name,
      type: `Microsoft.DBforPostgreSQL/${server.kind}/databases`,
      properties: { charset: "UTF8", collation: "en_US.utf8" },
    });
    const name = match?.[2] ? decodeURIComponent(match[2]) : undefined;
    if (name === undefined) return this.page(url, server.databases.map(body));
    return server.databases.includes(name)
      ? new HttpAnswer(200, body(name))
      : notFound(`Database '${name}'`);
  }

  /** Resource Graph's `resources` query, for the queries the app sends. */
  private graphQuery(url: URL, body: unknown): HttpAnswer {
    const now = Date.now();
    const quota = this.options.graphQuota;
    const quotaHeaders = (): Record<string, string> => {
      if (!quota) return {};
      const left = Math.max(0, quota.windowMs - (now - this.graphWindow.start));
      const seconds = Math.ceil(left / 1000);
      return {
        "x-ms-user-quota-remaining": String(Math.max(0, quota.queries - this.graphWindow.used)),
        "x-ms-user-quota-resets-after": `00:00:${String(Math.min(59, seconds)).padStart(2, "0")}`,
      };
    };
    if (quota) {
      if (now - this.graphWindow.start >= quota.windowMs)
        this.graphWindow = { start: now, used: 0 };
      if (this.graphWindow.used >= quota.queries) {
        return new HttpAnswer(
          429,
          {
            error: {
              code: "RateLimiting",
              message:
                "Please provide below info when asking for support: timestamp, correlationId.",
            },
          },
          quotaHeaders(),
        );
      }
      this.graphWindow.used += 1;
    }
    const request = body as {
      subscriptions?: unknown;
      query?: unknown;
      options?: { $top?: unknown; $skipToken?: unknown; resultFormat?: unknown };
    };
    const problems: string[] = [];
    if (url.searchParams.get("api-version") !== "2021-03-01")
      problems.push("api-version must be 2021-03-01");
    if (
      !Array.isArray(request?.subscriptions) ||
      request.subscriptions.some((s) => typeof s !== "string")
    )
      problems.push("subscriptions must be an array of strings");
    const serversQuery =
      "resources | where type in~ ('microsoft.dbforpostgresql/flexibleservers','microsoft.dbforpostgresql/servers')";
    const jobsQuery =
      "RecoveryServicesResources | where type =~ 'microsoft.dataprotection/backupvaults/backupjobs'";
    const keyVaultsQuery = "resources | where type =~ 'microsoft.keyvault/vaults'";
    const instancesQuery =
      "RecoveryServicesResources | where type =~ 'microsoft.dataprotection/backupvaults/backupinstances'";
    if (
      typeof request?.query !== "string" ||
      !(
        request.query.startsWith(jobsQuery) ||
        request.query.startsWith(serversQuery) ||
        request.query.startsWith(keyVaultsQuery) ||
        request.query.startsWith(instancesQuery) ||
        isStorageAccountsQuery(request.query)
      )
    ) {
      problems.push(
        "the fake answers only the backup jobs, backup instances, PostgreSQL servers, key vaults and storage accounts queries",
      );
    }
    if (problems.length > 0) {
      this.violations.push(
        ...problems.map((message) => ({
          direction: "request" as const,
          operation: "Resources",
          message,
        })),
      );
      return new HttpAnswer(400, { error: { code: "BadRequest", message: problems.join("; ") } });
    }
    const query = String(request.query);
    if (isStorageAccountsQuery(query)) {
      const rows = storageAccountRows(
        query,
        request.subscriptions as string[],
        this.restores.storageAccounts(),
      );
      const page = { totalRecords: rows.length, count: rows.length, data: rows, facets: [] };
      return new HttpAnswer(200, { ...page, resultTruncated: "false" }, quotaHeaders());
    }
    if (query.startsWith(keyVaultsQuery)) {
      // The key vault a secret URI names: `... and properties.vaultUri =~ '<uri>' | project ...`.
      const vaultUri = /properties\.vaultUri =~ '([^']*)'/.exec(query)?.[1]?.toLowerCase();
      // The fake's key vaults all live in its one subscription.
      const visible = (request.subscriptions as string[]).some(
        (s) => s.toLowerCase() === this.options.subscriptionId.toLowerCase(),
      );
      const rows = this.keyVaults
        .filter((kv) => visible && kv.vaultUri.toLowerCase() === vaultUri)
        .map((kv) => ({
          id: kv.id,
          enableRbacAuthorization: kv.rbac,
          accessPolicies: kv.accessPolicies.map((policy) => ({
            tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
            ...policy,
          })),
        }));
      const page = { totalRecords: rows.length, count: rows.length, data: rows, facets: [] };
      return new HttpAnswer(200, { ...page, resultTruncated: "false" }, quotaHeaders());
    }
    if (query.startsWith(instancesQuery)) {
      // The fake's vaults all live in its one subscription.
      const visible = (request.subscriptions as string[]).some(
        (s) => s.toLowerCase() === this.options.subscriptionId.toLowerCase(),
      );
      const rows = [...this.instances.values()]
        .filter(() => visible)
        .sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()))
        .map((instance) => ({
          id: instance.id,
          datasourceId: String(
            (instance.properties["dataSourceInfo"] as Json | undefined)?.["resourceID"] ?? "",
          ),
          protectionStatus: String(
            (instance.properties["protectionStatus"] as Json | undefined)?.["status"] ?? "",
          ),
        }));
      const page = { totalRecords: rows.length, count: rows.length, data: rows, facets: [] };
      return new HttpAnswer(200, { ...page, resultTruncated: "false" }, quotaHeaders());
    }
    if (query.startsWith(serversQuery)) {
      const equals = (column: string): string | undefined =>
        new RegExp(`\\| where ${column} =~ '([^']*)'`).exec(query)?.[1]?.toLowerCase();
      const rows = [...this.servers.values()]
        .filter((server) => !equals("name") || server.name.toLowerCase() === equals("name"))
        .filter((server) => !equals("id") || server.id.toLowerCase() === equals("id"))
        .sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()))
        .map((server) => ({
          id: server.id,
          name: server.name,
          type: `Microsoft.DBforPostgreSQL/${server.kind}`,
          location: server.location,
          tags: server.tags,
        }));
      return new HttpAnswer(
        200,
        {
          totalRecords: rows.length,
          count: rows.length,
          data: rows,
          facets: [],
          resultTruncated: "false",
        },
        quotaHeaders(),
      );
    }
    const inList = (column: string): string[] | undefined => {
      const match = new RegExp(`\\| where ${column} in~ \\(([^)]*)\\)`).exec(query);
      return match?.[1]?.split(",").map((v) => v.trim().replace(/^'|'$/g, "").toLowerCase());
    };
    // `>=` (at or after) or `>` (after) the instant, as the query says.
    const [, sinceOperator, since] = /(>=?) datetime\(([^)]+)\)/.exec(query) ?? [];
    const subscriptions = (request.subscriptions as string[]).map((s) => s.toLowerCase());
    const rows = [...this.jobs.values()]
      .filter((job) => !this.unindexedJobs.has(job.id.toLowerCase()))
      .map((job) => {
        const p = job.properties;
        const category = String(p["operationCategory"]);
        const operation =
          category === "Backup"
            ? `${p["isUserTriggered"] ? "OnDemand" : "Scheduled"}Backup`
            : category;
        return {
          ...this.jobBody(job, false),
          properties: p,
          resourceGroup: job.vault.resourceGroup,
          subscriptionId: this.options.subscriptionId,
          vaultName: job.vault.name,
          status: p["status"],
          operation,
          datasourceId: p["dataSourceId"],
        };
      })
      .filter((row) => subscriptions.includes(row.subscriptionId.toLowerCase()))
      .filter(
        (row) => !inList("vaultName") || inList("vaultName")?.includes(row.vaultName.toLowerCase()),
      )
      .filter(
        (row) => !inList("status") || inList("status")?.includes(String(row.status).toLowerCase()),
      )
      .filter(
        (row) => !inList("operation") || inList("operation")?.includes(row.operation.toLowerCase()),
      )
      .filter(
        (row) =>
          !inList("datasourceId") ||
          inList("datasourceId")?.includes(String(row.datasourceId).toLowerCase()),
      )
      .filter((row) => {
        if (!since) return true;
        const p = row.properties as Json;
        const from = Date.parse(since);
        const after = (time: unknown) =>
          time !== undefined &&
          (sinceOperator === ">="
            ? Date.parse(String(time)) >= from
            : Date.parse(String(time)) > from);
        return after(p["startTime"]) || after(p["endTime"]);
      })
      .sort((a, b) =>
        String((a.properties as Json)["startTime"]).localeCompare(
          String((b.properties as Json)["startTime"]),
        ),
      );
    const top = typeof request.options?.$top === "number" ? request.options.$top : 1000;
    const skip =
      typeof request.options?.$skipToken === "string"
        ? Number(Buffer.from(request.options.$skipToken, "base64").toString("utf8"))
        : 0;
    const data = rows.slice(skip, skip + top);
    const more = skip + top < rows.length;
    return new HttpAnswer(
      200,
      {
        totalRecords: rows.length,
        count: data.length,
        data,
        facets: [],
        resultTruncated: "false",
        ...(more ? { $skipToken: Buffer.from(String(skip + top)).toString("base64") } : {}),
      },
      quotaHeaders(),
    );
  }

  /** Marks a job as scheduled (not user-triggered), as the policy's own runs are. */
  markScheduled(jobId: string): void {
    const job = [...this.jobs.values()].find((j) => j.id.toLowerCase() === jobId.toLowerCase());
    if (!job) throw new Error(`no job ${jobId}`);
    job.properties["isUserTriggered"] = false;
  }

  private now(): number {
    return this.options.clock?.now() ?? Date.now();
  }

  private bucketKind(method: string): "reads" | "writes" {
    return method === "GET" ? "reads" : "writes";
  }

  private throttleAnswer(method: string): HttpAnswer | undefined {
    const kind = this.bucketKind(method);
    const head = this.throttled[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.throttled.shift();
      return this.tooMany(kind, head.retryAfter);
    }
    const limits = this.options.limits?.[kind];
    if (!limits) return undefined;
    const now = this.now();
    const bucket = this.buckets.get(kind) ?? { tokens: limits.burst, at: now };
    bucket.tokens = Math.min(
      limits.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * limits.refillPerSecond,
    );
    bucket.at = now;
    this.buckets.set(kind, bucket);
    if (bucket.tokens < 1) {
      return this.tooMany(
        kind,
        Math.max(1, Math.ceil((1 - bucket.tokens) / limits.refillPerSecond)),
      );
    }
    bucket.tokens -= 1;
    return undefined;
  }

  private tooMany(kind: "reads" | "writes", retryAfter: number): HttpAnswer {
    return new HttpAnswer(
      429,
      {
        error: {
          code: "TooManyRequests",
          message: `The request is being throttled as the limit has been reached for operation type - '${kind === "reads" ? "Read" : "Write"}'. For more information, see - https://aka.ms/msdn-throttling`,
        },
      },
      { "retry-after": String(retryAfter) },
    );
  }

  private remainingHeaders(method: string): Record<string, string> {
    const kind = this.bucketKind(method);
    const bucket = this.buckets.get(kind);
    const remaining = bucket
      ? Math.max(0, Math.floor(bucket.tokens))
      : kind === "reads"
        ? 249
        : 199;
    return { [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(remaining) };
  }

  private vaultOf(params: Record<string, string>): Vault | undefined {
    const id = `/subscriptions/${params["subscriptionId"]}/resourceGroups/${params["resourceGroupName"]}/providers/Microsoft.DataProtection/backupVaults/${params["vaultName"]}`;
    return this.vaults.get(id.toLowerCase());
  }

  private page(url: URL, items: unknown[]): HttpAnswer {
    const skip = Number(url.searchParams.get("$skipToken") ?? "0");
    const value = items.slice(skip, skip + this.options.pageSize);
    const body: Json = { value };
    if (skip + this.options.pageSize < items.length) {
      const next = new URL(url.toString());
      next.searchParams.set("$skipToken", String(skip + this.options.pageSize));
      body["nextLink"] = next.toString();
    }
    return new HttpAnswer(200, body);
  }

  private route(
    operationId: string,
    params: Record<string, string>,
    url: URL,
    body: unknown,
  ): HttpAnswer {
    switch (operationId) {
      case "BackupVaults_Get": {
        const vault = this.vaultOf(params);
        return vault
          ? new HttpAnswer(200, this.vaultBody(vault))
          : notFound(`Backup vault '${params["vaultName"]}'`);
      }
      case "BackupVaults_GetInResourceGroup":
        return this.page(
          url,
          [...this.vaults.values()]
            .filter(
              (v) => v.resourceGroup.toLowerCase() === params["resourceGroupName"]?.toLowerCase(),
            )
            .map((v) => this.vaultBody(v)),
        );
      case "BackupVaults_GetInSubscription":
        return this.page(
          url,
          [...this.vaults.values()].map((v) => this.vaultBody(v)),
        );
      case "DppResourceGuardProxy_List": {
        const vault = this.vaultOf(params);
        if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
        return this.page(url, this.vaultPosture.resourceGuardProxies(vault.id));
      }
      case "BackupPolicies_CreateOrUpdate":
        return this.putPolicy(params, body as Json);
      case "BackupPolicies_Get": {
        const vault = this.vaultOf(params);
        const policy =
          vault &&
          this.policies.get(
            `${vault.id}/backupPolicies/${params["backupPolicyName"]}`.toLowerCase(),
          );
        return policy
          ? new HttpAnswer(200, policy)
          : notFound(`Backup policy '${params["backupPolicyName"]}'`);
      }
      case "BackupPolicies_List": {
        const vault = this.vaultOf(params);
        if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
        const prefix = `${vault.id}/backupPolicies/`.toLowerCase();
        return this.page(
          url,
          [...this.policies.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v),
        );
      }
      case "BackupInstances_ValidateForBackup":
        return this.validateForBackup(params, (body as { backupInstance: Json }).backupInstance);
      case "BackupInstances_CreateOrUpdate":
        return this.putInstance(params, url, body as Json);
      case "BackupInstances_Get": {
        const instance = this.instanceOf(params);
        return instance
          ? new HttpAnswer(200, this.instanceBody(instance))
          : notFound(`Backup instance '${params["backupInstanceName"]}'`);
      }
      case "BackupInstances_List": {
        const vault = this.vaultOf(params);
        if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
        return this.page(
          url,
          [...this.instances.values()]
            .filter((i) => i.vault === vault)
            .map((i) => this.instanceBody(i)),
        );
      }
      case "BackupInstancesExtensionRouting_List": {
        const datasourceId = `/${params["resourceId"] ?? ""}`.toLowerCase();
        return this.page(
          url,
          [...this.instances.values()]
            .filter(
              (i) =>
                String((i.properties["dataSourceInfo"] as Json)["resourceID"]).toLowerCase() ===
                  datasourceId && !this.unlistedVaults.has(i.vault.id.toLowerCase()),
            )
            .map((i) => this.instanceBody(i)),
        );
      }
      case "BackupInstances_SuspendBackups":
        return this.protectionAction(params, "suspendBackups");
      case "BackupInstances_ResumeBackups":
        return this.protectionAction(params, "resumeBackups");
      case "BackupInstances_ResumeProtection":
        return this.protectionAction(params, "resumeProtection");
      case "BackupInstances_ValidateForModifyBackup":
        return this.validateForModifyBackup(
          params,
          (body as { backupInstance: Json }).backupInstance,
        );
      case "BackupInstances_Delete":
        return this.deleteInstance(params);
      case "DeletedBackupInstances_List": {
        const vault = this.vaultOf(params);
        if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
        return this.page(
          url,
          [...this.deletedInstances.values()]
            .filter((d) => d.instance.vault === vault)
            .map((d) => this.deletedBody(d)),
        );
      }
      case "DeletedBackupInstances_Get": {
        const deleted = this.deletedOf(params);
        return deleted
          ? new HttpAnswer(200, this.deletedBody(deleted))
          : notFound(`Deleted backup instance '${params["backupInstanceName"]}'`);
      }
      case "DeletedBackupInstances_Undelete":
        return this.undelete(params);
      case "BackupInstances_StopProtection":
        return this.stopProtection(params);
      case "BackupInstances_AdhocBackup":
        return this.adhocBackup(params, body as Json);
      case "BackupInstances_TriggerRestore":
        return this.restores.trigger(params, body as Json);
      case "BackupInstances_ValidateForRestore":
        return this.restores.validate(params, body as Json);
      case "RecoveryPoints_List": {
        const instance = this.instanceOf(params);
        if (!instance) return notFound(`Backup instance '${params["backupInstanceName"]}'`);
        return this.page(
          url,
          this.recoveryPoints
            .filter((p) => p.instanceId === instance.id)
            .map((p) => ({
              id: p.id,
              name: p.id.split("/").pop(),
              type: "Microsoft.DataProtection/backupVaults/backupInstances/recoveryPoints",
              properties: p.properties,
            })),
        );
      }
      case "Jobs_List": {
        const vault = this.vaultOf(params);
        if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
        return this.page(
          url,
          [...this.jobs.values()]
            .filter((j) => j.vault === vault)
            .map((j) => this.jobBody(j, false)),
        );
      }
      case "Jobs_Get": {
        const vault = this.vaultOf(params);
        const job =
          vault && this.jobs.get(`${vault.id}/backupJobs/${params["jobId"]}`.toLowerCase());
        return job
          ? new HttpAnswer(200, this.jobBody(job, true))
          : notFound(`Job '${params["jobId"]}'`);
      }
      case "OperationStatus_Get":
      case "OperationStatusResourceGroupContext_Get":
      case "OperationStatusBackupVaultContext_Get":
        return this.operationStatus(params["operationId"] ?? "", url);
      case "OperationResult_Get":
        return this.operationResult(params["operationId"] ?? "");
      case "BackupInstances_GetBackupInstanceOperationResult": {
        const op = this.operations.get(params["operationId"] ?? "");
        if (!op) return notFound("Operation");
        this.advance(op);
        if (!op.result) return new HttpAnswer(202);
        const instance = this.instanceOf(params);
        return instance
          ? new HttpAnswer(200, this.instanceBody(instance))
          : notFound("Backup instance");
      }
      default:
        return new HttpAnswer(400, {
          error: {
            code: "NotImplementedInFake",
            message: `${operationId} is not served by the fake`,
          },
        });
    }
  }

  private vaultBody(vault: Vault): Json {
    return this.vaultPosture.answer(vault.id, {
      id: vault.id,
      name: vault.name,
      type: "Microsoft.DataProtection/Backupvaults",
      location: vault.location,
      identity: vault.identity
        ? {
            type: "SystemAssigned",
            principalId: FAKE_VAULT_PRINCIPAL_ID,
            tenantId: "66666666-7777-8888-9999-000000000000",
          }
        : { type: "None" },
      properties: {
        provisioningState: "Succeeded",
        storageSettings: [{ datastoreType: "VaultStore", type: "LocallyRedundant" }],
      },
    });
  }

  private putPolicy(params: Record<string, string>, body: Json): HttpAnswer {
    const vault = this.vaultOf(params);
    if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
    const id = `${vault.id}/backupPolicies/${params["backupPolicyName"]}`;
    const properties = structuredClone(body["properties"]) as Json;
    // The service stamps tag ids as "<tagName>_".
    for (const rule of (properties["policyRules"] as Json[]) ?? []) {
      const trigger = rule["trigger"] as Json | undefined;
      for (const criterion of (trigger?.["taggingCriteria"] as Json[] | undefined) ?? []) {
        const tag = criterion["tagInfo"] as Json;
        tag["id"] = `${String(tag["tagName"])}_`;
      }
    }
    const resource = {
      id,
      name: params["backupPolicyName"],
      type: "Microsoft.DataProtection/backupVaults/backupPolicies",
      properties,
    };
    this.policies.set(id.toLowerCase(), resource);
    return new HttpAnswer(200, resource);
  }

  private instanceOf(params: Record<string, string>): Instance | undefined {
    const vault = this.vaultOf(params);
    return (
      vault &&
      this.instances.get(
        `${vault.id}/backupInstances/${params["backupInstanceName"]}`.toLowerCase(),
      )
    );
  }

  private protectingInstance(datasourceId: string): Instance | undefined {
    return [...this.instances.values()].find(
      (i) =>
        String((i.properties["dataSourceInfo"] as Json)["resourceID"]).toLowerCase() ===
          datasourceId.toLowerCase() &&
        (i.properties["protectionStatus"] as Json)["status"] !== "ProtectionStopped",
    );
  }

  private checkBackupInstance(vault: Vault, instance: Json): HttpAnswer | undefined {
    const datasourceId = String((instance["dataSourceInfo"] as Json)["resourceID"]);
    const existing = this.protectingInstance(datasourceId);
    if (existing) {
      return userError(
        400,
        "UserErrorDppDatasourceAlreadyProtected",
        `Datasource is already protected under the Backup vault ${existing.vault.id}.`,
        [
          `Delete the backup instance ${existing.name} from the vault ${existing.vault.name} and retry.`,
        ],
      );
    }
    const policyId = String((instance["policyInfo"] as Json)["policyId"]);
    if (
      !this.policies.has(policyId.toLowerCase()) ||
      !policyId.toLowerCase().startsWith(vault.id.toLowerCase())
    ) {
      return userError(
        400,
        "UserErrorPolicyNotFound",
        `Backup policy ${policyId} was not found in the vault.`,
        ["Create the policy in the vault, or give the id of an existing policy."],
      );
    }
    return undefined;
  }

  private validateForBackup(params: Record<string, string>, instance: Json): HttpAnswer {
    const vault = this.vaultOf(params);
    if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
    const rejected = this.checkBackupInstance(vault, instance);
    if (rejected) return rejected;
    const datasourceId = String((instance["dataSourceInfo"] as Json)["resourceID"]);
    const denied = this.deniedDatasources.get(datasourceId.toLowerCase());
    const jobId = randomUUID();
    return this.startOperation(vault, () =>
      denied
        ? {
            error: userFacingError(
              "UserErrorMissingRequiredPermissions",
              "Appropriate permissions to perform the operation is missing.",
              [
                "Grant appropriate permissions to perform this operation as mentioned at https://aka.ms/UserErrorMissingRequiredPermissions and retry the operation.",
              ],
              denied,
            ),
          }
        : { jobId },
    );
  }

  private putInstance(params: Record<string, string>, url: URL, body: Json): HttpAnswer {
    const vault = this.vaultOf(params);
    if (!vault) return notFound(`Backup vault '${params["vaultName"]}'`);
    const name = params["backupInstanceName"] ?? "";
    const id = `${vault.id}/backupInstances/${name}`;
    const existing = this.instances.get(id.toLowerCase());
    const properties = structuredClone(body["properties"]) as Json;
    if (existing) {
      const policyId = String((properties["policyInfo"] as Json | undefined)?.["policyId"] ?? "");
      const changed =
        policyId.toLowerCase() !==
        String((existing.properties["policyInfo"] as Json)["policyId"]).toLowerCase();
      const refused = changed ? this.policyRefusal(existing, policyId) : undefined;
      if (refused) return refused;
      existing.properties = { ...existing.properties, ...properties };
      return new HttpAnswer(200, this.instanceBody(existing));
    }
    const rejected = this.checkBackupInstance(vault, properties);
    if (rejected) return rejected;
    const instance: Instance = {
      id,
      name,
      vault,
      createdAt: new Date().toISOString(),
      properties: {
        ...properties,
        protectionStatus: { status: "ConfiguringProtection" },
        currentProtectionState: "ConfiguringProtection",
        provisioningState: "Provisioning",
      },
    };
    this.instances.set(id.toLowerCase(), instance);
    const accepted = this.startOperation(
      vault,
      () => {
        instance.properties["protectionStatus"] = { status: "ProtectionConfigured" };
        instance.properties["currentProtectionState"] = "ProtectionConfigured";
        instance.properties["provisioningState"] = "Succeeded";
        return {};
      },
      `${url.pathname}/operationResults`,
    );
    if (this.options.backupInstancePut !== "202") {
      const { location: _location, ...headers } = accepted.headers;
      if (this.options.backupInstancePut === "201") {
        // The operation is still reported by its status URL, which answers Succeeded.
        const op = this.operations.get(operationTokenOf(headers["azure-asyncoperation"]));
        if (op) {
          op.result = op.outcome();
          op.endTime = new Date().toISOString();
        }
      }
      return new HttpAnswer(201, this.instanceBody(instance), headers);
    }
    return accepted;
  }

  private stopProtection(params: Record<string, string>): HttpAnswer {
    const instance = this.instanceOf(params);
    if (!instance) return notFound(`Backup instance '${params["backupInstanceName"]}'`);
    return this.startOperation(instance.vault, () => {
      instance.properties["protectionStatus"] = { status: "ProtectionStopped" };
      instance.properties["currentProtectionState"] = "ProtectionStopped";
      return {};
    });
  }

  private policyOf(instance: Instance): Json | undefined {
    return this.policies.get(
      String((instance.properties["policyInfo"] as Json)["policyId"]).toLowerCase(),
    );
  }

  private adhocBackup(params: Record<string, string>, body: Json): HttpAnswer {
    const instance = this.instanceOf(params);
    if (!instance) return notFound(`Backup instance '${params["backupInstanceName"]}'`);
    const options = body["backupRuleOptions"] as {
      ruleName: string;
      triggerOption: { retentionTagOverride?: string };
    };
    if ((instance.properties["protectionStatus"] as Json)["status"] !== "ProtectionConfigured") {
      return userError(
        400,
        "UserErrorProtectionNotConfigured",
        "Protection is not configured for the backup instance.",
        ["Resume protection of the backup instance and retry."],
      );
    }
    const rules =
      ((this.policyOf(instance)?.["properties"] as Json | undefined)?.["policyRules"] as Json[]) ??
      [];
    if (
      !rules.some((r) => r["objectType"] === "AzureBackupRule" && r["name"] === options.ruleName)
    ) {
      return userError(
        400,
        "UserErrorBackupRuleNotFound",
        `Backup rule '${options.ruleName}' is not in the policy.`,
        [
          "Give the name of a backup rule of the policy, e.g. BackupWeekly; retention tags go in retentionTagOverride.",
        ],
      );
    }
    const tag = options.triggerOption.retentionTagOverride ?? "Default";
    if (
      !rules.some(
        (r) =>
          r["objectType"] === "AzureRetentionRule" &&
          String(r["name"]).toLowerCase() === tag.toLowerCase(),
      )
    ) {
      return userError(
        400,
        "UserErrorRetentionTagNotFound",
        `Retention tag '${tag}' has no retention rule in the policy.`,
        ["Give the name of a retention rule of the policy in retentionTagOverride."],
      );
    }
    const job = this.createJob(instance, "Backup", true, {
      PolicyRuleName: options.ruleName,
      RetentionTag: tag,
    });
    job.onComplete = () => {
      const pointId = randomUUID().replace(/-/g, "");
      const at = String(job.properties["startTime"]);
      this.recoveryPoints.push({
        id: `${instance.id}/recoveryPoints/${pointId}`,
        instanceId: instance.id,
        properties: {
          objectType: "AzureBackupDiscreteRecoveryPoint",
          friendlyName: pointId,
          recoveryPointId: pointId,
          recoveryPointTime: at,
          recoveryPointType: "Full",
          policyName: String((instance.properties["policyInfo"] as Json)["policyId"])
            .split("/")
            .pop(),
          retentionTagName: tag,
          recoveryPointState: "Completed",
          recoveryPointDataStoresDetails: [
            {
              id: randomUUID(),
              type: "VaultStore",
              creationTime: at,
              state: "COMMITTED",
              visible: true,
            },
          ],
        },
      });
    };
    return this.startOperation(instance.vault, () => ({ jobId: job.id }));
  }

  private createJob(
    instance: Instance,
    category: "Backup" | "Restore",
    userTriggered: boolean,
    details: Record<string, string>,
    destination?: string,
  ): Job {
    const name = randomUUID();
    const id = `${instance.vault.id}/backupJobs/${name}`;
    const info = instance.properties["dataSourceInfo"] as Json;
    const policyId = String((instance.properties["policyInfo"] as Json)["policyId"]);
    const job: Job = {
      id,
      name,
      vault: instance.vault,
      instance,
      reads: 0,
      finalStatus: "Completed",
      properties: {
        activityID: randomUUID(),
        backupInstanceFriendlyName: String(instance.properties["friendlyName"] ?? instance.name),
        backupInstanceId: instance.id,
        dataSourceId: info["resourceID"],
        dataSourceLocation: info["resourceLocation"] ?? instance.vault.location,
        dataSourceName: info["resourceName"] ?? "",
        dataSourceType: info["datasourceType"] ?? "",
        isUserTriggered: userTriggered,
        operation: "Trigger",
        operationCategory: category,
        policyId,
        policyName: policyId.split("/").pop(),
        progressEnabled: false,
        sourceResourceGroup: instance.vault.resourceGroup,
        sourceSubscriptionID: this.options.subscriptionId,
        startTime: new Date().toISOString(),
        status: "InProgress",
        subscriptionId: this.options.subscriptionId,
        supportedActions: [""],
        vaultName: instance.vault.name,
        extendedInfo: {
          additionalDetails: details,
          ...(destination ? { recoveryDestination: destination } : {}),
        },
      },
    };
    this.jobs.set(id.toLowerCase(), job);
    return job;
  }

  private jobBody(job: Job, advance: boolean): Json {
    if (advance && job.properties["status"] === "InProgress") {
      job.reads += 1;
      if (job.reads > this.options.jobReadsBeforeDone) {
        const end = new Date();
        job.properties["status"] = job.finalStatus;
        job.properties["endTime"] = end.toISOString();
        job.properties["duration"] =
          `PT${((end.getTime() - Date.parse(String(job.properties["startTime"]))) / 1000).toFixed(3)}S`;
        if (job.errorDetails) job.properties["errorDetails"] = job.errorDetails;
        if (job.finalStatus === "Completed") job.onComplete?.();
      }
    }
    return {
      id: job.id,
      name: job.name,
      type: "Microsoft.DataProtection/Backupvaults/backupJobs",
      properties: job.properties,
    };
  }

  private instanceBody(instance: Instance): Json {
    return {
      id: instance.id,
      name: instance.name,
      type: "Microsoft.DataProtection/backupVaults/backupInstances",
      systemData: { createdAt: instance.createdAt, createdByType: "Application" },
      properties: instance.properties,
    };
  }

  // -- the protection lifecycle ------------------------------------------------------------------

  /** An instance's state as the service reports it (`currentProtectionState`). */
  private stateOf(instance: Instance): string {
    return String(
      instance.properties["currentProtectionState"] ??
        (instance.properties["protectionStatus"] as Json | undefined)?.["status"] ??
        "",
    );
  }

  private setState(instance: Instance, status: string, state: string): void {
    instance.properties["protectionStatus"] = { status };
    instance.properties["currentProtectionState"] = state;
  }

  /** The refusal of an action the instance's state does not allow, as the service refuses it. */
  private refusedInState(instance: Instance, action: string): HttpAnswer {
    return userError(
      400,
      "UserErrorInvalidProtectionState",
      `The operation ${action} is not allowed while the backup instance is ${this.stateOf(instance)}.`,
      ["Bring the backup instance to a state that allows the operation and retry."],
    );
  }

  /** Suspending backups, resuming backups or protection: state checked on arrival, changed when the operation ends. */
  private protectionAction(
    params: Record<string, string>,
    action: "suspendBackups" | "resumeBackups" | "resumeProtection",
  ): HttpAnswer {
    const instance = this.instanceOf(params);
    if (!instance) return notFound(`Backup instance '${params["backupInstanceName"]}'`);
    const allowed = {
      suspendBackups: ["ProtectionConfigured"],
      resumeBackups: ["BackupSchedulesSuspended"],
      resumeProtection: ["ProtectionStopped", "BackupSchedulesSuspended"],
    }[action];
    if (!allowed.includes(this.stateOf(instance))) return this.refusedInState(instance, action);
    return this.startOperation(instance.vault, () => {
      if (action === "suspendBackups")
        this.setState(instance, "ProtectionStopped", "BackupSchedulesSuspended");
      else this.setState(instance, "ProtectionConfigured", "ProtectionConfigured");
      return {};
    });
  }

  /** Why a policy cannot protect an instance, or `undefined` when it can. */
  private policyRefusal(instance: Instance, policyId: string): HttpAnswer | undefined {
    const policy = this.policies.get(policyId.toLowerCase());
    if (!policy || !policyId.toLowerCase().startsWith(`${instance.vault.id.toLowerCase()}/`)) {
      return userError(
        400,
        "UserErrorPolicyNotFound",
        `Backup policy ${policyId} was not found in the vault.`,
        ["Create the policy in the vault, or give the id of an existing policy."],
      );
    }
    const datasourceType = String(
      (instance.properties["dataSourceInfo"] as Json)["datasourceType"],
    ).toLowerCase();
    const types = (((policy["properties"] as Json)["datasourceTypes"] as string[]) ?? []).map((t) =>
      t.toLowerCase(),
    );
    if (!types.includes(datasourceType)) {
      return userError(
        400,
        "UserErrorPolicyDatasourceTypeMismatch",
        `Backup policy ${policyId} does not protect ${datasourceType}.`,
        ["Choose a policy made for the datasource type of the backup instance."],
      );
    }
    return undefined;
  }

  private validateForModifyBackup(params: Record<string, string>, bi: Json): HttpAnswer {
    const instance = this.instanceOf(params);
    if (!instance) return notFound(`Backup instance '${params["backupInstanceName"]}'`);
    const refused = this.policyRefusal(
      instance,
      String((bi["policyInfo"] as Json | undefined)?.["policyId"] ?? ""),
    );
    if (refused) return refused;
    return this.startOperation(instance.vault, () => ({}));
  }

  private deleteInstance(params: Record<string, string>): HttpAnswer {
    const instance = this.instanceOf(params);
    if (!instance) return new HttpAnswer(204);
    return this.startOperation(instance.vault, () => {
      const now = Date.now();
      this.instances.delete(instance.id.toLowerCase());
      this.setState(instance, "SoftDeleted", "SoftDeleted");
      this.deletedInstances.set(instance.id.toLowerCase(), {
        instance,
        deletionInfo: {
          deletionTime: new Date(now).toISOString(),
          billingEndDate: new Date(now).toISOString(),
          scheduledPurgeTime: new Date(now + SOFT_DELETE_RETENTION_MS).toISOString(),
          deleteActivityID: randomUUID(),
        },
      });
      return {};
    });
  }

  private deletedBody(deleted: DeletedInstance): Json {
    const { instance } = deleted;
    return {
      id: `${instance.vault.id}/deletedBackupInstances/${instance.name}`,
      name: instance.name,
      type: "Microsoft.DataProtection/backupVaults/deletedBackupInstances",
      properties: { ...instance.properties, deletionInfo: deleted.deletionInfo },
    };
  }

  private deletedOf(params: Record<string, string>): DeletedInstance | undefined {
    const vault = this.vaultOf(params);
    return (
      vault &&
      this.deletedInstances.get(
        `${vault.id}/backupInstances/${params["backupInstanceName"]}`.toLowerCase(),
      )
    );
  }

  private undelete(params: Record<string, string>): HttpAnswer {
    const deleted = this.deletedOf(params);
    if (!deleted) return notFound(`Deleted backup instance '${params["backupInstanceName"]}'`);
    if (Date.parse(String(deleted.deletionInfo["scheduledPurgeTime"])) <= Date.now()) {
      return userError(
        400,
        "UserErrorSoftDeleteRetentionExpired",
        "The deleted backup instance is past its soft-delete retention.",
        ["Protect the datasource again."],
      );
    }
    const { instance } = deleted;
    return this.startOperation(
      instance.vault,
      () => {
        this.deletedInstances.delete(instance.id.toLowerCase());
        this.setState(instance, "ProtectionStopped", "ProtectionStopped");
        this.instances.set(instance.id.toLowerCase(), instance);
        return {};
      },
      undefined,
      "location",
    );
  }

  /** Moves a deleted instance's scheduled purge into the past, as when its retention has run out. */
  expireSoftDelete(instanceId: string): void {
    const deleted = this.deletedInstances.get(instanceId.toLowerCase());
    if (!deleted) throw new Error(`the fake has no deleted backup instance ${instanceId}`);
    deleted.deletionInfo["scheduledPurgeTime"] = new Date(Date.now() - 60_000).toISOString();
  }

  /** Starts a long-running operation; `outcome` runs when it ends. */
  private startOperation(
    vault: Vault,
    outcome: Operation["outcome"],
    locationBase?: string,
    /** Status headers: the fake's setting, or `location` where the contract names only that one. */
    headers: FakeArmOptions["lroHeaders"] = this.options.lroHeaders,
  ): HttpAnswer {
    const token = operationIdToken();
    const op: Operation = {
      id: token,
      vault,
      polls: 0,
      startTime: new Date().toISOString(),
      outcome,
    };
    this.operations.set(token, op);
    const sub = `/subscriptions/${this.options.subscriptionId}`;
    const rgp = `${sub}/resourceGroups/${vault.resourceGroup}/providers/Microsoft.DataProtection`;
    const scopes = [
      `${sub}/providers/Microsoft.DataProtection/locations/${vault.location}/operationStatus/${token}`,
      `${rgp}/operationStatus/${token}`,
      `${vault.id}/operationStatus/${token}`,
    ];
    // Follow-the-header clients must cope with every scope the service uses.
    const statusPath = scopes[this.scopeCounter++ % scopes.length] as string;
    const location = locationBase
      ? `${locationBase}/${token}`
      : `${sub}/providers/Microsoft.DataProtection/locations/${vault.location}/operationResults/${token}`;
    const q = "?api-version=2026-06-01";
    return new HttpAnswer(202, undefined, {
      ...(headers === "both" ? { "azure-asyncoperation": `${this.url}${statusPath}${q}` } : {}),
      location: `${this.url}${location}${q}`,
      "retry-after": String(this.options.retryAfterSeconds),
    });
  }

  private advance(op: Operation): void {
    if (op.result) return;
    op.polls += 1;
    const scale = this.options.operationTimeScale;
    const done =
      scale === undefined
        ? op.polls > this.options.pollsBeforeDone
        : Date.now() - Date.parse(op.startTime) >= this.options.retryAfterSeconds * 1000 * scale;
    if (done) {
      op.result = op.outcome();
      op.endTime = new Date().toISOString();
    }
  }

  private operationStatus(token: string, url: URL): HttpAnswer {
    const op = this.operations.get(token);
    if (!op) return notFound("Operation");
    this.advance(op);
    const base = { id: url.pathname, name: token, startTime: op.startTime };
    if (!op.result) {
      return new HttpAnswer(
        200,
        { ...base, status: op.polls <= 1 ? "Inprogress" : "InProgress", endTime: RUNNING_END_TIME },
        { "retry-after": String(this.options.retryAfterSeconds) },
      );
    }
    if (op.result.error) {
      return new HttpAnswer(200, {
        ...base,
        status: "Failed",
        endTime: op.endTime,
        error: op.result.error,
      });
    }
    return new HttpAnswer(200, {
      ...base,
      status: "Succeeded",
      endTime: op.endTime,
      ...(op.result.jobId
        ? { properties: { objectType: "OperationJobExtendedInfo", jobId: op.result.jobId } }
        : {}),
    });
  }

  private operationResult(token: string): HttpAnswer {
    const op = this.operations.get(token);
    if (!op) return notFound("Operation");
    this.advance(op);
    if (!op.result)
      return new HttpAnswer(202, undefined, {
        "retry-after": String(this.options.retryAfterSeconds),
      });
    if (op.result.error) return new HttpAnswer(400, { error: op.result.error });
    return new HttpAnswer(200, {
      objectType: "OperationJobExtendedInfo",
      ...(op.result.jobId ? { jobId: op.result.jobId } : {}),
    });
  }
}
