import { describe, expect, test } from "vitest";
import { FunctionRegistry, RegistrationError } from "../../../src/core/functionsCore.js";

const metadata = (name: string) => ({
  name,
  bindings: {
    httpTriggerabc: { type: "httpTrigger", direction: "in", name: "httpTriggerabc" },
    $return: { type: "http", direction: "out", name: "httpOutputdef" },
  },
});

describe("the @azure/functions-core registry", () => {
  test("captures registrations with their trigger type and the programming model", () => {
    const registry = new FunctionRegistry();
    const core = registry.createCoreApi("4.0.0") as {
      registerFunction: (m: unknown, cb: () => unknown) => unknown;
      setProgrammingModel: (pm: unknown) => void;
    };
    const model = { name: "@azure/functions", version: "4.16.5" };

    core.setProgrammingModel(model);
    core.registerFunction(metadata("hello"), () => "hi");

    expect(registry.get("HELLO")).toMatchObject({ name: "hello", triggerType: "httpTrigger" });
    expect(registry.programmingModel()).toBe(model);
  });

  test("rejects a duplicate name, a registration without a trigger, and late registrations", () => {
    const registry = new FunctionRegistry();
    const core = registry.createCoreApi("4.0.0") as {
      registerFunction: (m: unknown, cb: () => unknown) => unknown;
    };
    core.registerFunction(metadata("hello"), () => undefined);

    expect(() => core.registerFunction(metadata("Hello"), () => undefined)).toThrow(
      /already registered/,
    );
    expect(() => core.registerFunction({ name: "x", bindings: {} }, () => undefined)).toThrow(
      RegistrationError,
    );
    registry.lock();
    expect(() => core.registerFunction(metadata("late"), () => undefined)).toThrow(
      /after the app has started/,
    );
  });

  test("keeps hooks by name, lets them be disposed, and rejects unknown hook names", () => {
    const registry = new FunctionRegistry();
    const core = registry.createCoreApi("4.0.0") as {
      registerHook: (name: string, cb: () => void) => { dispose(): void };
    };
    const first = () => undefined;
    const second = () => undefined;

    const disposable = core.registerHook("preInvocation", first);
    core.registerHook("preInvocation", second);
    disposable.dispose();

    expect(registry.hooks("preInvocation")).toEqual([second]);
    expect(() => core.registerHook("onSomething", first)).toThrow(RangeError);
  });

  test("routes library logs to the sink", () => {
    const registry = new FunctionRegistry();
    const core = registry.createCoreApi("4.0.0") as {
      log: (level: string, category: string, message: string) => void;
    };
    const seen: string[] = [];
    registry.setLogSink((level, category, message) => seen.push(`${level}/${category}/${message}`));

    core.log("warning", "system", "careful");

    expect(seen).toEqual(["warning/system/careful"]);
  });
});
