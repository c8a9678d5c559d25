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
 * Reads the body as JSON.
 *
 * @throws AppError 415 for a body that is not JSON by its content type; InvalidInputError 400
 * for malformed JSON.
 */
export async function readJson(request: HttpRequest): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "application/json";
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Send the body as application/json, not ${type}`, {
      httpStatus: 415,
    });
  }
  const text = await request.text();
  if (text.trim() === "") {
    throw new InvalidInputError("BODY_MISSING", "The request needs a JSON body", [
      { path: "$", code: "BODY_MISSING", message: "the body is empty" },
    ]);
  }
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
