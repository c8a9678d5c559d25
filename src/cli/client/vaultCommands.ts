/**
 * `pgprotect vaults [NAME]`: the vaults' security posture over the HTTP API (`GET /api/vaults`,
 * `GET /api/vaults/{name}`), as a table or the API's JSON.
 *
 * @remarks Warnings are information: the command exits 0 with them, so a script can read the
 * posture without failing. With `--strict` a vault short of the baseline (a warning, an unknown
 * setting, or a vault that could not be read) ends it with
 * {@link ClientExitCodes.belowBaseline} (6), for a pipeline gate.
 */
import type { Command } from "commander";
import type { VaultPostureView } from "../../application/vaultPosture.js";
import type { PostureWarning, VaultSecuritySettings } from "../../domain/vault/posture.js";
import type { ApiClient } from "./apiClient.js";
import { ClientExitCodes } from "./exitCodes.js";
import { keyValues, table, type Colors } from "./render.js";

/** The options of `pgprotect vaults`. */
export interface VaultsOptions {
  readonly api?: string;
  readonly entraScope?: string;
  readonly output: "table" | "json";
  readonly strict?: boolean;
}

/** What the command needs of the client run: the API, printing, its one line, its exit code. */
export interface VaultsCommandRun {
  api(options: VaultsOptions): ApiClient;
  print(options: VaultsOptions, json: unknown, table: (colors: Colors) => string): void;
  say(message: string): void;
  exitCode: number;
}

function softDeleteText(settings: VaultSecuritySettings): string {
  const { state, retentionDays } = settings.softDelete;
  return state === "Off" || state === "unknown" || retentionDays === null
    ? state
    : `${state}, ${retentionDays} days`;
}

function severityText(colors: Colors, warning: PostureWarning): string {
  const paint =
    warning.severity === "high"
      ? colors.red
      : warning.severity === "medium"
        ? colors.yellow
        : colors.cyan;
  return paint(warning.severity);
}

function baselineText(colors: Colors, vault: VaultPostureView): string {
  if (vault.error) return colors.red(`unreadable: ${vault.error.code}`);
  if (vault.meetsBaseline) return colors.green("met");
  const count = vault.warnings.length;
  return colors.yellow(`${count} warning${count === 1 ? "" : "s"}`);
}

/** A vault's warnings, each with what to change on the line below. */
function warningLines(colors: Colors, vault: VaultPostureView, prefix = ""): string[] {
  return vault.warnings.flatMap((warning) => [
    `${prefix}${severityText(colors, warning)}  ${colors.bold(warning.code)}  ${warning.setting} is ${warning.found}; recommended: ${warning.recommended}`,
    `${prefix}  ${colors.dim("why")}     ${warning.why}`,
    `${prefix}  ${colors.dim("change")}  ${warning.change}`,
  ]);
}

/** The vaults as a table, then each one's warnings. */
export function vaultsTable(colors: Colors, vaults: readonly VaultPostureView[]): string {
  if (vaults.length === 0) return colors.dim("No vaults.");
  const rows = vaults.map((vault) => {
    const s = vault.settings;
    return [
      vault.name,
      vault.provider,
      s?.redundancy ?? "-",
      s ? softDeleteText(s) : "-",
      s?.immutability ?? "-",
      s?.resourceGuard.state ?? "-",
      baselineText(colors, vault),
    ];
  });
  const warnings = vaults
    .filter((vault) => vault.warnings.length > 0 || vault.error)
    .flatMap((vault) => [
      "",
      `${colors.bold(vault.name)}:`,
      ...(vault.error ? [`  ${colors.red(vault.error.code)}  ${vault.error.message}`] : []),
      ...warningLines(colors, vault, "  "),
    ]);
  return [
    table(
      colors,
      [
        "NAME",
        "PROVIDER",
        "REDUNDANCY",
        "SOFT DELETE",
        "IMMUTABILITY",
        "RESOURCE GUARD",
        "BASELINE",
      ],
      rows,
    ),
    ...warnings,
  ].join("\n");
}

/** One vault's settings, then its warnings. */
export function vaultDetails(colors: Colors, vault: VaultPostureView): string {
  const s = vault.settings;
  const details = keyValues(colors, [
    ["name", vault.name],
    ["provider", vault.provider],
    ["id", vault.id],
    ["redundancy", s?.redundancy],
    ["soft delete", s ? softDeleteText(s) : undefined],
    ["immutability", s?.immutability],
    ["cross-region restore", s?.crossRegionRestore],
    ["cross-subscription restore", s?.crossSubscriptionRestore],
    [
      "resource guard",
      s ? [s.resourceGuard.state, ...s.resourceGuard.resourceGuardIds].join(" ") : undefined,
    ],
    ["job failure alerts", s?.jobFailureAlerts],
    ["baseline", baselineText(colors, vault)],
  ]);
  const warnings = warningLines(colors, vault);
  return warnings.length > 0 ? [details, "", ...warnings].join("\n") : details;
}

/** Shows the posture; with `--strict`, a vault short of the baseline sets the exit code. */
export async function showVaults(
  run: VaultsCommandRun,
  name: string | undefined,
  options: VaultsOptions,
): Promise<void> {
  const api = run.api(options);
  let vaults: readonly VaultPostureView[];
  if (name) {
    const vault = await api.get<VaultPostureView>(`vaults/${encodeURIComponent(name)}`);
    run.print(options, vault, (colors) => vaultDetails(colors, vault));
    vaults = [vault];
  } else {
    const list = await api.get<{ value: VaultPostureView[] }>("vaults");
    run.print(options, list, (colors) => vaultsTable(colors, list.value));
    vaults = list.value;
  }
  const short = vaults.filter((vault) => !vault.meetsBaseline);
  if (options.strict && short.length > 0) {
    run.say(
      `${short.length} vault${short.length === 1 ? "" : "s"} short of the baseline: ${short
        .map(
          (v) => `${v.name} (${v.error ? v.error.code : v.warnings.map((w) => w.code).join(", ")})`,
        )
        .join("; ")}`,
    );
    run.exitCode = ClientExitCodes.belowBaseline;
  }
}

/**
 * Adds `pgprotect vaults [NAME]` to the program.
 *
 * @param withApiOptions - adds the options every API command takes (`--api`, `--output`, ...).
 */
export function addVaultsCommand(
  program: Command,
  run: VaultsCommandRun,
  withApiOptions: (command: Command) => Command,
): void {
  withApiOptions(
    program
      .command("vaults")
      .description("Show the vaults' security posture and the warnings where it falls short")
      .argument("[name]", "one vault")
      .option(
        "--strict",
        `exit ${ClientExitCodes.belowBaseline} when a vault falls short of the baseline (a warning or an unknown setting)`,
      ),
  ).action((name: string | undefined, options: VaultsOptions) => showVaults(run, name, options));
}
