import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/domain/errors.js";
import { problemResponse } from "../../../src/http/problemDetails.js";
import { armErrorFromResponse } from "../../../src/providers/azure/armErrors.js";

function bodyOf(error: unknown): Record<string, unknown> {
  return JSON.parse(String(problemResponse(error).body)) as Record<string, unknown>;
}

describe("problemResponse", () => {
  it("states a failure Azure answered with pgprotect's code, the service's code beside it", () => {
    const error = armErrorFromResponse(
      {
        status: "400",
        headers: {},
        body: { error: { code: "UserErrorDppDatasourceAlreadyProtected", message: "protected" } },
      },
      "Validating",
    );

    const body = bodyOf(error);

    expect(body).toMatchObject({
      type: "urn:pgprotect:problem:DATASOURCE_ALREADY_PROTECTED",
      status: 409,
      code: "DATASOURCE_ALREADY_PROTECTED",
      serviceCode: "UserErrorDppDatasourceAlreadyProtected",
    });
  });

  it("keeps a service code pgprotect does not know, under the generic AZURE_REQUEST_FAILED", () => {
    const error = armErrorFromResponse(
      { status: "400", headers: {}, body: { error: { code: "UserErrorBrandNew", message: "no" } } },
      "Validating",
    );

    expect(bodyOf(error)).toMatchObject({
      code: "AZURE_REQUEST_FAILED",
      serviceCode: "UserErrorBrandNew",
    });
  });

  it("has no serviceCode member for a failure of pgprotect's own", () => {
    const error = new InvalidInputError("BODY_INVALID", "The body is not valid", [
      { path: "$.policyName", code: "POLICY_NAME_INVALID", message: "too long" },
    ]);

    const body = bodyOf(error);

    expect(body["code"]).toBe("BODY_INVALID");
    expect(body).not.toHaveProperty("serviceCode");
    expect(body["errors"]).toEqual([
      { path: "$.policyName", code: "POLICY_NAME_INVALID", message: "too long" },
    ]);
  });
});
