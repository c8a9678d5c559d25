/**
 * Every rule a name or path from a caller must follow, in one place: Backup vault, backup policy
 * and backup instance names, PostgreSQL server and database names (and the databases a restore must never
 * write into), and the folder and file prefix of a restore as files.
 *
 * @remarks Each rule is checked once, where the request enters, and refused as a 400 problem whose
 * problem entry names the rule in a sentence; nothing behind the edge (a file name, an ARM path,
 * `CREATE DATABASE`) ever meets a name that breaks one. Azure names of vaults, policies and
 * instances compare without regard to case ({@link sameAzureName}); PostgreSQL database names do
 * not (`Demo` and `demo` are two databases).
 */
import { InvalidInputError, type ErrorCode } from "../errors.js";

/** A rule a name follows, stated as a sentence a caller can act on. */
export interface NameRule {
  /** What is named, for messages: "vault name". */
  readonly what: string;
  /** The stable code of a refusal, e.g. `VAULT_NAME_INVALID`. */
  readonly code: ErrorCode;
  /** The rule in one sentence, e.g. "2-50 characters: ...". */
  readonly rule: string;
  /** Why `value` breaks the rule, or undefined when it follows it. */
  readonly violation: (value: string) => string | undefined;
}

const utf8Bytes = (value: string): number => new TextEncoder().encode(value).length;

/** A character that has no place in a name: control characters and separators of paths. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Backup vault names, as the service's `vaultName` parameter states them: 2-50 characters,
 * letters, digits and hyphens, starting with a letter and ending with a letter or digit.
 */
export const vaultNameRule: NameRule = {
  what: "vault name",
  code: "VAULT_NAME_INVALID",
  rule: "2-50 characters: letters, digits and '-', starting with a letter and ending with a letter or digit",
  violation: (value) => {
    if (value.length < 2 || value.length > 50) return `it has ${value.length} characters`;
    if (!/^[A-Za-z][-A-Za-z0-9]*[A-Za-z0-9]$/.test(value)) return "it has another character";
    return undefined;
  },
};

/**
 * Backup policy names: 3-150 characters, letters, digits and hyphens, starting with a letter or
 * digit (the portal's and the service's rule for Backup vault policies).
 */
export const policyNameRule: NameRule = {
  what: "policy name",
  code: "POLICY_NAME_INVALID",
  rule: "3-150 characters: letters, digits and '-', starting with a letter or digit",
  violation: (value) => {
    if (value.length < 3 || value.length > 150) return `it has ${value.length} characters`;
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(value)) return "it has another character";
    return undefined;
  },
};

/** The longest backup instance name, in characters. */
export const maxBackupInstanceNameLength = 200;
const maxBackupInstanceNameBytes = 250;

/**
 * Backup instance names. The service states no pattern (it names them itself: `<server>-<db>-<uuid>`
 * from its tools); pgprotect accepts 1-200 characters of letters and digits of any script, '-',
 * '_' and '.', starting with a letter or digit, at most 250 bytes in UTF-8, so that a name is
 * always one safe path segment and one file name.
 */
export const backupInstanceNameRule: NameRule = {
  what: "backup instance name",
  code: "BACKUP_INSTANCE_NAME_INVALID",
  rule: `1-${maxBackupInstanceNameLength} characters (at most ${maxBackupInstanceNameBytes} bytes in UTF-8): letters and digits of any script, '-', '_' and '.', starting with a letter or digit`,
  violation: (value) => {
    const length = [...value].length;
    if (length < 1 || length > maxBackupInstanceNameLength) return `it has ${length} characters`;
    if (utf8Bytes(value) > maxBackupInstanceNameBytes)
      return `it has ${utf8Bytes(value)} bytes in UTF-8`;
    if (!/^[\p{L}\p{N}][\p{L}\p{M}\p{N}._-]*$/u.test(value)) return "it has another character";
    return undefined;
  },
};

/**
 * Azure Database for PostgreSQL server names (Single and Flexible Server): 3-63 characters of
 * letters, digits and hyphens, neither starting nor ending with a hyphen, because the name is the
 * first label of the server's DNS name (`<name>.postgres.database.azure.com`). Azure creates them
 * in lowercase but resolves a name without regard to case (`PG-Sales` finds `pg-sales`), so
 * upper-case letters naming an existing server pass. The local provider's servers
 * (`LOCAL_POSTGRES_SERVERS`, e.g. `local`) follow the same rule.
 */
export const serverNameRule: NameRule = {
  what: "server name",
  code: "SERVER_NAME_INVALID",
  rule: "3-63 characters: lowercase letters, digits and '-', not starting or ending with '-' (Azure Database for PostgreSQL's rule; case is ignored when looking a server up)",
  violation: (value) => {
    if (value.length < 3 || value.length > 63) return `it has ${value.length} characters`;
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$/.test(value))
      return value.startsWith("-") || value.endsWith("-")
        ? "it starts or ends with '-'"
        : "it has another character";
    return undefined;
  },
};

/** PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1). */
const maxIdentifierBytes = 63;

/**
 * Names of existing PostgreSQL databases, as a request may name them: what PostgreSQL allows
 * (1-63 bytes in UTF-8, no control character) and what an ARM id segment can carry (no '/', no
 * '\'). Case and every other character count: `Demo` and `demo` are two databases.
 */
export const databaseNameRule: NameRule = {
  what: "database name",
  code: "DATABASE_NAME_INVALID",
  rule: "1-63 bytes in UTF-8, without control characters, '/' or '\\' (PostgreSQL's identifier length; case counts)",
  violation: (value) => {
    const bytes = utf8Bytes(value);
    if (bytes < 1 || bytes > maxIdentifierBytes) return `it has ${bytes} bytes in UTF-8`;
    if (CONTROL.test(value) || /[/\\]/.test(value)) return "it has a forbidden character";
    return undefined;
  },
};

/**
 * Databases a restore never creates or writes into, with why: PostgreSQL's templates (every new
 * database is copied from `template1`; `template0` accepts no connections), its maintenance
 * database, and Azure Database for PostgreSQL's own.
 */
export const reservedDatabaseNames: ReadonlyMap<string, string> = new Map([
  ["template0", "PostgreSQL's pristine template database, which accepts no connections"],
  ["template1", "PostgreSQL's template database, copied into every new database"],
  ["postgres", "PostgreSQL's maintenance database"],
  ["azure_maintenance", "a database Azure Database for PostgreSQL reserves for itself"],
  ["azure_sys", "a database Azure Database for PostgreSQL reserves for itself"],
]);

/**
 * Names of databases a restore creates: letters of any script, digits, '_', '$' and '-', starting
 * with a letter or '_', 1-63 bytes in UTF-8 (so no quoting surprises in tools), and not one of
 * {@link reservedDatabaseNames}.
 */
export const restoreDatabaseNameRule: NameRule = {
  what: "target database name",
  code: "TARGET_DATABASE_NAME_INVALID",
  rule: "1-63 bytes in UTF-8: letters, digits, '_', '$' and '-', starting with a letter or '_'; not template0, template1, postgres, azure_maintenance or azure_sys",
  violation: (value) => {
    const bytes = utf8Bytes(value);
    if (bytes < 1 || bytes > maxIdentifierBytes) return `it has ${bytes} bytes in UTF-8`;
    if (!/^[\p{L}_][\p{L}\p{M}\p{N}_$-]*$/u.test(value)) return "it has another character";
    const reserved = reservedDatabaseNames.get(value);
    if (reserved) return `'${value}' is ${reserved}`;
    return undefined;
  },
};

/**
 * The prefix of the files a restore as files writes: 1-100 characters of letters, digits, '.',
 * '_' and '-', starting with a letter or digit, so that it names a file and never a path.
 */
export const restoreFilePrefixRule: NameRule = {
  what: "file prefix",
  code: "FILE_PREFIX_INVALID",
  rule: "1-100 characters: letters, digits, '.', '_' and '-', starting with a letter or digit (a file name, never a path)",
  violation: (value) => {
    if (value.length < 1 || value.length > 100) return `it has ${value.length} characters`;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) return "it has another character";
    return undefined;
  },
};

/**
 * The folder a local restore as files writes into: an absolute path of at most 1024 characters,
 * without control characters or `.`/`..` segments. Where it may be is the provider's business
 * (`LOCAL_RESTORE_FOLDERS`); this rule only keeps a path from meaning something else than it says.
 */
export const restoreFolderRule: NameRule = {
  what: "target folder",
  code: "TARGET_FOLDER_INVALID",
  rule: "an absolute path of at most 1024 characters, without control characters or '.' and '..' segments",
  violation: (value) => {
    if (value.length < 1 || value.length > 1024) return `it has ${value.length} characters`;
    if (CONTROL.test(value)) return "it has a control character";
    if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(value)) return "it is not an absolute path";
    if (value.split(/[\\/]/).some((segment) => segment === "." || segment === ".."))
      return "it has a '.' or '..' segment";
    return undefined;
  },
};

/**
 * Checks a name against its rule.
 *
 * @param path - where the name is in the request, for the problem entry: `path.vault`, `$.policyName`.
 * @returns the name, unchanged.
 * @throws InvalidInputError with the rule's code and the rule as the problem's message.
 */
export function assertName(rule: NameRule, value: string, path: string): string {
  const violation = rule.violation(value);
  if (violation === undefined) return value;
  const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  throw new InvalidInputError(
    rule.code,
    `'${shown}' is not a valid ${rule.what}: ${violation}. A ${rule.what} has ${rule.rule}`,
    [{ path, code: rule.code, message: rule.rule }],
  );
}

/** Whether a name follows its rule. */
export function followsRule(rule: NameRule, value: string): boolean {
  return rule.violation(value) === undefined;
}

/**
 * Whether two Azure resource names (vaults, policies, backup instances, servers, resource
 * groups) name the same resource: Azure compares them without regard to case.
 */
export function sameAzureName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
