/**
 * Validates requests and responses against the Data Protection OpenAPI (Swagger 2.0) document
 * with a JSON Schema validator, so that the client and the fake are both held to the contract.
 *
 * @remarks The document is used as data. Three adaptations make it checkable:
 * - `$ref`s into the ARM common types (not shipped with the document) point at small local
 *   copies of `ProxyResource`, `TrackedResource`, `ErrorAdditionalInfo`, ...;
 * - polymorphism (`discriminator` + `x-ms-discriminator-value`) becomes a dispatch on the
 *   discriminator: a `BackupPolicy` is validated as `BackupPolicy`, not as its base only, and
 *   unknown discriminator values fail;
 * - every object that nothing inherits from rejects properties the contract does not name
 *   (`unevaluatedProperties: false`), so a misspelt field fails instead of passing unseen.
 * The service writes `date-time` values without an offset (`0001-01-01T00:00:00` in running
 * operations), so `date-time` accepts RFC 3339 with an optional offset.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2019, type ValidateFunction } from "ajv/dist/2019.js";
import addFormatsModule from "ajv-formats";

/** The contract, copied from the service's specification repository. */
export const OPENAPI_PATH = fileURLToPath(
  new URL("../../fixtures/azure/dataprotection-2026-06-01.openapi.json", import.meta.url),
);

/** A JSON value, as the document is read. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** How the document's `$ref`s into the ARM common types begin. */
export const COMMON_PREFIX = "../../../../../../common-types/resource-management/v5/";

/**
 * Local stand-ins for the ARM common types the document refers to, named `__common_<Type>`.
 * Shared with the required-only pruner; {@link buildDefinitions} works on a copy.
 */
export const commonDefinitions: Readonly<Record<string, JsonObject>> = {
  __common_systemData: {
    type: "object",
    properties: {
      createdBy: { type: "string" },
      createdByType: { type: "string" },
      createdAt: { type: "string", format: "date-time" },
      lastModifiedBy: { type: "string" },
      lastModifiedByType: { type: "string" },
      lastModifiedAt: { type: "string", format: "date-time" },
    },
  },
  __common_Resource: {
    type: "object",
    properties: {
      id: { type: "string" },
      name: { type: "string" },
      type: { type: "string" },
      systemData: { $ref: "#/definitions/__common_systemData" },
    },
  },
  __common_ProxyResource: { type: "object", allOf: [{ $ref: "#/definitions/__common_Resource" }] },
  __common_TrackedResource: {
    type: "object",
    allOf: [{ $ref: "#/definitions/__common_Resource" }],
    properties: {
      tags: { type: "object", additionalProperties: { type: "string" } },
      location: { type: "string" },
    },
    required: ["location"],
  },
  __common_ErrorAdditionalInfo: {
    type: "object",
    properties: { type: { type: "string" }, info: { type: "object" } },
  },
  __common_ErrorDetail: {
    type: "object",
    properties: {
      code: { type: "string" },
      message: { type: "string" },
      target: { type: "string" },
      details: { type: "array", items: { $ref: "#/definitions/__common_ErrorDetail" } },
      additionalInfo: {
        type: "array",
        items: { $ref: "#/definitions/__common_ErrorAdditionalInfo" },
      },
    },
  },
  __common_ErrorResponse: {
    type: "object",
    properties: { error: { $ref: "#/definitions/__common_ErrorDetail" } },
  },
  __common_OperationListResult: { type: "object" },
  __common_UserAssignedIdentity: {
    type: "object",
    properties: { principalId: { type: "string" }, clientId: { type: "string" } },
  },
};

/** The ARM common parameters, resolved. */
const commonParameters: Record<string, JsonObject> = {
  ApiVersionParameter: {
    name: "api-version",
    in: "query",
    required: true,
    type: "string",
    minLength: 1,
  },
  SubscriptionIdParameter: {
    name: "subscriptionId",
    in: "path",
    required: true,
    type: "string",
    format: "uuid",
  },
  ResourceGroupNameParameter: {
    name: "resourceGroupName",
    in: "path",
    required: true,
    type: "string",
    minLength: 1,
    maxLength: 90,
    pattern: "^[-\\w\\._\\(\\)]+$",
  },
  LocationParameter: { name: "location", in: "path", required: true, type: "string", minLength: 1 },
};

/** Whether a JSON value is an object (not an array, not null). */
export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Rewrites common refs and drops Swagger-only keywords the validator does not know. */
function adapt(node: Json): Json {
  if (Array.isArray(node)) return node.map(adapt);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (
      key.startsWith("x-ms-") ||
      key === "discriminator" ||
      key === "example" ||
      key === "externalDocs"
    )
      continue;
    if (key === "$ref" && typeof value === "string" && value.startsWith(COMMON_PREFIX)) {
      out[key] = `#/definitions/__common_${value.split("/").pop() ?? ""}`;
      continue;
    }
    // A property named like a keyword (e.g. `properties.discriminator`) is data, not a keyword.
    out[key] =
      key === "properties" && isObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, adapt(v)]))
        : adapt(value);
  }
  return out;
}

function refName(ref: Json | undefined): string | undefined {
  return typeof ref === "string" && ref.startsWith("#/definitions/") ? ref.slice(14) : undefined;
}

function parentsOf(def: JsonObject): string[] {
  const allOf = def["allOf"];
  if (!Array.isArray(allOf)) return [];
  return allOf.flatMap((item) =>
    isObject(item) ? [refName(item["$ref"])].filter((n): n is string => !!n) : [],
  );
}

/** Adds `unevaluatedProperties: false` to object schemas nested inline in `node`. */
function closeInline(node: Json): void {
  if (Array.isArray(node)) return node.forEach(closeInline);
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "properties" && isObject(value)) {
      for (const prop of Object.values(value)) {
        if (
          isObject(prop) &&
          isObject(prop["properties"]) &&
          prop["additionalProperties"] === undefined
        ) {
          prop["unevaluatedProperties"] = false;
        }
        closeInline(prop);
      }
    } else if (key === "items" || key === "additionalProperties") {
      if (
        isObject(value) &&
        isObject(value["properties"]) &&
        value["additionalProperties"] === undefined
      ) {
        value["unevaluatedProperties"] = false;
      }
      closeInline(value);
    }
  }
}

/** Builds the validator's definitions from the document's. */
export function buildDefinitions(spec: JsonObject): Record<string, JsonObject> {
  const raw = spec["definitions"];
  if (!isObject(raw)) throw new Error("The OpenAPI document has no definitions");
  const discriminators = new Map<string, string>();
  for (const [name, def] of Object.entries(raw)) {
    if (isObject(def) && typeof def["discriminator"] === "string")
      discriminators.set(name, def["discriminator"]);
  }
  // A copy: the definitions below are closed in place, and the common ones are shared.
  const defs: Record<string, JsonObject> = structuredClone(commonDefinitions);
  for (const [name, def] of Object.entries(raw)) defs[name] = adapt(def) as JsonObject;
  for (const def of Object.values(raw)) closeInline(def);
  for (const def of Object.values(defs)) closeInline(def);

  const parents = new Map(Object.entries(defs).map(([name, def]) => [name, parentsOf(def)]));
  const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
    for (const parent of parents.get(name) ?? []) {
      if (!seen.has(parent)) {
        seen.add(parent);
        ancestors(parent, seen);
      }
    }
    return seen;
  };
  const inherited = new Set([...parents.values()].flat());

  for (const [base, property] of discriminators) {
    const baseDef = defs[base] as JsonObject;
    const descendants = Object.keys(raw).filter((name) => ancestors(name).has(base));
    const valueOf = (name: string): string => {
      const value = (raw[name] as JsonObject)["x-ms-discriminator-value"];
      return typeof value === "string" ? value : name;
    };
    defs[`${base}__base`] = baseDef;
    for (const name of descendants) {
      const def = defs[name] as JsonObject;
      const allOf = def["allOf"];
      if (Array.isArray(allOf)) {
        def["allOf"] = allOf.map((item) =>
          isObject(item) && refName(item["$ref"]) === base
            ? { $ref: `#/definitions/${base}__base` }
            : item,
        );
      }
    }
    defs[base] = {
      type: "object",
      allOf: [
        { $ref: `#/definitions/${base}__base` },
        { properties: { [property]: { enum: [base, ...descendants.map(valueOf)] } } },
        ...descendants.map((name) => ({
          if: { properties: { [property]: { const: valueOf(name) } }, required: [property] },
          then: { $ref: `#/definitions/${name}` },
        })),
      ],
      unevaluatedProperties: false,
    };
  }
  for (const [name, def] of Object.entries(defs)) {
    const isBase = inherited.has(name) || name.endsWith("__base") || discriminators.has(name);
    if (
      !isBase &&
      def["additionalProperties"] === undefined &&
      (isObject(def["properties"]) || Array.isArray(def["allOf"]))
    ) {
      def["unevaluatedProperties"] = false;
    }
  }
  return defs;
}

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  readonly validate?: ValidateFunction;
}

interface Operation {
  readonly operationId: string;
  readonly method: string;
  readonly template: string;
  readonly regex: RegExp;
  readonly pathParams: readonly string[];
  readonly catchAll: boolean;
  readonly parameters: readonly Parameter[];
  readonly body?: { readonly required: boolean; readonly validate: ValidateFunction };
  readonly responses: ReadonlyMap<string, ValidateFunction | null>;
}

/** The operation a request matched, for the fake's routing. */
export interface MatchedOperation {
  readonly operationId: string;
  readonly pathParams: Readonly<Record<string, string>>;
}

/** One contract violation. */
export interface ContractViolation {
  readonly direction: "request" | "response";
  readonly operation: string;
  readonly message: string;
}

function lax(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i.test(value);
}

/** A validator over the contract's operations. */
export class OpenApiValidator {
  readonly apiVersion: string;
  private readonly operations: Operation[] = [];

  constructor(spec: JsonObject = JSON.parse(readFileSync(OPENAPI_PATH, "utf8")) as JsonObject) {
    const info = spec["info"];
    this.apiVersion = isObject(info) && typeof info["version"] === "string" ? info["version"] : "";
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: true });
    const addFormats = addFormatsModule as unknown as (a: Ajv2019) => void;
    addFormats(ajv);
    ajv.addFormat("date-time", { type: "string", validate: lax });
    for (const format of ["int32", "int64", "double", "arm-id"]) ajv.addFormat(format, true);
    ajv.addSchema({
      $id: "dataprotection",
      definitions: buildDefinitions(spec) as unknown as Json,
    } as object);
    const compile = (schema: Json): ValidateFunction => {
      const adapted = adapt(schema);
      const ref = isObject(adapted) ? refName(adapted["$ref"]) : undefined;
      return ref
        ? (ajv.getSchema(`dataprotection#/definitions/${ref}`) as ValidateFunction)
        : ajv.compile({ ...(adapted as JsonObject), definitions: undefined } as object);
    };

    const paths = spec["paths"];
    if (!isObject(paths)) throw new Error("The OpenAPI document has no paths");
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      for (const [method, op] of Object.entries(item)) {
        if (!isObject(op) || method === "parameters") continue;
        const parameters: Parameter[] = [];
        let body: Operation["body"];
        for (const p of Array.isArray(op["parameters"]) ? op["parameters"] : []) {
          if (!isObject(p)) continue;
          const ref = typeof p["$ref"] === "string" ? p["$ref"].split("/").pop() : undefined;
          const param = ref ? commonParameters[ref] : p;
          if (!param) throw new Error(`Unknown parameter ${String(p["$ref"])}`);
          if (param["in"] === "body") {
            body = {
              required: param["required"] === true,
              validate: compile(param["schema"] ?? {}),
            };
            continue;
          }
          const { name, in: where, required, description: _d, schema: _s, ...constraints } = param;
          const schema = adapt(constraints) as JsonObject;
          parameters.push({
            name: String(name),
            in: String(where),
            required: required === true,
            validate: ajv.compile(schema as object),
          });
        }
        const responses = new Map<string, ValidateFunction | null>();
        const declared = op["responses"];
        for (const [status, response] of Object.entries(isObject(declared) ? declared : {})) {
          const schema = isObject(response) ? response["schema"] : undefined;
          responses.set(status, schema ? compile(schema) : null);
        }
        const pathParams: string[] = [];
        const pattern = template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            if (!part.startsWith("{")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            pathParams.push(part.slice(1, -1));
            return part === "{resourceId}" ? "(.+)" : "([^/]+)";
          })
          .join("");
        this.operations.push({
          operationId: String(op["operationId"]),
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${pattern}$`, "i"),
          pathParams,
          catchAll: template.startsWith("/{"),
          parameters,
          ...(body ? { body } : {}),
          responses,
        });
      }
    }
  }

  private find(
    method: string,
    pathname: string,
  ): { op: Operation; params: Record<string, string> } | undefined {
    const candidates = this.operations
      .filter((op) => op.method === method.toUpperCase() && op.regex.test(pathname))
      .sort((a, b) => Number(a.catchAll) - Number(b.catchAll));
    const op = candidates[0];
    if (!op) return undefined;
    const match = op.regex.exec(pathname) as RegExpExecArray;
    const params = Object.fromEntries(
      op.pathParams.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? "")]),
    );
    return { op, params };
  }

  /** The operation a request addresses, or `undefined` when the contract has none. */
  match(method: string, url: URL): MatchedOperation | undefined {
    const found = this.find(method, url.pathname);
    return found ? { operationId: found.op.operationId, pathParams: found.params } : undefined;
  }

  /** Problems with a request; empty when it keeps the contract. */
  validateRequest(method: string, url: URL, body: unknown): ContractViolation[] {
    const found = this.find(method, url.pathname);
    if (!found)
      return [
        {
          direction: "request",
          operation: `${method} ${url.pathname}`,
          message: "no such operation in the contract",
        },
      ];
    const { op, params } = found;
    const problems: string[] = [];
    for (const param of op.parameters) {
      const value =
        param.in === "path"
          ? params[param.name]
          : param.in === "query"
            ? (url.searchParams.get(param.name) ?? undefined)
            : undefined;
      if (param.in === "header") continue;
      if (value === undefined) {
        if (param.required) problems.push(`missing ${param.in} parameter '${param.name}'`);
        continue;
      }
      if (param.validate && !param.validate(value)) {
        problems.push(
          `${param.in} parameter '${param.name}'='${value}': ${JSON.stringify(param.validate.errors)}`,
        );
      }
    }
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion !== this.apiVersion)
      problems.push(`api-version '${apiVersion}' is not '${this.apiVersion}'`);
    if (op.body) {
      if (body === undefined) {
        if (op.body.required) problems.push("missing request body");
      } else if (!op.body.validate(body)) {
        problems.push(`body: ${JSON.stringify(op.body.validate.errors)}`);
      }
    } else if (body !== undefined) {
      problems.push("the operation takes no body");
    }
    return problems.map((message) => ({
      direction: "request",
      operation: op.operationId,
      message,
    }));
  }

  /** Problems with a response; empty when it keeps the contract. */
  validateResponse(method: string, url: URL, status: number, body: unknown): ContractViolation[] {
    const found = this.find(method, url.pathname);
    if (!found)
      return [
        {
          direction: "response",
          operation: `${method} ${url.pathname}`,
          message: "no such operation in the contract",
        },
      ];
    const { op } = found;
    const declared = op.responses.has(String(status));
    if (!declared && status < 400) {
      return [
        {
          direction: "response",
          operation: op.operationId,
          message: `status ${status} is not declared (${[...op.responses.keys()].join(", ")})`,
        },
      ];
    }
    const validate = op.responses.get(declared ? String(status) : "default");
    if (validate === undefined) {
      return [
        {
          direction: "response",
          operation: op.operationId,
          message: `status ${status} is not declared`,
        },
      ];
    }
    if (validate === null) {
      return body === undefined
        ? []
        : [
            {
              direction: "response",
              operation: op.operationId,
              message: `status ${status} has no body in the contract`,
            },
          ];
    }
    if (body === undefined)
      return [
        {
          direction: "response",
          operation: op.operationId,
          message: `status ${status} needs a body`,
        },
      ];
    return validate(body)
      ? []
      : [
          {
            direction: "response",
            operation: op.operationId,
            message: `status ${status}: ${JSON.stringify(validate.errors)}`,
          },
        ];
  }
}
