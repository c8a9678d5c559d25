import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? "fatal");
}

describe("the lint rule that keeps the orchestration boundary typed", () => {
  it("rejects reading or casting an orchestration's input other than through orchestrationInput", async () => {
    // Arrange
    const code = [
      'import type { OrchestrationContext } from "durable-functions";',
      "export function* run(context: OrchestrationContext) {",
      "  const a = context.df.getInput() as { vaultId: string };",
      "  const b: unknown = context.df.getInput();",
      "  yield context.df.createTimer(new Date(0));",
      "  return [a, b];",
      "}",
    ].join("\n");

    // Act
    const ruleIds = await ruleIdsFor("src/orchestrations/example.ts", code);

    // Assert
    expect(ruleIds.filter((id) => id === "no-restricted-syntax")).toHaveLength(2);
  });

  it("rejects starting a child directly and casting a task's result", async () => {
    // Arrange
    const code = [
      'import type { OrchestrationContext } from "durable-functions";',
      "export function* run(context: OrchestrationContext) {",
      '  const child = context.df.callSubOrchestrator("protectDatasource", {}, "id");',
      "  yield child;",
      "  return child.result as { outcome: string };",
      "}",
    ].join("\n");

    // Act
    const ruleIds = await ruleIdsFor("src/orchestrations/example.ts", code);

    // Assert
    expect(ruleIds.filter((id) => id === "no-restricted-syntax")).toHaveLength(2);
  });

  it("accepts the checked input and the typed child", async () => {
    // Arrange
    const code = [
      'import type { OrchestrationContext } from "durable-functions";',
      'import { orchestrationInput } from "./orchestrationInput.js";',
      'import { protectDatasourceContract, protectDatasourceInputSchema } from "./protectDatasource.js";',
      'import { subOrchestration } from "./subOrchestration.js";',
      "export function* run(context: OrchestrationContext) {",
      "  const input = orchestrationInput(context, protectDatasourceInputSchema);",
      '  const child = subOrchestration(context, protectDatasourceContract, input, "id");',
      "  yield child.task;",
      "  return child.output().outcome;",
      "}",
    ].join("\n");

    // Act / Assert
    expect(await ruleIdsFor("src/orchestrations/example.ts", code)).toEqual([]);
  });

  it("rejects a logger other than the replay-safe one in src/orchestrations", async () => {
    // Arrange
    const code = [
      'import { consoleEventLogger } from "../observability/consoleLogger.js";',
      'import { invocationLogger } from "../observability/functionsLogger.js";',
      'import { replaySafeLogger } from "../observability/orchestrationLogger.js";',
      "export const loggers = [consoleEventLogger, invocationLogger, replaySafeLogger];",
    ].join("\n");

    // Act
    const ruleIds = await ruleIdsFor("src/orchestrations/example.ts", code);

    // Assert
    expect(ruleIds).toEqual(["no-restricted-imports", "no-restricted-imports"]);
  });

  it("leaves reading an input alone outside src/orchestrations", async () => {
    const code = [
      'import type { OrchestrationContext } from "durable-functions";',
      "export const read = (context: OrchestrationContext) => context.df.getInput() as string;",
    ].join("\n");

    expect(await ruleIdsFor("src/activities/example.ts", code)).toEqual([]);
  });
});
