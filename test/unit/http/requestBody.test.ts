import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import type { AppError } from "../../../src/domain/errors.js";
import { readJson } from "../../../src/http/requestBody.js";

function post(contentType: string, body = '{"a":1}'): HttpRequest {
  return new HttpRequest({
    method: "POST",
    url: "http://localhost/api/policies/validate",
    headers: { "content-type": contentType },
    body: { string: body },
  });
}

async function statusOf(read: Promise<unknown>): Promise<number | "read"> {
  try {
    await read;
    return "read";
  } catch (error) {
    return (error as AppError).httpStatus;
  }
}

describe("readJson", () => {
  it("reads JSON sent as application/json, with parameters, or as a +json type", async () => {
    expect(await readJson(post("application/json"))).toEqual({ a: 1 });
    expect(await readJson(post("Application/JSON; charset=utf-8"))).toEqual({ a: 1 });
    expect(await readJson(post("application/merge-patch+json"))).toEqual({ a: 1 });
  });

  it("refuses with 415 a body of another type, even one whose name starts with json", async () => {
    const types = ["text/plain", "application/x-www-form-urlencoded", "application/json-seq"];

    const statuses = await Promise.all(types.map((type) => statusOf(readJson(post(type)))));

    expect(statuses).toEqual([415, 415, 415]);
  });

  it("refuses with 415 a body sent without a content-type, as a JSON-bound endpoint of the Functions host does", async () => {
    const request = new HttpRequest({
      method: "POST",
      url: "http://localhost/api/policies/validate",
      // Bytes, not a string: a string body would be given text/plain.
      body: { bytes: new TextEncoder().encode('{"a":1}') },
    });

    const error = await readJson(request).then(
      () => undefined,
      (e: unknown) => e as AppError,
    );

    expect(error?.httpStatus).toBe(415);
    expect(error?.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(error?.message).toContain("no content-type");
  });

  it("answers an empty body without a content-type as a missing body, not as a media type", async () => {
    const request = new HttpRequest({
      method: "POST",
      url: "http://localhost/api/policies/validate",
    });

    const error = await readJson(request).then(
      () => undefined,
      (e: unknown) => e as AppError,
    );

    expect(error?.httpStatus).toBe(400);
    expect(error?.code).toBe("BODY_MISSING");
  });

  it("refuses with 415 the form type curl -d sends, whatever the body holds", async () => {
    expect(await statusOf(readJson(post("application/x-www-form-urlencoded", '{"a":1}')))).toBe(
      415,
    );
  });
});
