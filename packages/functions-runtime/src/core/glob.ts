/**
 * The small glob subset a function app's `package.json` `main` uses: brace alternatives
 * (`{a.js,b/*.js}`, nestable), `*` and `?` within one path segment, and `**` for any depth.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Expands `{a,b}` alternatives (nested ones too), keeping the order they are written in. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf("{");
  if (open < 0) return [pattern];
  // Find the brace that closes the first one, splitting its body on top-level commas.
  const alternatives: string[] = [];
  let depth = 0;
  let partStart = open + 1;
  for (let index = open; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === "{") depth += 1;
    else if (char === "}") {
      depth -= 1;
      if (depth === 0) {
        alternatives.push(pattern.slice(partStart, index));
        const before = pattern.slice(0, open);
        const after = pattern.slice(index + 1);
        return alternatives.flatMap((alternative) => expandBraces(before + alternative + after));
      }
    } else if (char === "," && depth === 1) {
      alternatives.push(pattern.slice(partStart, index));
      partStart = index + 1;
    }
  }
  // An unclosed brace is literal text.
  return [pattern];
}

/** Whether a pattern has anything to match (as opposed to a plain path). */
export function isGlob(pattern: string): boolean {
  return /[*?{]/.test(pattern);
}

/** Turns one segment pattern (`*.js`) into an anchored regular expression. */
export function segmentToRegExp(segment: string): RegExp {
  const source = [...segment]
    .map((char) => {
      if (char === "*") return "[^/]*";
      if (char === "?") return "[^/]";
      return char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${source}$`);
}

/**
 * The files under `baseDir` that match `pattern` (relative, `/`-separated), as absolute paths.
 *
 * @remarks Alternatives are listed in the order written; files within one alternative in name
 * order. A file matched twice is listed once. Dot files match only a segment that names them.
 */
export function globFiles(baseDir: string, pattern: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const alternative of expandBraces(pattern)) {
    const segments = alternative.split("/").filter((segment) => segment !== "" && segment !== ".");
    for (const file of walk(baseDir, segments)) {
      if (!seen.has(file)) {
        seen.add(file);
        found.push(file);
      }
    }
  }
  return found;
}

function walk(dir: string, segments: readonly string[]): string[] {
  const [segment, ...rest] = segments;
  if (segment === undefined) return isFile(dir) ? [dir] : [];
  if (segment === "**") {
    const here = walk(dir, rest);
    const deeper = listDir(dir)
      .filter((entry) => !entry.startsWith(".") && isDirectory(path.join(dir, entry)))
      .flatMap((entry) => walk(path.join(dir, entry), segments));
    return [...here, ...deeper];
  }
  if (segment === "..") return walk(path.dirname(dir), rest);
  if (!/[*?]/.test(segment)) return walk(path.join(dir, segment), rest);
  const matcher = segmentToRegExp(segment);
  return listDir(dir)
    .filter((entry) => matcher.test(entry) && (segment.startsWith(".") || !entry.startsWith(".")))
    .flatMap((entry) => walk(path.join(dir, entry), rest));
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
