import { describe, expect, it } from "vitest";
import {
  codeForServiceCode,
  errorCatalogue,
  ErrorCodes,
  normalizeCode,
  renamedCodes,
  type ErrorCode,
} from "../../../src/domain/errorCodes.js";
import { AppError, InvalidInputError, type InputProblem } from "../../../src/domain/errors.js";

const codes = Object.keys(errorCatalogue);

describe("the catalogue of error codes", () => {
  it("states every code in one style, SNAKE_CASE, with a one-line meaning", () => {
    const offStyle = codes.filter((code) => !/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(code));
    const withoutMeaning = Object.entries(errorCatalogue)
      .filter(([, entry]) => entry.meaning.trim() === "" || entry.meaning.includes("\n"))
      .map(([code]) => code);

    expect(offStyle).toEqual([]);
    expect(withoutMeaning).toEqual([]);
  });

  it("gives each service code one code of its own, so one fact has one code", () => {
    const owners = new Map<string, string[]>();
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      const service = [
        "serviceCode" in entry ? entry.serviceCode : undefined,
        ...("otherServiceCodes" in entry ? entry.otherServiceCodes : []),
      ];
      for (const value of service.filter((v) => v !== undefined)) {
        owners.set(value, [...(owners.get(value) ?? []), code]);
      }
    }

    const shared = [...owners].filter(([, owner]) => owner.length > 1);

    expect(shared).toEqual([]);
  });

  it("maps every former code to a code of the catalogue, and none of them is still one", () => {
    const stillInCatalogue = Object.keys(renamedCodes).filter((old) => codes.includes(old));
    const unknownTargets = Object.values(renamedCodes).filter((code) => !codes.includes(code));

    expect(stillInCatalogue).toEqual([]);
    expect(unknownTargets).toEqual([]);
  });

  it("names each constant after its own code", () => {
    expect(ErrorCodes.POLICY_NOT_FOUND).toBe("POLICY_NOT_FOUND");
    expect(Object.keys(ErrorCodes)).toEqual(codes);
  });
});

describe("codeForServiceCode", () => {
  it("gives the catalogue's code for a code the service answers", () => {
    expect(codeForServiceCode("UserErrorDppDatasourceAlreadyProtected")).toBe(
      "DATASOURCE_ALREADY_PROTECTED",
    );
    expect(codeForServiceCode("UserErrorPolicyNotFound")).toBe("POLICY_NOT_FOUND");
  });

  it("gives AZURE_REQUEST_FAILED for a service code pgprotect does not know", () => {
    expect(codeForServiceCode("UserErrorSomethingNew")).toBe("AZURE_REQUEST_FAILED");
  });
});

describe("normalizeCode", () => {
  it("keeps a code of the catalogue as it is", () => {
    expect(normalizeCode("BODY_INVALID")).toEqual({ code: "BODY_INVALID" });
  });

  it("reads a former code as its new one, without a service code", () => {
    expect(normalizeCode("BackupInstanceNameInUse")).toEqual({
      code: "BACKUP_INSTANCE_NAME_IN_USE",
    });
  });

  it("reads a service code as pgprotect's, keeping the service's beside it", () => {
    expect(normalizeCode("UserErrorBackupInstanceNameInUse")).toEqual({
      code: "BACKUP_INSTANCE_NAME_IN_USE",
      serviceCode: "UserErrorBackupInstanceNameInUse",
    });
    expect(normalizeCode("NotAnythingKnown")).toEqual({
      code: "AZURE_REQUEST_FAILED",
      serviceCode: "NotAnythingKnown",
    });
  });
});

describe("AppError", () => {
  it("carries the service's code beside its own, in JSON too", () => {
    const error = new AppError("DATASOURCE_ALREADY_PROTECTED", "protected", {
      httpStatus: 409,
      serviceCode: "UserErrorDppDatasourceAlreadyProtected",
    });

    expect(error.toJSON()).toMatchObject({
      code: "DATASOURCE_ALREADY_PROTECTED",
      serviceCode: "UserErrorDppDatasourceAlreadyProtected",
    });
  });

  it("takes a service's code only beside a code of the catalogue, never as its own", () => {
    const given: string = "UserErrorPolicyNotInVault";
    // @ts-expect-error -- a plain string is not a problem's code
    const problem: InputProblem = { path: "$.policyId", code: given, message: "not in this vault" };
    const compilesNot = () =>
      // @ts-expect-error -- nor an error's
      new InvalidInputError(given, "not in this vault", [problem]);

    const { code, serviceCode } = normalizeCode(given);
    const stated = new AppError(code, "not in this vault", { httpStatus: 400, serviceCode });

    expect(compilesNot).toBeTypeOf("function");
    expect(stated.toJSON()).toMatchObject({
      code: "POLICY_NOT_IN_VAULT",
      serviceCode: "UserErrorPolicyNotInVault",
    });
  });

  it("does not compile with a literal outside the catalogue", () => {
    // @ts-expect-error -- "POLICY_NOT_FUOND" is not a code of the catalogue
    const typo: ErrorCode = "POLICY_NOT_FUOND";

    expect(codes).not.toContain(typo);
  });
});
