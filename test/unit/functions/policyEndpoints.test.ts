import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { withProblemDetails } from "../../../src/http/handler.js";
import { compilePolicy } from "../../../src/functions/compilePolicy.js";
import { getPolicyTemplate } from "../../../src/functions/getPolicyTemplate.js";
import { validatePolicy } from "../../../src/functions/validatePolicy.js";

const context = () => new InvocationContext({ functionName: "test" });

async function call(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
  init: { method?: string; url: string; body?: string; contentType?: string },
) {
  const request = new HttpRequest({
    method: init.method ?? "GET",
    url: `http://localhost:7071${init.url}`,
    headers: { "content-type": init.contentType ?? "application/json" },
    ...(init.body !== undefined ? { body: { string: init.body } } : {}),
  });
  const response = (await withProblemDetails(handler)(request, context())) as HttpResponseInit;
  const text =
    typeof response.body === "string" ? response.body : JSON.stringify(response.jsonBody);
  return {
    status: response.status ?? 200,
    headers: new Headers(response.headers as Record<string, string>),
    body: JSON.parse(text),
  };
}

describe("the policy endpoints", () => {
  it("serve the Flexible Server template by default and the Single Server one on request", async () => {
    const flexible = await call(getPolicyTemplate, { url: "/api/policies/template" });
    const single = await call(getPolicyTemplate, {
      url: "/api/policies/template?datasourceType=AzureDatabaseForPostgreSQL",
    });

    expect(flexible.body.datasourceTypes).toEqual(["Microsoft.DBforPostgreSQL/flexibleServers"]);
    expect(single.body.name).toBe("OssPolicy1");
  });

  it("answer an unknown datasource type with problem details naming the supported ones", async () => {
    const response = await call(getPolicyTemplate, {
      url: "/api/policies/template?datasourceType=AzureDisk",
    });

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.body).toMatchObject({
      status: 400,
      code: "POLICY_DATASOURCE_TYPE_UNSUPPORTED",
      instance: "/api/policies/template",
    });
    expect(response.body.detail).toContain("AzureDatabaseForPostgreSQLFlexibleServer");
  });

  it("validate a policy and list its problems with JSON paths, with status 200", async () => {
    const template = (await call(getPolicyTemplate, { url: "/api/policies/template" })).body;
    template.policyRules[1].lifecycles[0].deleteAfter.duration = "P11Y";

    const response = await call(validatePolicy, {
      method: "POST",
      url: "/api/policies/validate",
      body: JSON.stringify(template),
    });

    expect(response.status).toBe(200);
    expect(response.body.valid).toBe(false);
    expect(response.body.problems[0]).toMatchObject({
      path: "$.policyRules[1].lifecycles[0].deleteAfter.duration",
      code: "RETENTION_DURATION_TOO_LONG",
    });
  });

  it("refuse a body that is not JSON with 400, and a body of another media type with 415", async () => {
    const malformed = await call(validatePolicy, {
      method: "POST",
      url: "/api/policies/validate",
      body: "{oops",
    });
    const xml = await call(validatePolicy, {
      method: "POST",
      url: "/api/policies/validate",
      body: "<policy/>",
      contentType: "application/xml",
    });

    expect([malformed.status, malformed.body.code]).toEqual([400, "BODY_NOT_JSON"]);
    expect([xml.status, xml.body.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
  });

  it("compile a spec, or answer 400 with every bad field's path", async () => {
    const good = await call(compilePolicy, {
      method: "POST",
      url: "/api/policies/compile",
      body: JSON.stringify({
        schedule: { days: ["Sunday"], time: "22:00" },
        retention: { default: "P3M" },
      }),
    });
    const bad = await call(compilePolicy, {
      method: "POST",
      url: "/api/policies/compile",
      body: JSON.stringify({ schedule: { days: ["Someday"], time: "22:00" }, retention: {} }),
    });

    expect(good.status).toBe(200);
    expect(good.body.objectType).toBe("BackupPolicy");
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      "$.retention.default",
      "$.schedule.days[0]",
    ]);
  });
});

describe("POST /api/policies/simulate", () => {
  it("lists the window's backups with their tags and the storage estimate", async () => {
    const { simulatePolicy } = await import("../../../src/functions/simulatePolicy.js");
    const policy = (await call(getPolicyTemplate, { url: "/api/policies/template" })).body;

    const response = await call(simulatePolicy, {
      method: "POST",
      url: "/api/policies/simulate",
      body: JSON.stringify({ policy, from: "2026-01-01", to: "2026-01-15", sizeGb: 10 }),
    });

    expect(response.status).toBe(200);
    expect(response.body.backups.map((b: { at: string }) => b.at)).toEqual([
      "2026-01-04T06:30:00.000Z",
      "2026-01-11T06:30:00.000Z",
    ]);
    expect(response.body.backups[0].vault.to).toBe("2026-04-04T06:30:00.000Z");
    expect(response.body.storage.VaultStore).toBeGreaterThan(0);
  });

  it("answers 400 naming the policy problem when the policy is invalid", async () => {
    const { simulatePolicy } = await import("../../../src/functions/simulatePolicy.js");

    const response = await call(simulatePolicy, {
      method: "POST",
      url: "/api/policies/simulate",
      body: JSON.stringify({
        policy: { objectType: "BackupPolicy" },
        from: "2026-01-01",
        to: "2026-02-01",
      }),
    });

    expect(response.status).toBe(400);
    expect(response.body.code).toBe("POLICY_INVALID");
    expect(response.body.errors[0].path).toBe("$.datasourceTypes");
  });
});
