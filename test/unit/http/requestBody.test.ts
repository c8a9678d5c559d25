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
});
