import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? "fatal");
}

describe("the lint rule that keeps activity calls typed", () => {
  it("rejects a cast of a yielded answer in src/orchestrations", async () => {
    const code = [
      'import type { OrchestrationContext } from "durable-functions";',
      'import { activityNames } from "../activities/names.js";',
      'import { callActivity } from "./callActivity.js";',
      "export function* run(context: OrchestrationContext) {",
      "  const a = (yield context.df.createTimer(new Date(0))) as string;",
      '  const b = (yield* callActivity(context, activityNames.getJob, { vaultId: "/v", jobId: "j" })) as unknown as number;',
      "  return [a, b];",
      "}",
    ].join("\n");

    const ruleIds = await ruleIdsFor("src/orchestrations/example.ts", code);

    expect(ruleIds.filter((id) => id === "no-restricted-syntax")).toHaveLength(2);
  });

  it("rejects scheduling an activity other than through callActivity in src/orchestrations", async () => {
    const code = [
      'import type { OrchestrationContext } from "durable-functions";',
      "export function* run(context: OrchestrationContext) {",
      '  const a: unknown = yield context.df.callActivityWithRetry("getJob", undefined as never, {});',
      '  const b: unknown = yield context.df.callActivity("getJob", {});',
      "  return [a, b];",
      "}",
    ].join("\n");

    const ruleIds = await ruleIdsFor("src/orchestrations/example.ts", code);

    expect(ruleIds.filter((id) => id === "no-restricted-syntax")).toHaveLength(2);
  });

  it("accepts the typed call through callActivity", async () => {
    const code = [
      'import type { OrchestrationContext } from "durable-functions";',
      'import { activityNames } from "../activities/names.js";',
      'import { callActivity } from "./callActivity.js";',
      "export function* run(context: OrchestrationContext) {",
      '  return yield* callActivity(context, activityNames.getJob, { vaultId: "/v", jobId: "j" });',
      "}",
    ].join("\n");

    expect(await ruleIdsFor("src/orchestrations/example.ts", code)).toEqual([]);
  });

  it("leaves casts of yielded values alone outside src/orchestrations", async () => {
    const code = "export function* run() {\n  return (yield 1) as number;\n}\n";

    expect(await ruleIdsFor("src/activities/example.ts", code)).toEqual([]);
  });
});
