import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../../src/domain/errors.js";
import {
  ArmError,
  armErrorFromOperation,
  armErrorFromResponse,
  armErrorFromThrown,
  parseRetryAfterMs,
} from "../../../../src/providers/azure/armErrors.js";

const facing = (code: string, recommendedAction: string[], detailed?: string) => ({
  code,
  message: `${code} happened`,
  additionalInfo: [
    {
      type: "UserFacingError",
      info: {
        code,
        message: `${code}: the service's own words`,
        recommendedAction,
        isRetryable: false,
        isUserError: true,
        innerError: {
          code,
          additionalInfo: detailed ? { DetailedNonLocalisedMessage: detailed } : {},
        },
      },
    },
  ],
});

describe("armErrorFromResponse", () => {
  it.each([
    [400, "UserErrorInvalidPolicy", "AZURE_REQUEST_FAILED", 400],
    [403, "AuthorizationFailed", "AUTHORIZATION_FAILED", 403],
    [409, "ConflictingOperation", "AZURE_REQUEST_FAILED", 409],
  ])(
    "keeps HTTP %i as a non-retryable error with the service's code %s beside pgprotect's %s",
    (status, serviceCode, code, httpStatus) => {
      const error = armErrorFromResponse(
        {
          status: String(status),
          headers: {},
          body: { error: { code: serviceCode, message: "no" } },
        },
        "Doing it",
      );

      expect(error).toBeInstanceOf(ArmError);
      expect(error).toMatchObject({ code, serviceCode, httpStatus, retryable: false });
    },
  );

  it("turns 404 into a NotFoundError with pgprotect's code and the service's beside it", () => {
    const error = armErrorFromResponse(
      {
        status: "404",
        headers: {},
        body: { error: { code: "ResourceNotFound", message: "gone" } },
      },
      "Reading",
    );

    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      code: "RESOURCE_NOT_FOUND",
      serviceCode: "ResourceNotFound",
      httpStatus: 404,
      retryable: false,
    });
    expect(error.recommendedAction).toMatch(/resource id/);
  });

  it("marks 429 retryable and keeps the Retry-After the service asked for", () => {
    const error = armErrorFromResponse(
      {
        status: "429",
        headers: { "retry-after": "17" },
        body: { error: { code: "TooManyRequests", message: "slow down" } },
      },
      "Listing",
    );

    expect(error).toMatchObject({
      code: "AZURE_THROTTLED",
      serviceCode: "TooManyRequests",
      httpStatus: 429,
      retryable: true,
      retryAfterMs: 17_000,
    });
  });

  it("marks 5xx retryable and reports it as a gateway failure", () => {
    const error = armErrorFromResponse(
      { status: "503", headers: {}, body: undefined },
      "Creating the backup instance",
    );

    expect(error).toMatchObject({ code: "AZURE_REQUEST_FAILED", httpStatus: 502, retryable: true });
    expect(error.serviceCode).toBeUndefined();
    expect(error.message).toContain("Creating the backup instance");
  });

  it("prefers the UserFacingError's message and recommended action over the envelope's", () => {
    const body = {
      error: facing("UserErrorDppDatasourceAlreadyProtected", [
        "Delete the backup instance pg-1-pg-1-abc and retry.",
      ]),
    };

    const error = armErrorFromResponse({ status: "400", headers: {}, body }, "Validating");

    expect(error).toMatchObject({
      code: "DATASOURCE_ALREADY_PROTECTED",
      serviceCode: "UserErrorDppDatasourceAlreadyProtected",
      httpStatus: 409,
      retryable: false,
    });
    expect(error.message).toBe("UserErrorDppDatasourceAlreadyProtected: the service's own words");
    expect(error.recommendedAction).toBe("Delete the backup instance pg-1-pg-1-abc and retry.");
  });

  it("falls back to pgprotect's recommended action for known codes the service leaves bare", () => {
    const error = armErrorFromResponse(
      {
        status: "400",
        headers: {},
        body: { error: { code: "UserErrorMissingRequiredPermissions", message: "no" } },
      },
      "Validating",
    );

    expect(error.recommendedAction).toMatch(/Long Term Retention Backup Role.*Reader/);
  });
});

describe("armErrorFromOperation", () => {
  it("classifies a missing permission as a 403 the user must fix, detail included", () => {
    const error = armErrorFromOperation(
      facing(
        "UserErrorMissingRequiredPermissions",
        ["Grant the role."],
        "no authorization to perform action 'x/read' over scope '/s'",
      ),
      "Validating",
    );

    expect(error).toMatchObject({
      code: "MISSING_REQUIRED_PERMISSIONS",
      serviceCode: "UserErrorMissingRequiredPermissions",
      httpStatus: 403,
      retryable: false,
      recommendedAction: "Grant the role.",
    });
    expect(error.message).toContain("over scope '/s'");
  });

  it("keeps the advice for the vault's identity when a validation's detail names it as the refused client", () => {
    // Arrange: the detail names the Backup vault's identity, which is not pgprotect's own.
    const serverId =
      "/subscriptions/s/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg";
    const detail = `The client 'c' with object id 'vault-identity' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '${serverId}/providers/Microsoft.Authorization' or the scope is invalid.`;

    // Act
    const error = armErrorFromOperation(
      facing("UserErrorMissingRequiredPermissions", [], detail),
      "Validating",
    );

    // Assert
    expect(error.code).toBe("MISSING_REQUIRED_PERMISSIONS");
    expect(error.recommendedAction).toMatch(
      /Backup vault's managed identity.*Long Term Retention Backup Role/,
    );
    expect(error.recommendedAction).not.toContain("pgprotect's identity");
  });

  it("treats a service-side failure as retryable unless the service says otherwise", () => {
    const transient = armErrorFromOperation(
      { code: "InternalError", message: "oops" },
      "Backing up",
    );
    const final = armErrorFromOperation(
      { ...facing("ServiceErrorX", []), code: "ServiceErrorX" },
      "Backing up",
    );

    expect(transient).toMatchObject({ httpStatus: 502, retryable: true });
    expect(final.retryable).toBe(false);
  });

  it("names the operation when the service gives no error at all", () => {
    const error = armErrorFromOperation(undefined, "Stopping protection");

    expect(error).toMatchObject({
      code: "AZURE_REQUEST_FAILED",
      message: "Stopping protection did not succeed",
    });
    expect(error.serviceCode).toBeUndefined();
  });
});

describe("armErrorFromThrown and parseRetryAfterMs", () => {
  it("makes transport failures retryable and passes AppErrors through", () => {
    const appError = new NotFoundError("RESOURCE_NOT_FOUND", "gone");

    expect(armErrorFromThrown(appError, "x")).toBe(appError);
    expect(armErrorFromThrown(new Error("ECONNRESET"), "Listing")).toMatchObject({
      code: "RESOURCE_MANAGER_UNREACHABLE",
      retryable: true,
    });
  });

  it("reads delay-seconds and HTTP dates", () => {
    const now = Date.parse("2026-11-24T06:00:00Z");

    expect(parseRetryAfterMs("10", now)).toBe(10_000);
    expect(parseRetryAfterMs("Tue, 24 Nov 2026 06:00:05 GMT", now)).toBe(5_000);
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });
});
