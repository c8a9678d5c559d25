/**
 * `pgprotect` command-line entry: dispatches to command groups. Each group prints results on
 * stdout and one readable line on stderr when it fails, with a non-zero exit code.
 */
import type { CliCommand, CliIo } from "./io.js";

const usage = `Usage: pgprotect <command> [options]

Commands:
  policy      Build, validate, compile, simulate and draw (calendar) backup policies (mirrors az dataprotection backup-policy)
  host        Run the function app in the local Functions runtime (HTTP, timers, Event Grid, Durable)
  local       Manage the embedded local provider (secret set|list|delete, vault create, demo)

Client of the HTTP API (the local host's, or --api URL):
  protect     Protect a database, a Flexible Server, or every database of a server [--wait]
  backup      Start an ad-hoc backup of a backup instance [--wait]
  restore     Restore a recovery point to a new database or as files [--wait]
  jobs        List backup and restore jobs [--watch]
  instances   List the protected items, or show one
  status      Show a protection or lifecycle operation or a job [--wait]
  policies    List a vault's backup policies, or show one
  stop        Stop protection of a backup instance [--delete-data] [--wait]
  suspend     Suspend a backup instance's schedule [--wait]
  resume      Resume backups or protection of a backup instance [--wait]
  change-policy  Move a backup instance to another policy [--wait]
  delete      Delete a backup instance (soft-deleted) [--wait]
  undelete    Bring a soft-deleted backup instance back [--wait]
  deleted     List the soft-deleted backup instances
  vaults      Show the vaults' security posture and its warnings [--strict]
  drills      List the restore drills: verdict and time to restore
  drill       Drill a backup instance now (restore, verify, time, remove) [--wait]
  completion  Print the shell completion script (bash, zsh)

Run 'pgprotect <command> --help' for a command's options and exit codes.
Exit codes: 0 done; 1 the command or the work it waited for failed; 2 wrong command line;
client commands also 3 the API refused the request, 4 the API refused the key or token,
5 no API could be reached, 6 a vault short of the baseline (vaults --strict),
130 stopped waiting (Ctrl+C).
`;

/** The client commands: one module, loaded only when one of them runs. */
const clientCommand = (name: string) => async (): Promise<CliCommand> => {
  const { runClientCommand } = await import("./client/clientCli.js");
  return (args, io) => runClientCommand([name, ...args], io);
};

const groups: Record<string, () => Promise<CliCommand>> = {
  policy: async () => (await import("./policyCli.js")).runPolicyCli,
  host: async () => (await import("./hostCli.js")).runHostCli,
  local: async () => (await import("./localCli.js")).runLocalCli,
  ...Object.fromEntries(
    [
      "protect",
      "backup",
      "restore",
      "jobs",
      "instances",
      "status",
      "policies",
      "stop",
      "suspend",
      "resume",
      "change-policy",
      "delete",
      "undelete",
      "deleted",
      "vaults",
      "drills",
      "drill",
      "completion",
    ].map((name) => [name, clientCommand(name)]),
  ),
};

/**
 * Runs one `pgprotect` invocation.
 *
 * @returns the exit code: 0 on success, 1 on a failed command, 2 on a usage error; the client
 * commands add theirs (see `client/exitCodes.ts`).
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [group, ...rest] = args;
  if (group === undefined || group === "--help" || group === "-h" || group === "help") {
    io.stdout.write(usage);
    return group === undefined ? 2 : 0;
  }
  const load = groups[group];
  if (!load) {
    io.stderr.write(`pgprotect: unknown command '${group}'; see 'pgprotect --help'\n`);
    return 2;
  }
  const command = await load();
  return command(rest, io);
}
