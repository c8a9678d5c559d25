import { randomBytes } from "node:crypto";
import { AzureKeyCredential, generateSharedAccessSignature } from "@azure/eventgrid";
import { describe, expect, test } from "vitest";
import { isValidSasToken, retryDelayMs } from "../../../src/eventgrid/topics.js";
import { allowedOrigin, validationCode } from "../../../src/eventgrid/webhook.js";

describe("the Event Grid handshakes", () => {
  test("the validation code comes from an Event Grid array or a CloudEvent's double-encoded data", () => {
    expect(validationCode([{ data: { validationCode: "eg" } }])).toBe("eg");
    expect(validationCode({ data: JSON.stringify({ validationCode: "ce" }) })).toBe("ce");
    expect(validationCode({ data: "not json" })).toBeUndefined();
    expect(validationCode([])).toBeUndefined();
  });

  test("the allowed origin echoes Event Grid's own origins only", () => {
    expect(allowedOrigin("eventgrid.azure.us")).toBe("eventgrid.azure.us");
    expect(allowedOrigin("EventGrid.Azure.CN")).toBe("eventgrid.azure.cn");
    expect(allowedOrigin("example.com")).toBe("eventgrid.azure.net");
    expect(allowedOrigin(undefined)).toBe("eventgrid.azure.net");
  });
});

describe("Event Grid's retry schedule", () => {
  test("waits 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, then 12 h", () => {
    const minutes = Array.from({ length: 11 }, (_, index) => retryDelayMs(index + 1) / 60_000);

    expect(minutes).toEqual([1 / 6, 0.5, 1, 5, 10, 30, 60, 180, 360, 720, 720]);
  });
});

describe("shared access signatures", () => {
  const key = randomBytes(32).toString("base64");
  const endpoint = "http://127.0.0.1:7071/runtime/topics/t";

  test("a token made by the SDK from the key is valid until it expires", async () => {
    const expiresOn = new Date(Date.UTC(2030, 0, 1, 13, 0, 0));
    const token = await generateSharedAccessSignature(
      endpoint,
      new AzureKeyCredential(key),
      expiresOn,
    );

    expect(isValidSasToken(token, key, new Date(Date.UTC(2030, 0, 1, 12, 59, 59)))).toBe(true);
    expect(isValidSasToken(token, key, new Date(Date.UTC(2030, 0, 1, 13, 0, 1)))).toBe(false);
  });

  test("a token made from another key or tampered with is refused", async () => {
    const expiresOn = new Date(Date.UTC(2030, 0, 1));
    const other = await generateSharedAccessSignature(
      endpoint,
      new AzureKeyCredential(randomBytes(32).toString("base64")),
      expiresOn,
    );
    const token = await generateSharedAccessSignature(
      endpoint,
      new AzureKeyCredential(key),
      expiresOn,
    );
    const now = new Date(Date.UTC(2029, 0, 1));

    expect(isValidSasToken(other, key, now)).toBe(false);
    expect(isValidSasToken(token.replace("2030", "2031"), key, now)).toBe(false);
    expect(isValidSasToken("garbage", key, now)).toBe(false);
  });
});
