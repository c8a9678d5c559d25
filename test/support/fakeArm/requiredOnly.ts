/**
 * Prunes a response body to the properties the OpenAPI document requires: what a service that
 * omits everything optional would answer. The fake's "required-only" mode sends every Data
 * Protection answer through it, so that contract tests find each read of an optional property
 * that has no fallback.
 *
 * @remarks The walk follows the document: `$ref`s, `allOf` chains (a property required anywhere
 * in the chain is required), discriminated subtypes (a `BackupPolicy` is pruned as a
 * `BackupPolicy`, not as its base), arrays and maps. Three rules make the result an answer
 * rather than an empty object:
 * - An optional object or array is kept when, pruned, it still holds something the document
 *   requires of it (a job's `properties` hold its required `status`); an optional scalar, and an
 *   optional object left empty (`systemData`, `protectionStatus`), are dropped. Map entries
 *   (`tags`, `additionalDetails`) are never required, so maps are dropped whole.
 * - A pageable operation's `nextLink` (named by `x-ms-pageable`) is kept: without it a list
 *   would say it has no more pages, which is a different answer, not a shorter one.
 * - Resource Manager's own contract, which the document leaves to common types it does not ship,
 *   is kept: every resource names itself (`id`, `name`, `type`), an operation status says its
 *   `status`, an error its `code` and `message`, and a system-assigned identity its principal.
 *   Those are what Resource Manager requires of every provider, whatever a provider's document
 *   says.
 */
import { readFileSync } from "node:fs";
import {
  COMMON_PREFIX,
  commonDefinitions,
  isObject,
  OPENAPI_PATH,
  type Json,
  type JsonObject,
} from "./openApiValidator.js";

/** Properties Resource Manager requires of every provider, by the definition that holds them. */
const resourceManagerContract: Readonly<Record<string, readonly string[]>> = {
  __common_Resource: ["id", "name", "type"],
  __common_TrackedResource: ["location"],
  OperationResource: ["status", "error"],
  Error: ["code", "message"],
  __common_ErrorDetail: ["code", "message"],
  DppIdentityDetails: ["type", "principalId", "tenantId"],
};

function definitionName(ref: Json | undefined): string | undefined {
  if (typeof ref !== "string") return undefined;
  if (ref.startsWith(COMMON_PREFIX)) return `__common_${ref.split("/").pop() ?? ""}`;
  return ref.startsWith("#/definitions/") ? ref.slice(14) : undefined;
}

/** What a schema says of an object: its properties and which of them are required. */
interface ObjectShape {
  readonly properties: Map<string, Json>;
  readonly required: Set<string>;
  readonly additional: Json | undefined;
}

/** Prunes answers of the Data Protection contract to what it requires. */
export class RequiredOnlyPruner {
  private readonly definitions: Record<string, JsonObject>;
  /** Subtypes of each discriminated base, by discriminator value. */
  private readonly subtypes = new Map<string, Map<string, string>>();
  private readonly operations: {
    readonly method: string;
    readonly regex: RegExp;
    readonly catchAll: boolean;
    readonly responses: JsonObject;
    readonly nextLinkName: string | undefined;
  }[] = [];

  constructor(spec: JsonObject = JSON.parse(readFileSync(OPENAPI_PATH, "utf8")) as JsonObject) {
    const raw = isObject(spec["definitions"]) ? spec["definitions"] : {};
    this.definitions = { ...commonDefinitions };
    for (const [name, def] of Object.entries(raw)) if (isObject(def)) this.definitions[name] = def;
    const parentsOf = (name: string): string[] => {
      const allOf = this.definitions[name]?.["allOf"];
      return Array.isArray(allOf)
        ? allOf.flatMap((item) => {
            const parent = isObject(item) ? definitionName(item["$ref"]) : undefined;
            return parent ? [parent] : [];
          })
        : [];
    };
    const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
      for (const parent of parentsOf(name)) {
        if (!seen.has(parent)) {
          seen.add(parent);
          ancestors(parent, seen);
        }
      }
      return seen;
    };
    for (const [base, def] of Object.entries(this.definitions)) {
      if (typeof def["discriminator"] !== "string") continue;
      const byValue = new Map<string, string>();
      for (const name of Object.keys(this.definitions)) {
        if (!ancestors(name).has(base)) continue;
        const value = this.definitions[name]?.["x-ms-discriminator-value"];
        byValue.set(typeof value === "string" ? value : name, name);
      }
      this.subtypes.set(base, byValue);
    }
    const paths = isObject(spec["paths"]) ? spec["paths"] : {};
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      for (const [method, op] of Object.entries(item)) {
        if (!isObject(op) || method === "parameters") continue;
        const pattern = template
          .split(/(\{[^}]+\})/)
          .map((part) =>
            part === "{resourceId}"
              ? ".+"
              : part.startsWith("{")
                ? "[^/]+"
                : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          )
          .join("");
        const pageable = op["x-ms-pageable"];
        const nextLinkName =
          isObject(pageable) && typeof pageable["nextLinkName"] === "string"
            ? pageable["nextLinkName"]
            : undefined;
        this.operations.push({
          method: method.toUpperCase(),
          regex: new RegExp(`^${pattern}$`, "i"),
          catchAll: template.startsWith("/{"),
          responses: isObject(op["responses"]) ? op["responses"] : {},
          nextLinkName,
        });
      }
    }
  }

  /**
   * The body pruned to what the contract requires of the operation's answer with `status`; the
   * body itself when the contract has no schema for it.
   */
  prune(method: string, url: URL, status: number, body: unknown): unknown {
    if (body === undefined) return body;
    const op = this.operations
      .filter((o) => o.method === method.toUpperCase() && o.regex.test(url.pathname))
      .sort((a, b) => Number(a.catchAll) - Number(b.catchAll))[0];
    if (!op) return body;
    const response = op.responses[String(status)] ?? op.responses["default"];
    const schema = isObject(response) ? response["schema"] : undefined;
    if (!schema) return body;
    const keep = op.nextLinkName ? new Set([op.nextLinkName]) : new Set<string>();
    return this.walk(schema, body as Json, keep) ?? {};
  }

  private resolve(schema: Json): { def: JsonObject; name: string | undefined } {
    let current: Json = schema;
    let name: string | undefined;
    for (let depth = 0; isObject(current) && current["$ref"] !== undefined && depth < 20; depth++) {
      name = definitionName(current["$ref"]);
      current = (name && this.definitions[name]) || {};
    }
    return { def: isObject(current) ? current : {}, name };
  }

  /** Properties and required names of a schema, its `allOf` chain included. */
  private shapeOf(schema: Json, value: JsonObject, seen = new Set<string>()): ObjectShape {
    const { def, name } = this.resolve(schema);
    const shape: ObjectShape = {
      properties: new Map(),
      required: new Set(),
      additional: def["additionalProperties"],
    };
    if (name) {
      // A discriminated base answers as the subtype its value names (whose chain leads back here).
      const discriminator = def["discriminator"];
      const subtype =
        typeof discriminator === "string" && typeof value[discriminator] === "string"
          ? this.subtypes.get(name)?.get(value[discriminator] as string)
          : undefined;
      if (subtype && subtype !== name && !seen.has(subtype)) {
        return this.shapeOf({ $ref: `#/definitions/${subtype}` }, value, seen);
      }
      if (seen.has(name)) return shape;
      seen.add(name);
      for (const key of resourceManagerContract[name] ?? []) shape.required.add(key);
    }
    const allOf = def["allOf"];
    for (const parent of Array.isArray(allOf) ? allOf : []) {
      const inherited = this.shapeOf(parent, value, seen);
      for (const [key, sub] of inherited.properties) shape.properties.set(key, sub);
      for (const key of inherited.required) shape.required.add(key);
    }
    if (isObject(def["properties"])) {
      for (const [key, sub] of Object.entries(def["properties"])) shape.properties.set(key, sub);
    }
    if (Array.isArray(def["required"])) {
      for (const key of def["required"]) if (typeof key === "string") shape.required.add(key);
    }
    return shape;
  }

  /** The pruned value, or `undefined` when nothing required is left of it. */
  private walk(schema: Json, value: Json, keep = new Set<string>()): Json | undefined {
    if (Array.isArray(value)) {
      const { def } = this.resolve(schema);
      const items = def["items"] ?? {};
      return value.map((item) => this.walk(items, item) ?? (isObject(item) ? {} : item));
    }
    if (!isObject(value)) return value;
    const shape = this.shapeOf(schema, value);
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      const sub = shape.properties.get(key);
      const required = shape.required.has(key) || keep.has(key);
      if (sub === undefined) {
        // A map's entries are never required; a name the contract does not know is dropped.
        if (required) out[key] = child;
        continue;
      }
      const pruned = this.walk(sub, child);
      if (required) {
        // Required, though nothing required is left inside it: an empty object.
        out[key] = pruned ?? (isObject(child) ? {} : child);
      } else if (pruned === undefined) {
        continue;
      } else if (Array.isArray(pruned) ? pruned.some(holdsSomething) : holdsSomething(pruned)) {
        // An optional container kept for what it must hold when present.
        if (isObject(pruned) || Array.isArray(pruned)) out[key] = pruned;
      }
    }
    return Object.keys(out).length === 0 && shape.required.size === 0 ? undefined : out;
  }
}

function holdsSomething(value: Json): boolean {
  if (Array.isArray(value)) return value.some(holdsSomething);
  return isObject(value) && Object.keys(value).length > 0;
}
