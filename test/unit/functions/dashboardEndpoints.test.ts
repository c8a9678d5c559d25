import { Script } from "node:vm";
import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { getDashboard } from "../../../src/functions/dashboard.js";
import { getDashboardAsset } from "../../../src/functions/dashboardAssets.js";
import { withProblemDetails } from "../../../src/http/handler.js";

const context = () => new InvocationContext({ functionName: "test" });

async function call(
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
  url: string,
  params: Record<string, string> = {},
) {
  const request = new HttpRequest({ method: "GET", url: `http://localhost:7071${url}`, params });
  const response = (await withProblemDetails(handler)(request, context())) as HttpResponseInit;
  return {
    status: response.status ?? 200,
    headers: new Headers(response.headers as Record<string, string>),
    text: typeof response.body === "string" ? response.body : JSON.stringify(response.jsonBody),
  };
}

describe("the dashboard endpoints", () => {
  it("serve a page that loads its script and styles from the app only, with no inline script and no key", async () => {
    const key = "the-function-key";

    const page = await call(getDashboard, `/api/dashboard?code=${key}`);

    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain(
      "default-src 'none'; script-src 'self'; style-src 'self'",
    );
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.text).not.toContain(key);
    expect(page.text).toMatch(/<script src="dashboard\/dashboard\.js" defer><\/script>/);
    expect(page.text).not.toMatch(/<script>|<style>| style=| on[a-z]+=/);
  });

  it("serve a script that is valid JavaScript and a style sheet, each with its media type", async () => {
    const script = await call(getDashboardAsset, "/api/dashboard/dashboard.js", {
      asset: "dashboard.js",
    });
    const styles = await call(getDashboardAsset, "/api/dashboard/dashboard.css", {
      asset: "dashboard.css",
    });

    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(() => new Script(script.text)).not.toThrow();
    expect(styles.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(styles.text).toContain(":focus-visible");
  });

  it.each(["app.js", "constructor", "__proto__", "..%2Fpage.ts"])(
    "answer the unknown asset %s with a 404 problem",
    async (asset) => {
      const response = await call(getDashboardAsset, `/api/dashboard/${asset}`, { asset });

      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(JSON.parse(response.text)).toMatchObject({ code: "DASHBOARD_ASSET_NOT_FOUND" });
    },
  );
});
