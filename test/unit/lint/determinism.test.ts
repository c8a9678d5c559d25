import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? "fatal");
}

describe("the lint rules that keep orchestrations deterministic", () => {
  it("reject Node built-ins, Azure SDKs, the clock and randomness in src/orchestrations", async () => {
    const code = [
      'import { readFileSync } from "node:fs";',
      'import { DefaultAzureCredential } from "@azure/identity";',
      "export function* run() {",
      "  yield [readFileSync, DefaultAzureCredential, Date.now(), new Date(), Math.random()];",
      "}",
    ].join("\n");

    const ruleIds = await ruleIdsFor("src/orchestrations/example.ts", code);

    expect(ruleIds.filter((id) => id === "no-restricted-imports")).toHaveLength(2);
    expect(ruleIds.filter((id) => id === "no-restricted-syntax")).toHaveLength(3);
  });

  it("allow the same code outside src/orchestrations", async () => {
    const code =
      'import { readFileSync } from "node:fs";\nexport const read = () => [readFileSync, Date.now()];\n';

    expect(await ruleIdsFor("src/activities/example.ts", code)).toEqual([]);
  });

  it("keep src/domain free of Node built-ins", async () => {
    const code = 'import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n';

    expect(await ruleIdsFor("src/domain/example.ts", code)).toEqual(["no-restricted-imports"]);
  });
});
