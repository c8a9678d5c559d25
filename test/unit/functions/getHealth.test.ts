import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { setAppDependencies, type AppDependencies } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { AppError } from "../../../src/domain/errors.js";
import { getHealth } from "../../../src/functions/getHealth.js";
import type { Provider } from "../../../src/providers/ports.js";

/** A provider any of whose calls fails the test: a health probe must not call the service. */
const untouchable = new Proxy(
  {},
  {
    get: (_target, port) =>
      port === "health" || port === "then"
        ? undefined
        : new Proxy(
            {},
            {
              get: (_t, method) => () => {
                throw new Error(`the health probe called ${String(port)}.${String(method)}`);
              },
            },
          ),
  },
) as Provider;

function useDependencies(provider: "local" | "azure", ports: Provider): void {
  setAppDependencies({
    config: loadConfig({
      PGPROTECT_PROVIDER: provider,
      ...(provider === "azure"
        ? {
            AZURE_SUBSCRIPTION_ID: "6f1c2a4e-93b5-4c1d-8e2f-0a1b2c3d4e5f",
            EVENTGRID_TOPIC_ENDPOINT: "https://topic.example/api/events",
          }
        : {}),
    }),
    provider: ports,
  } as unknown as AppDependencies);
}

async function probe() {
  const response = await getHealth(
    new HttpRequest({ method: "GET", url: "http://localhost:7071/api/health" }),
    new InvocationContext({ functionName: "getHealth" }),
  );
  const body =
    typeof response.body === "string"
      ? (JSON.parse(response.body) as Record<string, unknown>)
      : (response.jsonBody as Record<string, unknown>);
  return { status: response.status ?? 200, headers: response.headers, body };
}

afterEach(() => setAppDependencies(undefined));

describe("GET /api/health", () => {
  it("answers 200 naming the Azure provider without calling the service", async () => {
    useDependencies("azure", untouchable);

    const answer = await probe();

    expect(answer).toMatchObject({ status: 200, body: { status: "ok", provider: "azure" } });
  });

  it("answers 200 naming the local provider while its check passes", async () => {
    useDependencies("local", { ...untouchable, health: { check: async () => undefined } });

    const answer = await probe();

    expect(answer).toMatchObject({ status: 200, body: { status: "ok", provider: "local" } });
  });

  it("answers 503 problem details with the reason, the code and the provider while PostgreSQL is down", async () => {
    useDependencies("local", {
      ...untouchable,
      health: {
        check: async () => {
          throw new AppError("LOCAL_POSTGRES_UNAVAILABLE", "PostgreSQL is down: ECONNREFUSED", {
            httpStatus: 503,
            recommendedAction: "Start the PostgreSQL server",
          });
        },
      },
    });

    const answer = await probe();

    expect(answer.status).toBe(503);
    expect((answer.headers as Record<string, string>)["content-type"]).toBe(
      "application/problem+json",
    );
    expect(answer.body).toMatchObject({
      status: 503,
      code: "LOCAL_POSTGRES_UNAVAILABLE",
      provider: "local",
      retryable: true,
      recommendedAction: "Start the PostgreSQL server",
    });
    expect(String(answer.body.detail)).toContain("PostgreSQL is down: ECONNREFUSED");
  });

  it("answers 503 even when the failure behind it is not an AppError", async () => {
    useDependencies("local", {
      ...untouchable,
      health: {
        check: async () => {
          throw new Error("socket hang up");
        },
      },
    });

    const answer = await probe();

    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: "PROVIDER_UNAVAILABLE", provider: "local" });
  });
});
