/** Reading JSON request bodies: one parse, schema-checked, with the JSON paths at fault on failure. */
import type { HttpRequest } from "@azure/functions";
import type { z } from "zod";
import { AppError, InvalidInputError, type InputProblem } from "../domain/errors.js";

function toPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    "$",
  );
}

/**
 * The largest JSON body the API reads: 1 MiB, far above any policy or request it takes. The
 * local runtime refuses larger bodies while reading them; in Azure the Functions host has
 * buffered the body already (up to its own 100 MB limit), and this keeps it from being parsed.
 */
export const maxJsonBodyBytes = 1_048_576;

function tooLarge(): AppError {
  return new AppError(
    "REQUEST_BODY_TOO_LARGE",
    `The request body is larger than the limit of ${maxJsonBodyBytes} bytes`,
    { httpStatus: 413 },
  );
}

function unsupportedMediaType(type: string | undefined): AppError {
  return new AppError(
    "UNSUPPORTED_MEDIA_TYPE",
    type === undefined
      ? "Send the body as application/json: the request has no content-type"
      : `Send the body as application/json, not ${type}`,
    { httpStatus: 415 },
  );
}

/**
 * Reads the body as JSON.
 *
 * @remarks A body must say it is JSON: `application/json` or a `+json` type. A body without a
 * content-type is refused as ASP.NET Core (and so the Functions host) refuses one for a
 * JSON-bound parameter: a client that means JSON says so (`curl -d` alone sends
 * `application/x-www-form-urlencoded`, refused too), and a cross-site page can send a body with
 * no content-type, or a form or text type, without a CORS preflight, but never a JSON type. An
 * empty body without one is the 400 `BODY_MISSING` it would be with one.
 *
 * @throws AppError 415 for a body that is not JSON by its content type (or has none), 413 for
 * one beyond {@link maxJsonBodyBytes}; InvalidInputError 400 for an empty or malformed body.
 */
export async function readJson(request: HttpRequest): Promise<unknown> {
  const type = request.headers.get("content-type") ?? undefined;
  // `application/json` or a `+json` type, exactly: `application/json-seq` is another format.
  if (type !== undefined && !/^application\/([a-z0-9.-]*\+)?json\s*(;|$)/i.test(type.trim()))
    throw unsupportedMediaType(type);
  if (Number(request.headers.get("content-length") ?? 0) > maxJsonBodyBytes) throw tooLarge();
  const text = await request.text();
  if (Buffer.byteLength(text) > maxJsonBodyBytes) throw tooLarge();
  if (text.trim() === "") {
    throw new InvalidInputError("BODY_MISSING", "The request needs a JSON body", [
      { path: "$", code: "BODY_MISSING", message: "the body is empty" },
    ]);
  }
  if (type === undefined) throw unsupportedMediaType(undefined);
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError("BODY_NOT_JSON", `The body is not valid JSON: ${reason}`, [
      { path: "$", code: "BODY_NOT_JSON", message: reason },
    ]);
  }
}

/**
 * Reads the body and checks it against a schema.
 *
 * @throws InvalidInputError `BODY_INVALID` listing every field at fault by JSON path.
 */
export async function readBody<T extends z.ZodType>(
  request: HttpRequest,
  schema: T,
): Promise<z.infer<T>> {
  const json = await readJson(request);
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const problems: InputProblem[] = result.error.issues.map((issue) => ({
    path: toPath(issue.path),
    code: "BODY_INVALID",
    message: issue.message,
  }));
  throw new InvalidInputError(
    "BODY_INVALID",
    `The body is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join("; ")}`,
    problems,
  );
}
