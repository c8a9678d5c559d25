/**
 * The list of PostgreSQL servers the local provider serves, as one setting:
 * `name=postgresql://...` entries separated by commas or white space; `name:flexible=...` makes a
 * server a Flexible Server (protected whole) instead of a Single Server (protected per database).
 *
 * ```
 * LOCAL_POSTGRES_SERVERS="sales=postgresql://admin:pw@db1:5432/postgres, analytics:flexible=postgresql://admin:pw@db2/postgres"
 * ```
 */
import type { InputProblem } from "../errors.js";
import type { ServerKind } from "./ids.js";

/** One server of the list. */
export interface LocalServerEntry {
  readonly name: string;
  readonly kind: ServerKind;
  readonly connectionString: string;
}

const ENTRY =
  /^([a-z0-9][a-z0-9-]{1,61}[a-z0-9])(?::(single|flexible))?=(postgres(?:ql)?:\/\/\S+)$/;

/**
 * Parses the server list.
 *
 * @returns the servers, or the problems found (never quoting a connection string: it may hold a password).
 */
export function parseLocalServerList(
  text: string,
  settingName = "LOCAL_POSTGRES_SERVERS",
): { readonly servers: readonly LocalServerEntry[]; readonly problems: readonly InputProblem[] } {
  const servers: LocalServerEntry[] = [];
  const problems: InputProblem[] = [];
  const entries = text.split(/[\s,]+/).filter((e) => e !== "");
  entries.forEach((entry, index) => {
    const match = ENTRY.exec(entry);
    if (!match) {
      problems.push({
        path: `${settingName}[${index}]`,
        code: "CONFIG_INVALID",
        message:
          "each entry must be name=postgresql://... or name:flexible=postgresql://... (name: 3-63 lowercase letters, digits, dashes)",
      });
      return;
    }
    const [, name, kind, connectionString] = match as unknown as [
      string,
      string,
      string | undefined,
      string,
    ];
    if (servers.some((s) => s.name === name)) {
      problems.push({
        path: `${settingName}[${index}]`,
        code: "CONFIG_INVALID",
        message: `server '${name}' is listed twice`,
      });
      return;
    }
    servers.push({
      name,
      kind: kind === "flexible" ? "flexibleServers" : "servers",
      connectionString,
    });
  });
  return { servers, problems };
}
