/**
 * `pgprotect policy ...`: the `az dataprotection backup-policy` commands, file in and JSON out,
 * plus `validate`, `compile` and `simulate`.
 */
import path from "node:path";
import { appConfig } from "../config.js";
import { InvalidInputError, isAppError, NotFoundError } from "../domain/errors.js";
import { assertName, sameAzureName, vaultNameRule } from "../domain/protection/names.js";
import {
  createLifecycle,
  removeRetentionRule,
  setRetentionRule,
} from "../domain/policy/lifecycle.js";
import { createSchedule, setTriggerSchedule } from "../domain/policy/schedule.js";
import { compilePolicySpec } from "../domain/policy/spec.js";
import {
  createAbsoluteCriteria,
  createGenericCriteria,
  removeTag,
  setTag,
} from "../domain/policy/tagging.js";
import { defaultPolicyTemplate } from "../domain/policy/template.js";
import type {
  BackupPolicy,
  ScheduleBasedBackupCriteria,
  SourceLifeCycle,
} from "../domain/policy/types.js";
import { calendarWindow, retentionCalendar } from "../domain/policy/retentionCalendar.js";
import { formatSimulationTable, whatIf } from "../domain/policy/simulation.js";
import { locatePolicy, validatePolicy } from "../domain/policy/validation.js";
import {
  describeFlags,
  flagInteger,
  flagNumber,
  flagValue,
  parseFlags,
  type FlagSpec,
  type ParsedFlags,
} from "./args.js";
import type { BackupPolicyPort } from "../providers/ports.js";
import type { CliIo } from "./io.js";
import { readJsonArgument, toSortedJson } from "./jsonFiles.js";

/** What a policy command needs to run. */
interface CommandContext {
  readonly flags: ParsedFlags;
  readonly io: CliIo;
  /** Reads a JSON flag value (file, inline JSON, or `-` for standard input). */
  json(flag: string, value: string): unknown;
}

/** A command's result: JSON to print and the exit code. */
interface CommandResult {
  readonly output: unknown;
  readonly text?: string;
  readonly exitCode?: number;
}

interface PolicyCommand {
  readonly summary: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  run(context: CommandContext): CommandResult | Promise<CommandResult>;
}

const policyFlag: FlagSpec = {
  required: true,
  description: "Policy JSON: a file path, inline JSON, or - for stdin",
};
const outputFlag: FlagSpec = { aliases: ["o"], description: "Output format: json (default)" };
/** `--name` of the part of a policy a command edits: a retention rule or a tag. */
const partNameFlag = (names: string): FlagSpec => ({
  required: true,
  aliases: ["n"],
  description: names,
});
/** A repeated flag of JSON files, each one item or a list of them. */
const jsonFilesFlag = (description: string): FlagSpec => ({
  required: true,
  multiple: true,
  description,
});
/** The vault a command works in. */
const vaultFlags: Readonly<Record<string, FlagSpec>> = {
  "resource-group": {
    required: true,
    aliases: ["g"],
    description: "Resource group of the vault",
  },
  "vault-name": { required: true, aliases: ["v"], description: "Name of the Backup vault" },
};

/** The document `--policy` reads (a policy, bare or as a policy resource). */
function policyDocument({ flags, json }: Pick<CommandContext, "flags" | "json">): unknown {
  return json("--policy", flagValue(flags, "policy") ?? "");
}

/** The items of a repeated JSON-files flag, in the order given. */
function jsonItems<T>({ flags, json }: Pick<CommandContext, "flags" | "json">, flag: string): T[] {
  return (flags.get(flag) ?? []).flatMap((value) => listOf<T>(json(`--${flag}`, value)));
}

/** Edits the part of the `--policy` document that `--name` names (a retention rule or a tag). */
function editNamedPart(
  context: CommandContext,
  edit: (policy: BackupPolicy, name: string) => BackupPolicy,
): CommandResult {
  const name = flagValue(context.flags, "name") ?? "";
  return { output: editPolicy(policyDocument(context), (policy) => edit(policy, name)) };
}

/** Applies an edit to the policy inside a document, keeping a policy resource's wrapper. */
function editPolicy(document: unknown, edit: (policy: BackupPolicy) => BackupPolicy): unknown {
  const { policy, path } = locatePolicy(document);
  const edited = edit(policy as BackupPolicy);
  return path === "$" ? edited : { ...(document as Record<string, unknown>), properties: edited };
}

/** The `name` of a policy resource (`{ name, properties }`), when the document is one. */
function resourceNameOf(document: unknown): string | undefined {
  if (typeof document !== "object" || document === null || Array.isArray(document))
    return undefined;
  const name = (document as Record<string, unknown>)["name"];
  return typeof name === "string" && name !== "" ? name : undefined;
}

function listOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [value as T];
}

const commands: Record<string, PolicyCommand> = {
  "get-default-policy-template": {
    summary: "Get the default policy template for a datasource type",
    flags: {
      "datasource-type": {
        required: true,
        description: "AzureDatabaseForPostgreSQL or AzureDatabaseForPostgreSQLFlexibleServer",
      },
      output: outputFlag,
    },
    run: ({ flags }) => ({
      output: defaultPolicyTemplate(flagValue(flags, "datasource-type") ?? ""),
    }),
  },
  "trigger create-schedule": {
    summary: "Create repeating intervals for a backup schedule",
    flags: {
      "interval-type": { required: true, description: "Weekly (PostgreSQL), Daily or Hourly" },
      "interval-count": {
        required: true,
        description: "1 for Weekly and Daily; 4, 6, 8 or 12 for Hourly",
      },
      "schedule-days": {
        required: true,
        multiple: true,
        description: "Dates and times, e.g. 2021-08-15T22:00:00",
      },
      output: outputFlag,
    },
    run: ({ flags }) => ({
      output: createSchedule({
        intervalType: flagValue(flags, "interval-type") ?? "",
        intervalCount: flagInteger(flags, "interval-count") ?? 0,
        scheduleDays: flags.get("schedule-days") ?? [],
      }),
    }),
  },
  "trigger set": {
    summary: "Set the backup schedule of a policy",
    flags: {
      policy: policyFlag,
      schedule: {
        required: true,
        multiple: true,
        description: "Repeating intervals, e.g. R/2021-08-15T22:00:00+00:00/P1W",
      },
      output: outputFlag,
    },
    run: (context) => ({
      output: editPolicy(policyDocument(context), (policy) =>
        setTriggerSchedule(policy, context.flags.get("schedule") ?? []),
      ),
    }),
  },
  "retention-rule create-lifecycle": {
    summary: "Create a lifecycle: how long backups stay in a datastore and where they are copied",
    flags: {
      "retention-duration-count": { required: true, description: "How many units to keep backups" },
      "retention-duration-type": { required: true, description: "Days, Weeks, Months or Years" },
      "source-datastore": { required: true, description: "VaultStore or ArchiveStore" },
      "target-datastore": { description: "ArchiveStore, to copy backups there" },
      "copy-option": { description: "CopyOnExpiryOption, ImmediateCopyOption or CustomCopyOption" },
      "copy-after-duration": { description: "With CustomCopyOption: when to copy, e.g. P7D" },
      output: outputFlag,
    },
    run: ({ flags }) => ({
      output: createLifecycle({
        retentionDurationCount: flagInteger(flags, "retention-duration-count") ?? 0,
        retentionDurationType: flagValue(flags, "retention-duration-type") ?? "",
        sourceDatastore: flagValue(flags, "source-datastore") ?? "",
        targetDatastore: flagValue(flags, "target-datastore"),
        copyOption: flagValue(flags, "copy-option"),
        copyAfterDuration: flagValue(flags, "copy-after-duration"),
      }),
    }),
  },
  "retention-rule set": {
    summary: "Add a retention rule to a policy, or replace its lifecycles",
    flags: {
      lifecycles: jsonFilesFlag("Lifecycle JSON files (from create-lifecycle)"),
      name: partNameFlag("Default, Weekly, Monthly or Yearly"),
      policy: policyFlag,
      output: outputFlag,
    },
    run: (context) => {
      const lifecycles = jsonItems<SourceLifeCycle>(context, "lifecycles");
      return editNamedPart(context, (policy, name) => setRetentionRule(policy, name, lifecycles));
    },
  },
  "retention-rule remove": {
    summary: "Remove a retention rule from a policy",
    flags: {
      name: partNameFlag("Weekly, Monthly or Yearly"),
      policy: policyFlag,
      output: outputFlag,
    },
    run: (context) => editNamedPart(context, removeRetentionRule),
  },
  "tag create-absolute-criteria": {
    summary: "Create a tagging criterion such as FirstOfMonth",
    flags: {
      "absolute-criteria": {
        required: true,
        description: "AllBackup, FirstOfDay, FirstOfWeek, FirstOfMonth or FirstOfYear",
      },
      output: outputFlag,
    },
    run: ({ flags }) => ({
      output: createAbsoluteCriteria(flagValue(flags, "absolute-criteria") ?? ""),
    }),
  },
  "tag create-generic-criteria": {
    summary: "Create a tagging criterion by days, weeks and months",
    flags: {
      "days-of-week": { multiple: true, description: "Sunday ... Saturday" },
      "weeks-of-month": { multiple: true, description: "First, Second, Third, Fourth, Last" },
      "months-of-year": { multiple: true, description: "January ... December" },
      "days-of-month": { multiple: true, description: "1 to 28, or Last" },
      output: outputFlag,
    },
    run: ({ flags }) => ({
      output: createGenericCriteria({
        daysOfWeek: flags.get("days-of-week"),
        weeksOfMonth: flags.get("weeks-of-month"),
        monthsOfYear: flags.get("months-of-year"),
        daysOfMonth: flags.get("days-of-month"),
      }),
    }),
  },
  "tag set": {
    summary: "Add a retention tag with its criteria to a policy, or replace its criteria",
    flags: {
      criteria: jsonFilesFlag("Criteria JSON files (from create-*-criteria)"),
      name: partNameFlag("Weekly, Monthly or Yearly"),
      policy: policyFlag,
      output: outputFlag,
    },
    run: (context) => {
      const criteria = jsonItems<ScheduleBasedBackupCriteria>(context, "criteria");
      return editNamedPart(context, (policy, name) => setTag(policy, name, criteria));
    },
  },
  "tag remove": {
    summary: "Remove a retention tag from a policy",
    flags: {
      name: partNameFlag("Weekly, Monthly or Yearly"),
      policy: policyFlag,
      output: outputFlag,
    },
    run: (context) => editNamedPart(context, removeTag),
  },
  validate: {
    summary: "Check a policy against the service's rules; exits 1 when it breaks one",
    flags: { policy: policyFlag, output: outputFlag },
    run: (context) => {
      const result = validatePolicy(policyDocument(context));
      return { output: result, exitCode: result.valid ? 0 : 1 };
    },
  },
  simulate: {
    summary:
      "What-if: every scheduled backup in a window with its tag, archive and deletion times, and storage",
    flags: {
      policy: policyFlag,
      from: {
        description: "Start of the window (ISO 8601 date or date-time with offset); default today",
      },
      to: { description: "End of the window, exclusive; default one year after --from" },
      "size-gb": {
        description: "Size of the first backup in GB, for the storage estimate (default 1)",
      },
      "monthly-growth": {
        description: "Growth of the backup size per month as a fraction, e.g. 0.02",
      },
      at: { description: "Also list the recovery points that exist at this instant" },
      output: { aliases: ["o"], description: "table (default) or json" },
    },
    run: ({ flags, json }) => {
      const from = flagValue(flags, "from") ?? new Date().toISOString().slice(0, 10);
      const fromDate = new Date(/T/.test(from) ? from : `${from}T00:00:00Z`);
      const defaultTo = Number.isNaN(fromDate.getTime())
        ? from
        : new Date(
            Date.UTC(fromDate.getUTCFullYear() + 1, fromDate.getUTCMonth(), fromDate.getUTCDate()),
          ).toISOString();
      const sizeGb = flagNumber(flags, "size-gb");
      const monthlyGrowth = flagNumber(flags, "monthly-growth");
      const at = flagValue(flags, "at");
      const answer = whatIf({
        policy: policyDocument({ flags, json }),
        from,
        to: flagValue(flags, "to") ?? defaultTo,
        ...(sizeGb !== undefined ? { sizeGb } : {}),
        ...(monthlyGrowth !== undefined ? { monthlyGrowth } : {}),
        ...(at !== undefined ? { at } : {}),
      });
      if (flagValue(flags, "output") === "json") return { output: answer.json };
      const points = answer.json.at
        ? `\nRecovery points at ${answer.json.at.instant}:\n  VaultStore    ${answer.json.at.VaultStore.length} (${answer.json.at.VaultStore.join(", ") || "none"})\n  ArchiveStore  ${answer.json.at.ArchiveStore.length} (${answer.json.at.ArchiveStore.join(", ") || "none"})\n`
        : "";
      return { output: answer.json, text: formatSimulationTable(answer.simulation) + points };
    },
  },
  calendar: {
    summary:
      "Draw the retention calendar (SVG): day by day, which recovery points each tier keeps and when each expires",
    flags: {
      policy: policyFlag,
      from: {
        description: "First day (ISO 8601 date or date-time with offset); default today (UTC)",
      },
      to: { description: "End of the window, exclusive; default 12 months after --from" },
      year: { description: "A whole UTC year, e.g. 2027, instead of --from and --to" },
      name: { aliases: ["n"], description: "Policy name for the title (default: the file's)" },
    },
    run: ({ flags, json }) => {
      const year = flagValue(flags, "year");
      const from = flagValue(flags, "from");
      const to = flagValue(flags, "to");
      if (year !== undefined && (from !== undefined || to !== undefined)) {
        const message = "--year names a whole year: leave out --from and --to, or --year";
        throw new InvalidInputError("CLI_USAGE", message, [
          { path: "--year", code: "CLI_USAGE", message },
        ]);
      }
      // The window is checked before the file is read: a bad date costs no policy parse.
      const window = calendarWindow(
        {
          ...(year !== undefined ? { year } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
        },
        new Date(),
      );
      const document = policyDocument({ flags, json });
      const name = flagValue(flags, "name") ?? resourceNameOf(document);
      const svg = retentionCalendar({
        policy: document,
        ...window,
        ...(name !== undefined ? { policyName: name } : {}),
      });
      return { output: undefined, text: svg };
    },
  },
  create: {
    summary:
      "Create a policy in an existing vault (locally: one made by 'pgprotect local vault create', or the default pgprotect-vault)",
    flags: {
      "backup-policy-name": {
        required: true,
        aliases: ["name", "n"],
        description: "Name of the new policy",
      },
      policy: policyFlag,
      ...vaultFlags,
      output: outputFlag,
    },
    run: async ({ flags, json, io }) => {
      const { policy } = locatePolicy(policyDocument({ flags, json }));
      return withLocalVault(io, flags, (service, vaultId) =>
        service.createPolicy(
          vaultId,
          flagValue(flags, "backup-policy-name") ?? "",
          policy as BackupPolicy,
        ),
      );
    },
  },
  show: {
    summary: "Show a policy of a vault",
    flags: {
      name: {
        required: true,
        aliases: ["n", "backup-policy-name"],
        description: "Name of the policy",
      },
      ...vaultFlags,
      output: outputFlag,
    },
    run: ({ flags, io }) =>
      withLocalVault(io, flags, (service, vaultId) =>
        service.getPolicy(vaultId, flagValue(flags, "name") ?? ""),
      ),
  },
  list: {
    summary: "List the policies of a vault",
    flags: {
      ...vaultFlags,
      output: outputFlag,
    },
    run: ({ flags, io }) =>
      withLocalVault(io, flags, (service, vaultId) => service.listPolicies(vaultId)),
  },
  compile: {
    summary: "Compile a short policy spec into the full policy JSON",
    flags: {
      spec: { required: true, description: "Spec JSON: a file path, inline JSON, or - for stdin" },
      output: outputFlag,
    },
    run: ({ flags, json }) => ({
      output: compilePolicySpec(json("--spec", flagValue(flags, "spec") ?? "")),
    }),
  },
};

/**
 * The local vault a `--vault-name` names, as the vault spells itself: Azure names ignore case, so
 * `TESTBKPVAULT` is the vault `TestBkpVault`. A vault is one made by `pgprotect local vault
 * create` (its folder under the state folder), one of BACKUP_VAULT_IDS, or the default
 * `pgprotect-vault` when none is configured, as the HTTP API resolves them. A policy command never
 * makes one: in Azure a policy is a child of a vault that exists already.
 *
 * @throws InvalidInputError `VAULT_NAME_INVALID`; NotFoundError `VAULT_NOT_FOUND`.
 */
async function existingLocalVaultName(stateDir: string, vaultName: string): Promise<string> {
  const [{ existingVaultFolderName }, { createVaultDirectory, defaultLocalVaultName }, ids] =
    await Promise.all([
      import("../providers/local/vaultStore.js"),
      import("../composition.js"),
      import("../domain/protection/ids.js"),
    ]);
  assertName(vaultNameRule, vaultName, "--vault-name");
  const configured = createVaultDirectory({ ...appConfig(), PGPROTECT_PROVIDER: "local" }).ids.map(
    (id) => ids.parseVaultId(id).vaultName,
  );
  const known = [
    await existingVaultFolderName(stateDir, vaultName),
    ...configured,
    ...(configured.length === 0 ? [defaultLocalVaultName] : []),
  ].find((name) => name !== undefined && sameAzureName(name, vaultName));
  if (known !== undefined) return known;
  throw new NotFoundError(
    "VAULT_NOT_FOUND",
    `There is no vault '${vaultName}' under ${stateDir}; a policy never creates one: create it first with 'pgprotect local vault create ${vaultName}'`,
  );
}

/**
 * Runs a vault operation against the embedded local provider's vaults, kept under
 * PGPROTECT_STATE_DIR; the resource group only names the ids (vaults are keyed by name).
 */
async function withLocalVault(
  io: CliIo,
  flags: ParsedFlags,
  operation: (service: BackupPolicyPort, vaultId: string) => Promise<unknown>,
): Promise<CommandResult> {
  const { createLocalProvider } = await import("../providers/local/index.js");
  const { formatVaultId, LOCAL_SUBSCRIPTION_ID } = await import("../domain/protection/ids.js");
  const stateDir = path.resolve(io.cwd, appConfig().PGPROTECT_STATE_DIR);
  const vaultName = await existingLocalVaultName(stateDir, flagValue(flags, "vault-name") ?? "");
  const scope = {
    subscriptionId: LOCAL_SUBSCRIPTION_ID,
    resourceGroup: flagValue(flags, "resource-group") ?? "",
  };
  const provider = await createLocalProvider({ stateDir, servers: [], scope });
  const vaultId = formatVaultId({ ...scope, vaultName });
  return { output: await operation(provider.backup, vaultId) };
}

function groupUsage(): string {
  const lines = Object.entries(commands).map(
    ([name, command]) => `  ${name.padEnd(36)} ${command.summary}`,
  );
  return `Usage: pgprotect policy <command> [options]\n\nCommands:\n${lines.join("\n")}\n${policyExitCodes}`;
}

/** What every policy command's help says of its exit codes. */
const policyExitCodes =
  "\nExit codes: 0 done; 1 the command failed (one line on stderr, nothing on stdout; validate: the policy breaks a rule); 2 wrong command line.\n";

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs `pgprotect policy <command> ...`.
 *
 * @returns 0 on success; 1 when the command fails (one line on stderr, nothing on stdout); 2 on
 * a usage error.
 */
export async function runPolicyCli(args: readonly string[], io: CliIo): Promise<number> {
  const twoWords = args.length >= 2 ? `${args[0]} ${args[1]}` : undefined;
  const name = twoWords && commands[twoWords] ? twoWords : args[0];
  const command = name ? commands[name] : undefined;
  if (!command || !name) {
    if (args.length === 0 || args[0] === "--help" || args[0] === "-h") {
      io.stdout.write(groupUsage());
      return args.length === 0 ? 2 : 0;
    }
    io.stderr.write(
      `pgprotect policy: '${args.slice(0, 2).join(" ")}' is not a policy command; see 'pgprotect policy --help'\n`,
    );
    return 2;
  }
  const rest = args.slice(name.split(" ").length);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(
      `Usage: pgprotect policy ${name} [options]\n\n${command.summary}\n\nOptions:\n${describeFlags(command.flags)}\n${policyExitCodes}`,
    );
    return 0;
  }
  try {
    const flags = parseFlags(rest, command.flags);
    const output = flagValue(flags, "output");
    const formats = name === "simulate" ? ["json", "table"] : ["json"];
    if (output !== undefined && !formats.includes(output)) {
      io.stderr.write(
        `pgprotect policy ${name}: --output: '${output}' is not supported here; use ${formats.join(" or ")}\n`,
      );
      return 2;
    }
    const usesStdin = [...flags.values()].some((values) => values.includes("-"));
    const stdinText = usesStdin ? await readAll(io.stdin) : undefined;
    const result = await command.run({
      flags,
      io,
      json: (flag, value) => readJsonArgument(io.cwd, flag, value, stdinText),
    });
    io.stdout.write(result.text ?? toSortedJson(result.output));
    return result.exitCode ?? 0;
  } catch (error) {
    if (isAppError(error)) {
      io.stderr.write(`pgprotect policy ${name}: ${error.message}\n`);
      return error.code === "CLI_USAGE" ? 2 : 1;
    }
    throw error;
  }
}
