/**
 * PostgreSQL connection strings as users put them in a secret: a URL
 * (`postgresql://user:pass@host:5432/db?sslmode=require`) or libpq key=value pairs
 * (`host=h port=5432 dbname=db user=u password='p w'`).
 */
import { ErrorCodes } from "../errorCodes.js";
import { InvalidInputError } from "../errors.js";

/** Code of a secret value that is not a usable PostgreSQL connection string. */
export const CONNECTION_STRING_INVALID = ErrorCodes.CONNECTION_STRING_INVALID;

/** A parsed connection string, as libpq parameters. */
export interface PostgresConnectionParams {
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  /** Everything else (`sslmode`, `application_name`, ...), by libpq keyword. */
  readonly options: Readonly<Record<string, string>>;
}

const invalid = (reason: string): InvalidInputError =>
  // The value itself is never quoted back: it may hold a password.
  new InvalidInputError(
    CONNECTION_STRING_INVALID,
    `The secret is not a PostgreSQL connection string: ${reason}`,
    [{ path: "$.secret", code: CONNECTION_STRING_INVALID, message: reason }],
  );

/** libpq keywords with a field of their own; the rest go to `options`. */
const KNOWN = new Set(["host", "hostaddr", "port", "user", "password", "dbname"]);

function build(pairs: ReadonlyMap<string, string>): PostgresConnectionParams {
  const options: Record<string, string> = {};
  for (const [key, value] of pairs) if (!KNOWN.has(key)) options[key] = value;
  const portText = pairs.get("port");
  let port: number | undefined;
  if (portText !== undefined && portText !== "") {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw invalid("the port must be a number from 1 to 65535");
  }
  const host = pairs.get("host") ?? pairs.get("hostaddr");
  return {
    ...(host ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(pairs.get("user") ? { user: pairs.get("user") } : {}),
    ...(pairs.get("password") !== undefined ? { password: pairs.get("password") } : {}),
    ...(pairs.get("dbname") ? { database: pairs.get("dbname") } : {}),
    options,
  };
}

function parseUrl(text: string): PostgresConnectionParams {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid("the URL does not parse");
  }
  const pairs = new Map<string, string>();
  // WHATWG URL keeps brackets around IPv6 hosts; libpq wants them off.
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, "$1");
  if (host) pairs.set("host", host);
  if (url.port) pairs.set("port", url.port);
  if (url.username) pairs.set("user", decodeURIComponent(url.username));
  if (url.password) pairs.set("password", decodeURIComponent(url.password));
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database) pairs.set("dbname", database);
  for (const [key, value] of url.searchParams) pairs.set(key, value);
  return build(pairs);
}

function parseKeywordValue(text: string): PostgresConnectionParams {
  const pairs = new Map<string, string>();
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] as string)) i += 1;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) break;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i += 1;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (key === "" || text[i] !== "=") throw invalid("expected key=value pairs");
    i += 1;
    skipSpace();
    let value = "";
    if (text[i] === "'") {
      i += 1;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] as string;
        if (ch === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === "'") {
          i += 1;
          closed = true;
          break;
        } else {
          value += ch;
          i += 1;
        }
      }
      if (!closed) throw invalid(`the quoted value of '${key}' is not closed`);
    } else {
      while (i < text.length && !/\s/.test(text[i] as string)) {
        const ch = text[i] as string;
        if (ch === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else {
          value += ch;
          i += 1;
        }
      }
    }
    pairs.set(key, value);
  }
  if (pairs.size === 0) throw invalid("it is empty");
  return build(pairs);
}

/**
 * Parses a PostgreSQL connection string, URL or key=value form.
 *
 * @throws InvalidInputError `CONNECTION_STRING_INVALID` (never quoting the value) when it
 * is empty, malformed, or names no host.
 */
export function parseConnectionString(text: string): PostgresConnectionParams {
  const trimmed = text.trim();
  if (trimmed === "") throw invalid("it is empty");
  const params = /^postgres(ql)?:\/\//i.test(trimmed)
    ? parseUrl(trimmed)
    : /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)
      ? (() => {
          throw invalid("only postgres:// and postgresql:// URLs are connection strings");
        })()
      : parseKeywordValue(trimmed);
  if (!params.host) throw invalid("it names no host");
  return params;
}

/**
 * The libpq environment (`PGHOST`, `PGPASSWORD`, ...) for a connection, so that tools such as
 * `pg_dump` get credentials without them appearing in a process list.
 */
export function libpqEnvironment(
  params: PostgresConnectionParams,
  database?: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (params.host) env.PGHOST = params.host;
  if (params.port !== undefined) env.PGPORT = String(params.port);
  if (params.user) env.PGUSER = params.user;
  if (params.password !== undefined) env.PGPASSWORD = params.password;
  const db = database ?? params.database;
  if (db) env.PGDATABASE = db;
  const byOption: Record<string, string> = {
    sslmode: "PGSSLMODE",
    sslrootcert: "PGSSLROOTCERT",
    sslcert: "PGSSLCERT",
    sslkey: "PGSSLKEY",
    connect_timeout: "PGCONNECT_TIMEOUT",
    application_name: "PGAPPNAME",
    options: "PGOPTIONS",
  };
  for (const [key, value] of Object.entries(params.options)) {
    const name = byOption[key];
    if (name) env[name] = value;
  }
  return env;
}
