/**
 * Flag parsing in the Azure CLI's style: `--flag value`, `--flag v1 v2 v3` for lists, short
 * aliases such as `-n`. Scripts written for `az` run unchanged, including `-long-flag` written
 * with one dash by mistake, which `az` tolerates too.
 */
import { InvalidInputError } from "../domain/errors.js";

/** How a command declares one flag. */
export interface FlagSpec {
  readonly required?: boolean;
  /** Takes several values (`--schedule-days a b c`). */
  readonly multiple?: boolean;
  /** Takes no value. */
  readonly boolean?: boolean;
  readonly aliases?: readonly string[];
  readonly description: string;
}

/** Parsed flags: name (without dashes) to values. */
export type ParsedFlags = ReadonlyMap<string, readonly string[]>;

function isFlagToken(token: string): boolean {
  return /^--?[A-Za-z][A-Za-z0-9-]*$/.test(token);
}

/**
 * Parses a command's arguments against its flag specs.
 *
 * @throws InvalidInputError (code `CLI_USAGE`) for an unknown flag, a missing value or a missing
 * required flag, naming the flag.
 */
export function parseFlags(
  args: readonly string[],
  specs: Readonly<Record<string, FlagSpec>>,
): ParsedFlags {
  const byAlias = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    byAlias.set(name, name);
    for (const alias of spec.aliases ?? []) byAlias.set(alias, name);
  }
  const parsed = new Map<string, string[]>();
  let current: string | undefined;
  for (const token of args) {
    if (isFlagToken(token)) {
      const bare = token.replace(/^--?/, "");
      const name = byAlias.get(bare);
      if (!name) throw usage(`unrecognized argument '${token}'`, token);
      if (parsed.has(name)) throw usage(`'--${name}' is given twice`, `--${name}`);
      parsed.set(name, []);
      current = specs[name]?.boolean ? undefined : name;
      continue;
    }
    if (current === undefined) throw usage(`unexpected value '${token}'`, token);
    const values = parsed.get(current) ?? [];
    values.push(token);
    parsed.set(current, values);
    if (!specs[current]?.multiple) current = undefined;
  }
  for (const [name, spec] of Object.entries(specs)) {
    const values = parsed.get(name);
    if (values && !spec.boolean && values.length === 0)
      throw usage(`'--${name}' needs a value`, `--${name}`);
    if (spec.required && !values)
      throw usage(`the following arguments are required: --${name}`, `--${name}`);
  }
  return parsed;
}

function usage(message: string, path: string): InvalidInputError {
  return new InvalidInputError("CLI_USAGE", message, [{ path, code: "CLI_USAGE", message }]);
}

/** The single value of a flag, or undefined. */
export function flagValue(flags: ParsedFlags, name: string): string | undefined {
  return flags.get(name)?.[0];
}

/** A flag's value as a whole number, or an error naming the flag. */
export function flagInteger(flags: ParsedFlags, name: string): number | undefined {
  const value = flagValue(flags, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw usage(`'--${name}' must be a whole number, not '${value}'`, `--${name}`);
  return Number(value);
}

/** A flag's value as a number, or an error naming the flag. */
export function flagNumber(flags: ParsedFlags, name: string): number | undefined {
  const value = flagValue(flags, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number))
    throw usage(`'--${name}' must be a number, not '${value}'`, `--${name}`);
  return number;
}

/** Renders flag specs as help text. */
export function describeFlags(specs: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      const aliases = (spec.aliases ?? []).map((a) => (a.length === 1 ? `-${a}` : `--${a}`));
      const names = [`--${name}`, ...aliases].join(", ");
      return `  ${names.padEnd(34)} ${spec.required ? "[Required] " : ""}${spec.description}`;
    })
    .join("\n");
}
