/**
 * Reading JSON arguments the way `az` does: a file path, or the JSON itself. Paths written for
 * Windows (`.\OSSPolicy.JSON`) resolve too: backslashes become separators and, where the exact
 * name is missing, a name differing only in case is used when it is the only one.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { InvalidInputError } from "../domain/errors.js";

/** Finds the file a user meant, or undefined. */
export function resolveUserPath(cwd: string, written: string): string | undefined {
  const candidates = [written, written.replaceAll("\\", "/")];
  for (const candidate of candidates) {
    const full = path.resolve(cwd, candidate);
    if (existsSync(full)) return full;
  }
  const full = path.resolve(cwd, written.replaceAll("\\", "/"));
  const dir = path.dirname(full);
  if (!existsSync(dir)) return undefined;
  const wanted = path.basename(full).toLowerCase();
  const matches = readdirSync(dir).filter((name) => name.toLowerCase() === wanted);
  return matches.length === 1 && matches[0] ? path.join(dir, matches[0]) : undefined;
}

/**
 * Reads a JSON argument: inline JSON (starting with `{` or `[`), `-` for standard input text
 * passed in `stdinText`, or a file.
 *
 * @throws InvalidInputError naming the flag when the file is missing or the JSON is malformed.
 */
export function readJsonArgument(
  cwd: string,
  flag: string,
  value: string,
  stdinText?: string,
): unknown {
  let text: string;
  let source: string;
  const trimmed = value.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    text = value;
    source = "the inline value";
  } else if (value === "-") {
    text = stdinText ?? "";
    source = "standard input";
  } else {
    const file = resolveUserPath(cwd, value);
    if (!file) {
      throw new InvalidInputError("CLI_FILE_NOT_FOUND", `${flag}: file '${value}' not found`, [
        { path: flag, code: "CLI_FILE_NOT_FOUND", message: `file '${value}' not found` },
      ]);
    }
    text = readFileSync(file, "utf8");
    source = `'${value}'`;
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      "CLI_JSON_INVALID",
      `${flag}: ${source} is not valid JSON (${reason})`,
      [{ path: flag, code: "CLI_JSON_INVALID", message: `${source} is not valid JSON` }],
    );
  }
}

/** JSON text with keys sorted at every level, as `az` prints it. */
export function toSortedJson(value: unknown): string {
  const sort = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sort);
    if (item !== null && typeof item === "object") {
      return Object.fromEntries(
        Object.keys(item as Record<string, unknown>)
          .sort()
          .map((key) => [key, sort((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}
