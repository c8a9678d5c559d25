import {
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../../src/domain/errors.js";
import {
  ArmError,
  armErrorFromThrown,
  refusedActionAdvice,
} from "../../../../src/providers/azure/armErrors.js";

const rg = "/subscriptions/5f1c3a2b-8d4e-4f60-9a7b-1c2d3e4f5a6b/resourceGroups/rg-db";
const appObjectId = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const refusedRead = `The client '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' with object id '${appObjectId}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '${rg}/providers/Microsoft.Authorization' or the scope is invalid. If access was recently granted, please refresh your credentials.`;

/**
 * The `RestError` an SDK client built on `@azure/core-client` throws for an error answer: the
 * response attached, and the service's code and message parsed into the error.
 */
function answeredError(
  status: number,
  body: { error: { code: string; message: string } } | undefined,
  headers: Record<string, string> = {},
): RestError {
  const request = createPipelineRequest({ url: `https://management.azure.com${rg}` });
  const bodyAsText = body === undefined ? "" : JSON.stringify(body);
  const response: PipelineResponse = {
    request,
    status,
    headers: createHttpHeaders(headers),
    bodyAsText,
  };
  return new RestError(body?.error.message ?? bodyAsText, {
    statusCode: status,
    request,
    response,
    ...(body ? { code: body.error.code } : {}),
  });
}

describe("armErrorFromThrown with the errors SDK clients throw", () => {
  it("keeps a 403 from Resource Manager a refusal that is not retried, naming the scope and how to grant Reader there", () => {
    // Arrange
    const thrown = answeredError(403, {
      error: { code: "AuthorizationFailed", message: refusedRead },
    });

    // Act
    const error = armErrorFromThrown(thrown, `Reading role assignments at ${rg}`);

    // Assert
    expect(error).toBeInstanceOf(ArmError);
    expect(error).toMatchObject({
      code: "AUTHORIZATION_FAILED",
      serviceCode: "AuthorizationFailed",
      httpStatus: 403,
      retryable: false,
      statusCode: 403,
      message: refusedRead,
    });
    expect(error.recommendedAction).toContain(
      `az role assignment create --assignee-object-id ${appObjectId} --assignee-principal-type ServicePrincipal --role "Reader" --scope ${rg};`,
    );
  });

  it("calls a 403 with a code pgprotect does not know a refusal too, keeping the service's code", () => {
    // Arrange
    const thrown = answeredError(403, {
      error: { code: "RequestDisallowedByPolicy", message: "Resource was disallowed by policy." },
    });

    // Act
    const error = armErrorFromThrown(thrown, "Granting 'Reader'");

    // Assert
    expect(error).toMatchObject({
      code: "AUTHORIZATION_FAILED",
      serviceCode: "RequestDisallowedByPolicy",
      httpStatus: 403,
      retryable: false,
      message: "Resource was disallowed by policy.",
    });
  });

  it("turns a 404 into a NotFoundError with the service's code beside pgprotect's", () => {
    // Arrange
    const thrown = answeredError(404, {
      error: {
        code: "ResourceGroupNotFound",
        message: "Resource group 'rg-db' could not be found.",
      },
    });

    // Act
    const error = armErrorFromThrown(thrown, "Reading role assignments");

    // Assert
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      code: "RESOURCE_NOT_FOUND",
      serviceCode: "ResourceGroupNotFound",
      httpStatus: 404,
      retryable: false,
      message: "Resource group 'rg-db' could not be found.",
    });
  });

  it.each([
    [400, "InvalidRequestContent", 400],
    [409, "ScopeLocked", 409],
    [401, "InvalidAuthenticationToken", 401],
  ])(
    "keeps HTTP %i (%s) the caller's to fix: HTTP %i, not retried",
    (status, serviceCode, httpStatus) => {
      // Arrange
      const thrown = answeredError(status, { error: { code: serviceCode, message: "no" } });

      // Act
      const error = armErrorFromThrown(thrown, "Doing it");

      // Assert
      expect(error).toMatchObject({
        code: "AZURE_REQUEST_FAILED",
        serviceCode,
        httpStatus,
        retryable: false,
      });
    },
  );

  it("keeps throttling retryable, with the wait the service asked for", () => {
    // Arrange
    const thrown = answeredError(
      429,
      { error: { code: "TooManyRequests", message: "Slow down" } },
      { "Retry-After": "17" },
    );

    // Act
    const error = armErrorFromThrown(thrown, "Reading role assignments");

    // Assert
    expect(error).toMatchObject({
      code: "AZURE_THROTTLED",
      httpStatus: 429,
      retryable: true,
      retryAfterMs: 17_000,
    });
  });

  it("keeps a 5xx retryable as the service's failure, not a network one", () => {
    // Arrange
    const thrown = answeredError(503, {
      error: { code: "ServiceUnavailable", message: "Try later" },
    });

    // Act
    const error = armErrorFromThrown(thrown, "Reading role assignments");

    // Assert
    expect(error).toMatchObject({
      code: "AZURE_REQUEST_FAILED",
      serviceCode: "ServiceUnavailable",
      httpStatus: 502,
      retryable: true,
      statusCode: 503,
    });
  });

  it("reads the code the client parsed when the answer's body is not an ARM error", () => {
    // Arrange: an error whose body the client already consumed into its code and message.
    const request = createPipelineRequest({ url: "https://management.azure.com/x" });
    const thrown = new RestError("Operation returned an invalid status code 'Forbidden'", {
      statusCode: 403,
      code: "LinkedAuthorizationFailed",
      request,
      response: { request, status: 403, headers: createHttpHeaders() },
    });

    // Act
    const error = armErrorFromThrown(thrown, "Granting 'Reader'");

    // Assert
    expect(error).toMatchObject({
      code: "AUTHORIZATION_FAILED",
      serviceCode: "LinkedAuthorizationFailed",
      httpStatus: 403,
      retryable: false,
    });
  });

  it("keeps a failure with no answer (reset, DNS, timeout) unreachable and retryable", () => {
    // Arrange
    const thrown = new RestError("socket hang up", { code: RestError.REQUEST_SEND_ERROR });

    // Act
    const error = armErrorFromThrown(thrown, "Reading role assignments");

    // Assert
    expect(error).toMatchObject({
      code: "RESOURCE_MANAGER_UNREACHABLE",
      httpStatus: 502,
      retryable: true,
      message: "Reading role assignments failed: socket hang up",
    });
  });

  it("calls a success the client could not read an invalid answer, not worth asking again", () => {
    // Arrange
    const request = createPipelineRequest({ url: "https://management.azure.com/x" });
    const thrown = new RestError("Error occurred in deserializing the responseBody", {
      statusCode: 200,
      request,
      response: { request, status: 200, headers: createHttpHeaders(), bodyAsText: "<html>" },
    });

    // Act
    const error = armErrorFromThrown(thrown, "Listing role assignments");

    // Assert
    expect(error).toMatchObject({
      code: "INVALID_SERVICE_RESPONSE",
      httpStatus: 502,
      retryable: false,
    });
  });
});

describe("refusedActionAdvice", () => {
  it("names a role that allows a refused write over the scope itself", () => {
    // Arrange
    const message = `The client 'c' with object id '${appObjectId}' does not have authorization to perform action 'Microsoft.DataProtection/backupVaults/backupInstances/write' over scope '${rg}/providers/Microsoft.DataProtection/backupVaults/v/backupInstances/i' or the scope is invalid.`;

    // Act
    const advice = refusedActionAdvice(message);

    // Assert
    expect(advice).toBe(
      `Grant pgprotect's identity (object id ${appObjectId}) a role that allows 'Microsoft.DataProtection/backupVaults/backupInstances/write' on ${rg}/providers/Microsoft.DataProtection/backupVaults/v/backupInstances/i; role assignments can take a few minutes to apply.`,
    );
  });

  it("says nothing for a message that names no action", () => {
    expect(refusedActionAdvice("Forbidden")).toBeUndefined();
  });
});
