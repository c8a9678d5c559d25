/**
 * The client commands of `pgprotect`: `protect`, `backup`, `restore`, `jobs`, `instances`,
 * `status`, `policies`, the lifecycle's `stop`, `suspend`, `resume`, `change-policy`, `delete`,
 * `undelete` and `deleted`, and `vaults` (`vaultCommands.ts`) over the HTTP API, and `completion`.
 * They never reach a provider or the Durable client: everything goes through the API, with its
 * keys and roles.
 *
 * @remarks Output: results on stdout (`--output table|json`); progress and the one line that says
 * why a command failed on stderr. Exit codes: {@link ClientExitCodes}.
 */
import { Argument, Command, CommanderError, Option } from "commander";
import type { BackupInstanceView } from "../../application/backupInstances.js";
import type {
  DeletedBackupInstanceView,
  LifecycleAnswer,
  LifecycleOperationView,
} from "../../application/lifecycle.js";
import type { BackupPolicyResource } from "../../domain/policy/types.js";
import type { BackupJob } from "../../domain/protection/types.js";
import type { CliIo } from "../io.js";
import {
  ApiProblemError,
  createApiClient,
  defaultAzureToken,
  problemLine,
  type ApiClient,
  type TokenSource,
} from "./apiClient.js";
import { bashCompletion, zshCompletion, type CompletionCommand } from "./completion.js";
import { ClientExitCodes } from "./exitCodes.js";
import {
  followJob,
  followLifecycle,
  followProtection,
  jobEnded,
  jobTable,
  jobWatchLine,
  lifecycleEnded,
  protectionEnded,
  WaitInterrupted,
  watchJobs,
  type FollowOptions,
  type ProtectionStatus,
} from "./follow.js";
import { positiveNumber, wholeNumber } from "./optionParsers.js";
import { liveView, plainView, type ProgressView } from "./progress.js";
import { colorsFor, isTerminal, keyValues, type Colors } from "./render.js";
import { ClientError, clientProjectDir, resolveTarget } from "./target.js";
import { addVaultsCommand } from "./vaultCommands.js";
import { addDrillCommands } from "./drillCommands.js";
import { followRestore, restoreDetails } from "./restoreFollow.js";
import {
  deletedInstancesTable,
  instanceDetails,
  instancesTable,
  jobDetails,
  lifecycleAnswerDetails,
  lifecycleDetails,
  policiesTable,
  policyDetails,
  protectionDetails,
} from "./views.js";

/** What the client commands run with; tests and the `pgprotect` command pass their own. */
export interface ClientContext {
  readonly io: CliIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** This project's folder, whose `.pgprotect` holds the local host's lock and keys. */
  readonly projectDir: string;
  readonly tokenSource: TokenSource;
}

/** The options every API command takes. */
interface ApiOptions {
  readonly api?: string;
  readonly entraScope?: string;
  readonly output: "table" | "json";
}

/** The options of commands that can wait. */
interface WaitOptions extends ApiOptions {
  readonly wait?: boolean;
  readonly interval: number;
}

/** The vault `policies` reads when none is named: `PGPROTECT_VAULT`, else the local default. */
const localDefaultVault = "pgprotect-vault";

const jobStatuses = ["InProgress", "Completed", "Failed", "Cancelled"];
const jobOperations = ["OnDemandBackup", "ScheduledBackup", "Restore"];

function usageError(message: string): ClientError {
  return new ClientError(message, ClientExitCodes.usage);
}

/** What `--help` says of the exit codes (see {@link ClientExitCodes}). */
const exitCodesHelp = `
Exit codes: 0 done; 1 the work failed; 2 wrong command line; 3 the API refused the request;
4 the API refused the key or token; 5 no API could be reached; 6 vaults --strict: a vault
short of the baseline; 130 stopped waiting (Ctrl+C).
Target: --api or PGPROTECT_API_URL, else the local host (its lock file in PGPROTECT_STATE_DIR);
key: PGPROTECT_KEY, else the local host's function key.`;

/** Adds `--api`, `--entra-scope` and `--output` to a command. */
function withApiOptions(command: Command): Command {
  return command
    .option("--api <url>", "the API's URL (default: PGPROTECT_API_URL, else the local host's)")
    .option(
      "--entra-scope <scope>",
      "ask DefaultAzureCredential for a token for this scope, for an API behind App Service authentication (default: PGPROTECT_ENTRA_SCOPE)",
    )
    .addOption(
      new Option("-o, --output <format>", "table or json")
        .choices(["table", "json"])
        .default("table"),
    )
    .addHelpText("after", exitCodesHelp);
}

/** Adds `--wait` and `--interval` to a command. */
function withWaitOptions(command: Command, what: string): Command {
  return command
    .option("--wait", `wait for ${what}, showing progress; exit 1 if it fails`)
    .option("--interval <seconds>", "seconds between reads while waiting", positiveNumber, 1);
}

/** Builds and runs one client command. */
export class ClientRun {
  exitCode: number = ClientExitCodes.ok;

  constructor(private readonly context: ClientContext) {}

  private get io(): CliIo {
    return this.context.io;
  }

  private colors(stream: NodeJS.WritableStream): Colors {
    return colorsFor(stream, this.context.env);
  }

  /** The API the options name (or the local host's). */
  api(options: ApiOptions): ApiClient {
    const target = resolveTarget({
      api: options.api,
      entraScope: options.entraScope,
      env: this.context.env,
      cwd: this.io.cwd,
      projectDir: this.context.projectDir,
    });
    return createApiClient(target, this.context.tokenSource);
  }

  /** Prints an answer: the API's JSON, or the table people read. */
  print(options: ApiOptions, json: unknown, table: (colors: Colors) => string): void {
    if (options.output === "json") this.io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    else this.io.stdout.write(`${table(this.colors(this.io.stdout))}\n`);
  }

  /** Says in one line on stderr why the command ends as it does. */
  say(message: string): void {
    this.io.stderr.write(`pgprotect: ${message}\n`);
  }

  /** Progress goes to stderr: redrawn on a terminal, plain lines elsewhere. */
  private progressView(): ProgressView {
    return isTerminal(this.io.stderr) ? liveView(this.io.stderr) : plainView(this.io.stderr);
  }

  /** Runs `wait` with Ctrl+C stopping it (and only it): the work goes on in the app. */
  async interruptible<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    // A second Ctrl+C while a request is still out quits at once.
    const stop = () => {
      if (controller.signal.aborted) process.exit(ClientExitCodes.interrupted);
      controller.abort();
    };
    // `on`, not `once`: a handler still registered when the signal has been handled tells
    // signal-exit (log-update's cursor restore) that someone handles it, so it does not re-kill.
    process.on("SIGINT", stop);
    try {
      return await wait(controller.signal);
    } finally {
      process.off("SIGINT", stop);
    }
  }

  private followOptions(
    options: WaitOptions,
    signal: AbortSignal,
    subject?: string,
  ): FollowOptions {
    return {
      view: this.progressView(),
      colors: this.colors(this.io.stderr),
      intervalSeconds: options.interval,
      signal,
      ...(subject ? { subject } : {}),
    };
  }

  private async waitForProtection(
    api: ApiClient,
    id: string,
    options: WaitOptions,
    subject?: string,
  ): Promise<void> {
    const status = await this.interruptible((signal) =>
      followProtection(api, id, this.followOptions(options, signal, subject)),
    );
    this.print(options, status, (colors) => protectionDetails(colors, status));
    this.protectionEnding(status);
  }

  private protectionEnding(status: ProtectionStatus): void {
    if (protectionEnded(status) && status.outcome === "Failed") {
      this.say(
        `${status.id} failed${status.error ? `: ${status.error.message} [${status.error.code}]${status.error.recommendedAction ? ` ${status.error.recommendedAction}` : ""}` : ""}`,
      );
      this.exitCode = ClientExitCodes.failed;
    }
  }

  private async waitForJob(api: ApiClient, name: string, options: WaitOptions): Promise<void> {
    const job = await this.interruptible((signal) =>
      followJob(api, name, this.followOptions(options, signal)),
    );
    this.print(options, job, (colors) => jobDetails(colors, job));
    this.jobEnding(job);
  }

  private jobEnding(job: BackupJob): void {
    if (jobEnded(job) && job.status !== "Completed") {
      const error = job.errorDetails?.[0];
      this.say(
        `job ${job.name} ${job.status.toLowerCase()}${error ? `: ${error.message} [${error.code}]` : ""}`,
      );
      this.exitCode = ClientExitCodes.failed;
    }
  }

  private async waitForLifecycle(api: ApiClient, id: string, options: WaitOptions): Promise<void> {
    const operation = await this.interruptible((signal) =>
      followLifecycle(api, id, this.followOptions(options, signal)),
    );
    this.print(options, operation, (colors) => lifecycleDetails(colors, operation));
    this.lifecycleEnding(operation);
  }

  private lifecycleEnding(operation: LifecycleOperationView): void {
    if (lifecycleEnded(operation) && operation.status === "Failed") {
      const error = operation.error;
      this.say(
        `${operation.id} failed${error ? `: ${error.message} [${error.code}]${error.recommendedAction ? ` ${error.recommendedAction}` : ""}` : ""}`,
      );
      this.exitCode = ClientExitCodes.failed;
    }
  }

  /**
   * Sends one lifecycle action and, with `--wait`, follows its operation to the end. An instance
   * already where the action leads answers 200 `alreadyDone`: said on stderr, and the command
   * succeeds, so that a script can ask again safely.
   */
  async lifecycle(
    send: (api: ApiClient) => Promise<LifecycleAnswer>,
    options: WaitOptions,
  ): Promise<void> {
    const api = this.api(options);
    const answer = await send(api);
    if (answer.operationId === null) {
      this.say(
        `${answer.backupInstanceName}: already done, the instance is ${answer.state}; nothing to ${answer.action}`,
      );
      this.print(options, answer, (colors) => lifecycleAnswerDetails(colors, answer));
      return;
    }
    if (options.wait) return this.waitForLifecycle(api, answer.operationId, options);
    this.print(options, answer, (colors) => lifecycleAnswerDetails(colors, answer));
  }

  async deleted(options: ApiOptions & { vault?: string }): Promise<void> {
    const api = this.api(options);
    const list = await api.get<{ value: DeletedBackupInstanceView[] }>("deleted-backup-instances", {
      vault: options.vault,
    });
    this.print(options, list, (colors) => deletedInstancesTable(colors, list.value));
  }

  async protect(
    options: WaitOptions & {
      server?: string;
      database?: string;
      allDatabases?: boolean;
      datasourceId?: string;
      policy: string;
      vault?: string;
      secretUri?: string;
      maxConcurrency?: number;
    },
  ): Promise<void> {
    if (!options.server && !options.datasourceId)
      throw usageError(
        "name what to protect: --server (with --database or --all-databases), or --datasource-id",
      );
    if (options.allDatabases && (options.database || options.datasourceId))
      throw usageError(
        "--all-databases protects every database of --server: leave out --database and --datasource-id",
      );
    const api = this.api(options);
    const started = await api.post<{ id: string; status: string; existing: boolean }>(
      "protections",
      {
        ...(options.datasourceId ? { datasourceId: options.datasourceId } : {}),
        ...(options.server ? { serverName: options.server } : {}),
        ...(options.database ? { databaseName: options.database } : {}),
        ...(options.allDatabases ? { allDatabases: true } : {}),
        ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
        policyName: options.policy,
        ...(options.vault ? { vaultName: options.vault } : {}),
        ...(options.secretUri ? { secretUri: options.secretUri } : {}),
      },
    );
    const subject = options.allDatabases
      ? `every database of ${options.server}`
      : options.server
        ? [options.server, options.database].filter(Boolean).join("/")
        : undefined;
    if (options.wait) return this.waitForProtection(api, started.id, options, subject);
    this.print(options, started, (colors) =>
      keyValues(colors, [
        ["operation", started.id],
        ["status", started.status],
        ["existing", started.existing ? "yes: this protection was asked for before" : undefined],
        ["follow", `pgprotect status ${started.id} --wait`],
      ]),
    );
  }

  async backup(
    instance: string,
    options: WaitOptions & { rule: string; retention?: string; vault?: string },
  ): Promise<void> {
    const api = this.api(options);
    const started = await api.post<{ jobName: string; status: string }>(
      `backup-instances/${encodeURIComponent(instance)}/backups`,
      {
        ruleName: options.rule,
        ...(options.retention ? { retentionTagOverride: options.retention } : {}),
        ...(options.vault ? { vaultName: options.vault } : {}),
      },
    );
    if (options.wait) return this.waitForJob(api, started.jobName, options);
    this.print(options, started, (colors) =>
      keyValues(colors, [
        ["job", started.jobName],
        ["status", started.status],
        ["follow", `pgprotect status ${started.jobName} --wait`],
      ]),
    );
  }

  async restore(
    instance: string,
    options: WaitOptions & {
      targetDatabase?: string;
      targetServer?: string;
      targetFolder?: string;
      targetContainerUrl?: string;
      targetStorageAccount?: string;
      sourceDatabase?: string;
      filePrefix?: string;
      recoveryPoint?: string;
      secretUri?: string;
      vault?: string;
    },
  ): Promise<void> {
    const targets = [
      options.targetContainerUrl ? undefined : options.targetDatabase,
      options.targetFolder,
      options.targetContainerUrl,
    ].filter(Boolean);
    if (targets.length !== 1)
      throw usageError(
        "name exactly one target: --target-database (a new database), --target-folder or --target-container-url (as files; with --target-database and --secret-uri, then loaded into that server)",
      );
    const api = this.api(options);
    const started = await api.post<{ jobName: string; status: string; restoreId?: string }>(
      `backup-instances/${encodeURIComponent(instance)}/restores`,
      {
        ...(options.targetDatabase ? { targetDatabaseName: options.targetDatabase } : {}),
        ...(options.targetServer ? { targetServerName: options.targetServer } : {}),
        ...(options.targetFolder ? { targetFolder: options.targetFolder } : {}),
        ...(options.targetContainerUrl ? { targetContainerUrl: options.targetContainerUrl } : {}),
        ...(options.targetStorageAccount
          ? { targetStorageAccountId: options.targetStorageAccount }
          : {}),
        ...(options.sourceDatabase ? { sourceDatabaseName: options.sourceDatabase } : {}),
        ...(options.filePrefix ? { filePrefix: options.filePrefix } : {}),
        ...(options.recoveryPoint ? { recoveryPointId: options.recoveryPoint } : {}),
        ...(options.secretUri ? { secretUri: options.secretUri } : {}),
        ...(options.vault ? { vaultName: options.vault } : {}),
      },
    );
    if (options.wait && started.restoreId)
      return this.waitForRestore(api, started.restoreId, options);
    if (options.wait) return this.waitForJob(api, started.jobName, options);
    this.print(options, started, (colors) =>
      keyValues(colors, [
        ["job", started.jobName],
        ["restore", started.restoreId],
        ["status", started.status],
        ["follow", `pgprotect status ${started.jobName} --wait`],
      ]),
    );
  }

  private async waitForRestore(api: ApiClient, id: string, options: WaitOptions): Promise<void> {
    const restore = await this.interruptible((signal) =>
      followRestore(api, id, this.followOptions(options, signal)),
    );
    this.print(options, restore, (colors) => restoreDetails(colors, restore));
    if (restore.status === "Failed") {
      const error = restore.error;
      this.say(
        `${restore.id} failed${error ? `: ${error.message} [${error.code}]${error.recommendedAction ? ` ${error.recommendedAction}` : ""}` : ""}`,
      );
      this.exitCode = ClientExitCodes.failed;
    }
  }

  async jobs(
    options: ApiOptions & {
      status?: string;
      operation?: string;
      vault?: string;
      datasource?: string;
      since?: string;
      top?: number;
      watch?: boolean;
      untilDone?: boolean;
      interval: number;
    },
  ): Promise<void> {
    const api = this.api(options);
    const query = {
      status: options.status,
      operation: options.operation,
      vault: options.vault,
      datasource: options.datasource,
      since: options.since,
      top: options.top === undefined ? undefined : String(options.top),
    };
    if (!options.watch) {
      const page = await api.get<{ value: BackupJob[]; nextLink: string | null }>("jobs", query);
      this.print(options, page, (colors) =>
        page.nextLink
          ? `${jobTable(colors, page.value)}\n${colors.dim("More jobs are older: raise --top, or narrow with --since, --status or --operation.")}`
          : jobTable(colors, page.value),
      );
      return;
    }
    // Watching is the command's output itself: on stdout, redrawn on a terminal; piped, a line per
    // change (JSON lines with --output json).
    const stdout = this.io.stdout;
    const live = isTerminal(stdout) && options.output === "table";
    const outcome = await this.interruptible((signal) =>
      watchJobs(api, query, {
        view: live ? liveView(stdout) : plainView(stdout),
        colors: this.colors(stdout),
        intervalSeconds: options.interval,
        signal,
        untilDone: options.untilDone === true,
        lineOf: options.output === "json" ? (job) => JSON.stringify(job) : jobWatchLine,
      }),
    );
    if (options.untilDone && outcome.failed.length > 0) {
      this.say(
        `${outcome.failed.length} job(s) did not complete: ${outcome.failed.map((j) => `${j.name} ${j.status}`).join(", ")}`,
      );
      this.exitCode = ClientExitCodes.failed;
    }
  }

  async instances(
    name: string | undefined,
    options: ApiOptions & { vault?: string },
  ): Promise<void> {
    const api = this.api(options);
    if (name) {
      const instance = await api.get<BackupInstanceView>(
        `backup-instances/${encodeURIComponent(name)}`,
        { vault: options.vault },
      );
      this.print(options, instance, (colors) => instanceDetails(colors, instance));
      return;
    }
    const list = await api.get<{ value: BackupInstanceView[] }>("backup-instances", {
      vault: options.vault,
    });
    this.print(options, list, (colors) => instancesTable(colors, list.value));
  }

  async status(id: string, options: WaitOptions): Promise<void> {
    const api = this.api(options);
    if (id.startsWith("lifecycle-")) {
      if (options.wait) return this.waitForLifecycle(api, id, options);
      const operation = await api.get<LifecycleOperationView>(
        `lifecycle-operations/${encodeURIComponent(id)}`,
      );
      this.print(options, operation, (colors) => lifecycleDetails(colors, operation));
      this.lifecycleEnding(operation);
      return;
    }
    // Protection operations are named `protect-...`; anything else is a job's GUID or ARM id.
    if (id.startsWith("protect-")) {
      if (options.wait) return this.waitForProtection(api, id, options);
      const status = await api.get<ProtectionStatus>(`protections/${encodeURIComponent(id)}`);
      this.print(options, status, (colors) => protectionDetails(colors, status));
      this.protectionEnding(status);
      return;
    }
    if (options.wait) return this.waitForJob(api, id, options);
    const job = await api.get<BackupJob>(`jobs/${encodeURIComponent(id)}`);
    this.print(options, job, (colors) => jobDetails(colors, job));
    this.jobEnding(job);
  }

  async policies(
    name: string | undefined,
    options: ApiOptions & { vault?: string },
  ): Promise<void> {
    const api = this.api(options);
    const vault = encodeURIComponent(
      options.vault ?? this.context.env.PGPROTECT_VAULT ?? localDefaultVault,
    );
    if (name) {
      const policy = await api.get<BackupPolicyResource>(
        `vaults/${vault}/policies/${encodeURIComponent(name)}`,
      );
      this.print(options, policy, (colors) => policyDetails(colors, policy));
      return;
    }
    const list = await api.get<{ value: BackupPolicyResource[] }>(`vaults/${vault}/policies`);
    this.print(options, list, (colors) => policiesTable(colors, list.value));
  }
}

/** The commands `pgprotect` has beside the client's, for completion. */
const otherCommands: readonly CompletionCommand[] = [
  {
    name: "policy",
    description: "Build, validate, compile and simulate backup policies (az-style)",
    options: [],
  },
  { name: "host", description: "Run the function app in the local Functions runtime", options: [] },
  { name: "local", description: "Manage the embedded local provider", options: [] },
];

/** Builds the client program; `run` holds the exit code its actions set. */
export function clientProgram(run: ClientRun, io: CliIo): Command {
  const program = new Command("pgprotect")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`pgprotect: ${text.replace(/^error: /, "")}`),
    })
    .showSuggestionAfterError(true);

  withWaitOptions(
    withApiOptions(
      program
        .command("protect")
        .description("Protect a database, a Flexible Server, or every database of a server")
        .option("--server <name>", "the server (locally: local)")
        .option(
          "--database <name>",
          "the database; leave out for a Flexible Server, protected whole",
        )
        .option("--all-databases", "every database of --server, each as its own datasource")
        .option(
          "--datasource-id <id>",
          "the datasource's ARM id, instead of --server and --database",
        )
        .requiredOption("--policy <name>", "the backup policy")
        .option("--vault <name>", "the Backup vault (default: the app's first)")
        .option(
          "--secret-uri <uri>",
          "the Key Vault secret with the connection string (locally: pgprotect local secret set)",
        )
        .option(
          "--max-concurrency <n>",
          "with --all-databases: databases protected at once (default 4)",
          wholeNumber,
        ),
    ),
    "the outcome",
  ).action((options) => run.protect(options));

  withWaitOptions(
    withApiOptions(
      program
        .command("backup")
        .description("Start an ad-hoc backup of a backup instance")
        .argument("<instance>", "the backup instance's name (see pgprotect instances)")
        .option("--rule <name>", "the policy's backup rule", "BackupWeekly")
        .option(
          "--retention <rule>",
          "the retention rule to keep the recovery point under (e.g. Monthly; default: Default)",
        )
        .option(
          "--vault <name>",
          "the vault of the instance (default: every vault the app covers)",
        ),
    ),
    "the job to end",
  ).action((instance: string, options) => run.backup(instance, options));

  withWaitOptions(
    withApiOptions(
      program
        .command("restore")
        .description("Restore the latest or a chosen recovery point to a new database or as files")
        .argument("<instance>", "the backup instance's name (see pgprotect instances)")
        .option("--target-database <name>", "restore into this new database")
        .option(
          "--target-server <name>",
          "the new database's server (default: the protected database's)",
        )
        .option("--target-folder <dir>", "restore as files into this folder (local provider)")
        .option("--target-container-url <url>", "restore as files into this blob container (Azure)")
        .option(
          "--target-storage-account <id>",
          "ARM id of the container's storage account (Azure: the vault's identity needs Storage Blob Data Contributor there; default: the account the URL names, found by its name)",
        )
        .option(
          "--source-database <name>",
          "restore to a server: the database whose dump to load, when the files hold several",
        )
        .option("--file-prefix <prefix>", "prefix of the restored files' names")
        .option("--recovery-point <id>", "the recovery point (default: the latest)")
        .option("--secret-uri <uri>", "a secret with a connection string for the target server")
        .option("--vault <name>", "the vault of the instance"),
    ),
    "the job to end",
  ).action((instance: string, options) => run.restore(instance, options));

  withApiOptions(
    program
      .command("jobs")
      .description("List backup and restore jobs, newest first, or watch them")
      .addOption(new Option("--status <status>", "only jobs in this state").choices(jobStatuses))
      .addOption(
        new Option("--operation <operation>", "only this kind of job").choices(jobOperations),
      )
      .option("--vault <name>", "only this vault's jobs")
      .option("--datasource <id>", "only this datasource's jobs (ARM id or name)")
      .option("--since <instant>", "only jobs started or ended since (ISO 8601)")
      .option("--top <n>", "at most this many jobs", wholeNumber)
      .option("--watch", "keep the list on screen, refreshed, until Ctrl+C")
      .option(
        "--until-done",
        "with --watch: stop once no job listed is in progress; exit 1 if one watched failed",
      )
      .option("--interval <seconds>", "seconds between refreshes", positiveNumber, 2),
  ).action((options) => run.jobs(options));

  withApiOptions(
    program
      .command("instances")
      .description("List the protected items (backup instances), or show one")
      .argument("[name]", "one backup instance")
      .option("--vault <name>", "only this vault's instances"),
  ).action((name: string | undefined, options) => run.instances(name, options));

  withWaitOptions(
    withApiOptions(
      program
        .command("status")
        .description(
          "Show a protection (protect-...) or lifecycle (lifecycle-...) operation or a job; exit 1 if it failed",
        )
        .argument("<id>", "the operation's id, or the job's name or ARM id"),
    ),
    "it to end",
  ).action((id: string, options) => run.status(id, options));

  withApiOptions(
    program
      .command("policies")
      .description("List a vault's backup policies, or show one")
      .argument("[name]", "one policy")
      .option("--vault <name>", `the vault (default: PGPROTECT_VAULT, else ${localDefaultVault})`),
  ).action((name: string | undefined, options) => run.policies(name, options));

  const instancePath = (instance: string, action?: string) =>
    `backup-instances/${encodeURIComponent(instance)}${action ? `/${action}` : ""}`;
  /** A lifecycle command on one instance: `--vault`, the API options and `--wait`. */
  const lifecycleCommand = (name: string, description: string) =>
    withWaitOptions(
      withApiOptions(
        program
          .command(name)
          .description(description)
          .argument("<instance>", "the backup instance's name (see pgprotect instances)")
          .option(
            "--vault <name>",
            "the vault of the instance (default: every vault the app covers)",
          ),
      ),
      "the operation to end",
    );
  type LifecycleOptions = WaitOptions & { vault?: string };
  const vaultBody = (options: LifecycleOptions) =>
    options.vault ? { vaultName: options.vault } : {};

  lifecycleCommand(
    "stop",
    "Stop protection, keeping every recovery point; --delete-data deletes the instance with them",
  )
    .option("--delete-data", "delete the instance and its recovery points (soft-deleted)")
    .action((instance: string, options: LifecycleOptions & { deleteData?: boolean }) =>
      run.lifecycle(
        (api) =>
          api.post(instancePath(instance, "stop"), {
            deleteData: options.deleteData === true,
            ...vaultBody(options),
          }),
        options,
      ),
    );

  lifecycleCommand(
    "suspend",
    "Suspend a backup instance's schedule; its recovery points stay",
  ).action((instance: string, options: LifecycleOptions) =>
    run.lifecycle(
      (api) => api.post(instancePath(instance, "suspend"), vaultBody(options)),
      options,
    ),
  );

  lifecycleCommand(
    "resume",
    "Resume backups of a suspended instance, or protection of a stopped one",
  ).action((instance: string, options: LifecycleOptions) =>
    run.lifecycle((api) => api.post(instancePath(instance, "resume"), vaultBody(options)), options),
  );

  lifecycleCommand("change-policy", "Move a backup instance to another policy of its vault")
    .requiredOption("--policy <name>", "the new backup policy")
    .action((instance: string, options: LifecycleOptions & { policy: string }) =>
      run.lifecycle(
        (api) =>
          api.put(instancePath(instance, "policy"), {
            policyName: options.policy,
            ...vaultBody(options),
          }),
        options,
      ),
    );

  lifecycleCommand(
    "delete",
    "Delete a backup instance with its recovery points (soft-deleted: undelete brings it back)",
  ).action((instance: string, options: LifecycleOptions) =>
    run.lifecycle((api) => api.delete(instancePath(instance), { vault: options.vault }), options),
  );

  lifecycleCommand(
    "undelete",
    "Bring a soft-deleted backup instance back, stopped (resume it afterwards)",
  ).action((instance: string, options: LifecycleOptions) =>
    run.lifecycle(
      (api) => api.post(instancePath(instance, "undelete"), vaultBody(options)),
      options,
    ),
  );

  addVaultsCommand(program, run, withApiOptions);
  addDrillCommands(program, run, withApiOptions);

  withApiOptions(
    program
      .command("deleted")
      .description("List the soft-deleted backup instances, with when each is purged")
      .option("--vault <name>", "only this vault's deleted instances"),
  ).action((options) => run.deleted(options));

  program
    .command("completion")
    .description("Print the shell completion script: source <(pgprotect completion bash)")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh"]))
    .action((shell: string) => {
      io.stdout.write(
        shell === "zsh"
          ? zshCompletion(completionCommands(program))
          : bashCompletion(completionCommands(program)),
      );
    });
  return program;
}

/** What completion knows of every command, read from the program itself. */
export function completionCommands(program: Command): CompletionCommand[] {
  const client = program.commands.map((command): CompletionCommand => ({
    name: command.name(),
    description: command.description(),
    options: command.options
      .filter((option) => option.long)
      .map((option) => ({
        flag: option.long ?? "",
        takesValue: option.required || option.optional,
        ...(option.argChoices ? { values: option.argChoices } : {}),
      })),
    ...(command.registeredArguments[0]?.argChoices
      ? { argumentValues: command.registeredArguments[0].argChoices }
      : {}),
  }));
  return [...client, ...otherCommands];
}

/**
 * Runs one client command (`args` starts with its name) and returns its exit code.
 */
export async function runClientCommand(
  args: readonly string[],
  io: CliIo,
  context: Partial<Omit<ClientContext, "io">> = {},
): Promise<number> {
  const run = new ClientRun({
    io,
    env: context.env ?? process.env,
    projectDir: context.projectDir ?? clientProjectDir(),
    tokenSource: context.tokenSource ?? defaultAzureToken,
  });
  const program = clientProgram(run, io);
  try {
    await program.parseAsync([...args], { from: "user" });
    return run.exitCode;
  } catch (error) {
    if (error instanceof CommanderError)
      return error.code === "commander.helpDisplayed" ||
        error.code === "commander.help" ||
        error.code === "commander.version"
        ? ClientExitCodes.ok
        : ClientExitCodes.usage;
    if (error instanceof ApiProblemError) {
      io.stderr.write(`pgprotect: ${problemLine(error.problem)}\n`);
      return error.exitCode;
    }
    if (error instanceof ClientError) {
      io.stderr.write(`pgprotect: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof WaitInterrupted) {
      const last = error.last as { id?: string; name?: string } | undefined;
      const id =
        last?.id?.startsWith("protect-") || last?.id?.startsWith("lifecycle-")
          ? last.id
          : last?.name;
      io.stderr.write(
        `pgprotect: stopped waiting; the work goes on${id ? `: pgprotect status ${id} --wait` : ""}\n`,
      );
      return ClientExitCodes.interrupted;
    }
    throw error;
  }
}
