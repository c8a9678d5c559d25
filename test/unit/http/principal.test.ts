import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import type { AppError } from "../../../src/domain/errors.js";
import { authorize, readClientPrincipal } from "../../../src/http/principal.js";

function requestAs(principal?: object): HttpRequest {
  const headers: Record<string, string> = {};
  if (principal)
    headers["x-ms-client-principal"] = Buffer.from(JSON.stringify(principal)).toString("base64");
  return new HttpRequest({ method: "GET", url: "http://localhost/api/jobs", headers });
}

const easyAuth = (roles: string[]) => ({
  auth_typ: "aad",
  name_typ: "name",
  role_typ: "roles",
  claims: [{ typ: "name", val: "Ada" }, ...roles.map((val) => ({ typ: "roles", val }))],
});

function statusOf(act: () => unknown): number | undefined {
  try {
    act();
    return undefined;
  } catch (error) {
    return (error as AppError).httpStatus;
  }
}

describe("authorize", () => {
  it("lets every caller with a function key through when App Service authentication is off", () => {
    expect(statusOf(() => authorize(requestAs(), "Backup.Operator", false))).toBeUndefined();
  });

  it("lets a Reader read but not operate", () => {
    const reader = requestAs(easyAuth(["Backup.Reader"]));

    expect(authorize(reader, "Backup.Reader", true)).toBe("Ada");
    expect(statusOf(() => authorize(reader, "Backup.Operator", true))).toBe(403);
  });

  it("lets an Operator read and operate", () => {
    const operator = requestAs(easyAuth(["Backup.Operator"]));

    expect(statusOf(() => authorize(operator, "Backup.Reader", true))).toBeUndefined();
    expect(statusOf(() => authorize(operator, "Backup.Operator", true))).toBeUndefined();
  });

  it("answers 401 when authentication is on and no principal came with the request", () => {
    expect(statusOf(() => authorize(requestAs(), "Backup.Reader", true))).toBe(401);
  });

  it("reads Static Web Apps style principals too", () => {
    expect(
      readClientPrincipal(requestAs({ userDetails: "bob", userRoles: ["Backup.Reader"] })),
    ).toEqual({ name: "bob", roles: ["Backup.Reader"] });
  });

  it("takes roles and names only where they are text, so a malformed principal holds no odd role", () => {
    const malformed = requestAs({
      userRoles: "Backup.Operator",
      userDetails: { toString: 1 },
      claims: [
        null,
        { typ: "roles", val: { role: "Backup.Operator" } },
        { typ: "roles", val: "Backup.Reader" },
      ],
    });

    expect(readClientPrincipal(malformed)).toEqual({ roles: ["Backup.Reader"] });
    expect(statusOf(() => authorize(malformed, "Backup.Operator", true))).toBe(403);
  });

  it("answers 401 for a principal that is not a JSON object", () => {
    const notAnObject = new HttpRequest({
      method: "GET",
      url: "http://localhost/api/jobs",
      headers: { "x-ms-client-principal": Buffer.from("null").toString("base64") },
    });

    expect(statusOf(() => authorize(notAnObject, "Backup.Reader", true))).toBe(401);
  });
});
