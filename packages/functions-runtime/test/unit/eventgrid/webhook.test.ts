import { describe, expect, test } from "vitest";
import type {
  FunctionInvoker,
  InvocationRequest,
  InvocationResult,
  RegisteredFunction,
} from "../../../src/contracts.js";
import { createEventGridWebhook } from "../../../src/eventgrid/webhook.js";

/** An app with one Event Grid function whose invocations the test settles by hand. */
class HeldInvoker implements FunctionInvoker {
  readonly started: Array<{ request: InvocationRequest; settle: (error?: Error) => void }> = [];
  readonly #fn: RegisteredFunction = {
    name: "onEvent",
    triggerType: "eventGridTrigger",
    bindings: { eventGridTriggerabc: { type: "eventGridTrigger", direction: "in" } },
  };
  #onStart: (() => void) | undefined;

  list(): readonly RegisteredFunction[] {
    return [this.#fn];
  }

  get(name: string): RegisteredFunction | undefined {
    return name.toLowerCase() === "onevent" ? this.#fn : undefined;
  }

  invoke(_name: string, request: InvocationRequest): Promise<InvocationResult> {
    return new Promise((resolve, reject) => {
      this.started.push({
        request,
        settle: (error) => (error ? reject(error) : resolve({ outputData: [] })),
      });
      this.#onStart?.();
    });
  }

  /** Resolves once `count` invocations have started. */
  whenStarted(count: number): Promise<void> {
    if (this.started.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onStart = () => {
        if (this.started.length >= count) resolve();
      };
    });
  }
}

function notification(body: unknown) {
  return {
    method: "POST",
    url: new URL("http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=onEvent"),
    headers: { "aeg-event-type": "Notification" },
    body: Buffer.from(JSON.stringify(body)),
  };
}

describe("the Event Grid webhook's dispatch", () => {
  test("starts one invocation per event, all at once, and answers only when all have finished", async () => {
    const invoker = new HeldInvoker();
    const webhook = createEventGridWebhook(invoker);
    let answered = false;

    const response = webhook(notification([{ id: "1" }, { id: "2" }, { id: "3" }])).then(
      (result) => {
        answered = true;
        return result;
      },
    );
    await invoker.whenStarted(3);
    invoker.started[0]?.settle();
    invoker.started[1]?.settle();
    await Promise.resolve();

    expect(answered).toBe(false);
    invoker.started[2]?.settle();
    expect((await response).status).toBe(202);
    expect(
      invoker.started.map((call) => JSON.parse(call.request.inputData[0]?.data.json ?? "null")),
    ).toEqual([{ id: "1" }, { id: "2" }, { id: "3" }]);
  });

  test("wraps a single object into a one-event batch and answers 500 with the failure's message", async () => {
    const invoker = new HeldInvoker();
    const webhook = createEventGridWebhook(invoker);

    const response = webhook(notification({ id: "only" }));
    await invoker.whenStarted(1);
    invoker.started[0]?.settle(new Error("handler broke"));

    expect(await response).toMatchObject({ status: 500, body: "handler broke" });
  });

  test("answers Unsubscribe with 202 and bad JSON with 400, invoking nothing", async () => {
    const invoker = new HeldInvoker();
    const webhook = createEventGridWebhook(invoker);

    const unsubscribe = await webhook({
      ...notification([]),
      headers: { "aeg-event-type": "Unsubscribe" },
    });
    const badJson = await webhook({ ...notification([]), body: Buffer.from("{nope") });

    expect(unsubscribe.status).toBe(202);
    expect(badJson.status).toBe(400);
    expect(invoker.started).toHaveLength(0);
  });
});
