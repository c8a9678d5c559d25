/**
 * ASP.NET-style route templates as Azure Functions HTTP triggers use them: `{name}`, optional
 * `{name?}`, constrained `{name:int}`, catch-all `{*rest}`, and segments that mix literals and
 * parameters (`{file}.{ext}`). Literal text matches case-insensitively.
 */
import { RuntimeError } from "../errors.js";

/** A template that cannot be parsed. */
export class RouteTemplateError extends RuntimeError {
  override readonly name = "RouteTemplateError";
  constructor(template: string, reason: string) {
    super("RUNTIME_ROUTE_TEMPLATE_INVALID", `Route template "${template}" is invalid: ${reason}`);
  }
}

interface RouteParameter {
  readonly name: string;
  readonly constraints: readonly string[];
  readonly optional: boolean;
  readonly catchAll: boolean;
}

/** A parsed route template that matches request paths. */
export interface RouteTemplate {
  readonly template: string;
  /** Orders templates like ASP.NET: literals before parameters, catch-alls last. Lower wins. */
  readonly precedence: readonly number[];
  /** The route values when `path` (no leading slash, not decoded) matches, otherwise undefined. */
  match(path: string): Record<string, string> | undefined;
}

const constraintChecks: Record<string, (value: string) => boolean> = {
  int: (value) => /^-?\d+$/.test(value) && Math.abs(Number(value)) <= 2 ** 31,
  long: (value) => /^-?\d+$/.test(value),
  bool: (value) => /^(true|false)$/i.test(value),
  alpha: (value) => /^[a-z]+$/i.test(value),
  guid: (value) =>
    /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(value),
  double: (value) => value.trim() !== "" && Number.isFinite(Number(value)),
  float: (value) => value.trim() !== "" && Number.isFinite(Number(value)),
  decimal: (value) => /^-?\d+(\.\d+)?$/.test(value),
  datetime: (value) => !Number.isNaN(Date.parse(value)),
};

function checkConstraint(constraint: string, value: string): boolean {
  const sized = /^(minlength|maxlength|min|max|length)\((\d+)\)$/i.exec(constraint);
  if (sized) {
    const limit = Number(sized[2]);
    switch (sized[1]?.toLowerCase()) {
      case "minlength":
        return value.length >= limit;
      case "maxlength":
        return value.length <= limit;
      case "length":
        return value.length === limit;
      case "min":
        return Number(value) >= limit;
      case "max":
        return Number(value) <= limit;
    }
  }
  const regex = /^regex\((.*)\)$/i.exec(constraint);
  if (regex) return new RegExp(`^(?:${regex[1] ?? ""})$`, "i").test(value);
  const check = constraintChecks[constraint.toLowerCase()];
  // An unknown constraint is accepted rather than failing every request.
  return check ? check(value) : true;
}

function parseParameter(template: string, body: string): RouteParameter {
  let text = body;
  const catchAll = text.startsWith("*");
  if (catchAll) text = text.replace(/^\*+/, "");
  const optional = text.endsWith("?");
  if (optional) text = text.slice(0, -1);
  const [name, ...constraints] = text.split(":");
  if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RouteTemplateError(template, `"{${body}}" does not name a parameter`);
  }
  return { name, constraints, optional, catchAll };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Parses a route template (without the route prefix).
 *
 * @throws RouteTemplateError for unbalanced braces, a catch-all that is not last, or a
 * parameter named twice.
 */
export function parseRouteTemplate(template: string): RouteTemplate {
  const segments = template
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .filter((segment) => segment !== "");
  const parameters: RouteParameter[] = [];
  const precedence: number[] = [];
  let source = "^";
  segments.forEach((segment, index) => {
    const whole = /^\{([^{}]+)\}$/.exec(segment);
    if (whole?.[1] !== undefined) {
      const parameter = parseParameter(template, whole[1]);
      if (parameter.catchAll && index !== segments.length - 1) {
        throw new RouteTemplateError(template, "a catch-all parameter must be the last segment");
      }
      parameters.push(parameter);
      if (parameter.catchAll) {
        source += "(?:/(.*))?";
        precedence.push(5);
      } else if (parameter.optional) {
        source += "(?:/([^/]+))?";
        precedence.push(4);
      } else {
        source += "/([^/]+)";
        precedence.push(parameter.constraints.length > 0 ? 2 : 3);
      }
      return;
    }
    let segmentSource = "";
    let rest = segment;
    let hasParameter = false;
    while (rest !== "") {
      const open = rest.indexOf("{");
      if (open < 0) {
        if (rest.includes("}"))
          throw new RouteTemplateError(template, `unbalanced "}" in "${segment}"`);
        segmentSource += escapeRegExp(rest);
        break;
      }
      const close = rest.indexOf("}", open);
      if (close < 0) throw new RouteTemplateError(template, `unbalanced "{" in "${segment}"`);
      segmentSource += escapeRegExp(rest.slice(0, open));
      const parameter = parseParameter(template, rest.slice(open + 1, close));
      if (parameter.catchAll || parameter.optional) {
        throw new RouteTemplateError(
          template,
          `"${segment}" mixes text with an optional or catch-all parameter`,
        );
      }
      parameters.push(parameter);
      segmentSource += "([^/]+?)";
      hasParameter = true;
      rest = rest.slice(close + 1);
    }
    source += `/${segmentSource}`;
    precedence.push(hasParameter ? 2 : 1);
  });
  source += "/?$";
  const names = new Set<string>();
  for (const parameter of parameters) {
    const key = parameter.name.toLowerCase();
    if (names.has(key))
      throw new RouteTemplateError(template, `parameter "${parameter.name}" appears twice`);
    names.add(key);
  }
  const pattern = new RegExp(source, "i");

  return {
    template,
    precedence,
    match(path: string) {
      const found = pattern.exec(`/${path.replace(/^\/+/, "")}`);
      if (!found) return undefined;
      const values: Record<string, string> = {};
      for (const [index, parameter] of parameters.entries()) {
        const raw = found[index + 1];
        if (raw === undefined || raw === "") {
          if (parameter.optional || parameter.catchAll) continue;
          return undefined;
        }
        let value: string;
        try {
          value = parameter.catchAll ? decodeURI(raw) : decodeURIComponent(raw);
        } catch {
          return undefined;
        }
        if (!parameter.constraints.every((constraint) => checkConstraint(constraint, value)))
          return undefined;
        values[parameter.name] = value;
      }
      return values;
    },
  };
}

/** Compares two templates for matching order (ASP.NET precedence): negative when `a` goes first. */
export function compareRoutePrecedence(a: RouteTemplate, b: RouteTemplate): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let index = 0; index < length; index += 1) {
    const left = a.precedence[index] ?? 0;
    const right = b.precedence[index] ?? 0;
    if (left !== right) return left - right;
  }
  return 0;
}
