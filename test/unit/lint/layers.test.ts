import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });

/** The layer rules: core `no-restricted-imports`, or the TypeScript one where type imports differ. */
const layerRules = new Set(["no-restricted-imports", "@typescript-eslint/no-restricted-imports"]);

/** Lints `code` as if it lived at `filePath` and answers the layer rules it breaks. */
async function layerErrorsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === null || layerRules.has(m.ruleId))
    .map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

/** A module that uses what it imports, so only the import itself can be at fault. */
function importing(specifier: string, typeOnly = false): string {
  return typeOnly
    ? `import type { Thing } from "${specifier}";\nexport type Used = Thing;\n`
    : `import { thing } from "${specifier}";\nexport const used = thing;\n`;
}

describe("the lint rules that keep the layers apart", () => {
  describe("the domain", () => {
    it("rejects an import of the app outside src/domain, at any depth", async () => {
      expect(await layerErrorsFor("src/domain/example.ts", importing("../config.js"))).toEqual([
        "no-restricted-imports",
      ]);
      expect(
        await layerErrorsFor("src/domain/policy/example.ts", importing("../../http/problem.js")),
      ).toEqual(["no-restricted-imports"]);
      expect(
        await layerErrorsFor(
          "src/domain/protection/deep/example.ts",
          importing("../../../application/protect.js"),
        ),
      ).toEqual(["no-restricted-imports"]);
    });

    it("rejects the runtime package apart from its NCRONTAB reader", async () => {
      for (const specifier of [
        "@pgprotect/functions-runtime",
        "@pgprotect/functions-runtime/durable",
        "@pgprotect/functions-runtime/ncrontab/extra",
        "../../../packages/functions-runtime/src/timers/ncrontabReader.js",
      ]) {
        expect(
          await layerErrorsFor("src/domain/schedule/example.ts", importing(specifier)),
        ).toEqual(["no-restricted-imports"]);
      }
      expect(
        await layerErrorsFor(
          "src/domain/schedule/example.ts",
          importing("@pgprotect/functions-runtime/ncrontab"),
        ),
      ).toEqual([]);
    });

    it("allows imports within src/domain", async () => {
      expect(
        await layerErrorsFor("src/domain/policy/example.ts", importing("../errors.js")),
      ).toEqual([]);
      expect(
        await layerErrorsFor("src/domain/policy/example.ts", importing("../protection/ids.js")),
      ).toEqual([]);
    });
  });

  describe("the runtime package", () => {
    it("rejects an import that leaves the package, from its sources and tests at any depth", async () => {
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/src/example.ts",
          importing("../../../src/domain/errors.js"),
        ),
      ).toEqual(["no-restricted-imports"]);
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/src/timers/example.ts",
          importing("../../../../src/domain/schedule/ncrontab.js"),
        ),
      ).toEqual(["no-restricted-imports"]);
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/src/durable/deep/example.ts",
          importing("../../../../../src/config.js"),
        ),
      ).toEqual(["no-restricted-imports"]);
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/test/unit/durable/example.ts",
          importing("../../../../../test/support/poll.js"),
        ),
      ).toEqual(["no-restricted-imports"]);
    });

    it("rejects the app by its package name", async () => {
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/src/example.ts",
          importing("pgprotect/dist/src/config.js"),
        ),
      ).toEqual(["no-restricted-imports"]);
    });

    it("keeps the NCRONTAB reader the domain shares free of imports", async () => {
      for (const specifier of ["node:fs", "./clock.js"]) {
        expect(
          await layerErrorsFor(
            "packages/functions-runtime/src/timers/ncrontabReader.ts",
            importing(specifier),
          ),
        ).toEqual(["no-restricted-imports"]);
      }
    });

    it("allows imports within the package and of other packages", async () => {
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/src/durable/example.ts",
          importing("../errors.js"),
        ),
      ).toEqual([]);
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/src/durable/example.ts",
          importing("../core/hostLog.js"),
        ),
      ).toEqual([]);
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/test/unit/durable/example.ts",
          importing("../../../src/durable/shim.js"),
        ),
      ).toEqual([]);
      expect(
        await layerErrorsFor(
          "packages/functions-runtime/src/durable/example.ts",
          importing("@azure/functions"),
        ),
      ).toEqual([]);
    });
  });

  describe("the providers", () => {
    it("reject triggers, use cases and the HTTP layer", async () => {
      for (const specifier of [
        "../../functions/startBackup.js",
        "../../application/protect.js",
        "../../http/problem.js",
      ]) {
        expect(
          await layerErrorsFor("src/providers/azure/example.ts", importing(specifier)),
        ).toEqual(["no-restricted-imports"]);
      }
    });

    it("reject another provider's internals", async () => {
      expect(
        await layerErrorsFor(
          "src/providers/notifications/example.ts",
          importing("../local/localBackupService.js"),
        ),
      ).toEqual(["no-restricted-imports"]);
    });

    it("allow the ports, shared provider modules, their own files and the domain", async () => {
      for (const specifier of [
        "../ports.js",
        "../atomicFiles.js",
        "./dispatcher.js",
        "../../domain/errors.js",
      ]) {
        expect(
          await layerErrorsFor("src/providers/notifications/example.ts", importing(specifier)),
        ).toEqual([]);
      }
    });
  });

  describe("the application", () => {
    it("rejects triggers, the HTTP layer, activities, wiring and provider internals", async () => {
      for (const specifier of [
        "../functions/startBackup.js",
        "../http/protectionRequests.js",
        "../activities/protectionChecks.js",
        "../composition.js",
        "../providers/local/localBackupService.js",
        "../orchestrations/protectServer.js",
        "@pgprotect/functions-runtime",
      ]) {
        expect(await layerErrorsFor("src/application/example.ts", importing(specifier))).toEqual([
          "@typescript-eslint/no-restricted-imports",
        ]);
      }
    });

    it("allows the domain, the ports, orchestration names and input types", async () => {
      expect(
        await layerErrorsFor("src/application/example.ts", importing("../domain/errors.js")),
      ).toEqual([]);
      expect(
        await layerErrorsFor(
          "src/application/example.ts",
          importing("../providers/ports.js", true),
        ),
      ).toEqual([]);
      expect(
        await layerErrorsFor("src/application/example.ts", importing("../orchestrations/names.js")),
      ).toEqual([]);
      expect(
        await layerErrorsFor(
          "src/application/example.ts",
          importing("../orchestrations/protectServer.js", true),
        ),
      ).toEqual([]);
    });
  });

  describe("the triggers", () => {
    it("reject provider internals and other triggers", async () => {
      expect(
        await layerErrorsFor(
          "src/functions/example.ts",
          importing("../providers/notifications/dispatcher.js"),
        ),
      ).toEqual(["@typescript-eslint/no-restricted-imports"]);
      expect(
        await layerErrorsFor("src/functions/example.ts", importing("./startBackup.js")),
      ).toEqual(["@typescript-eslint/no-restricted-imports"]);
    });

    it("allow the application, the HTTP layer, composition and the domain", async () => {
      for (const specifier of [
        "../application/protect.js",
        "../http/problem.js",
        "../composition.js",
        "../domain/errors.js",
      ]) {
        expect(await layerErrorsFor("src/functions/example.ts", importing(specifier))).toEqual([]);
      }
    });
  });
});
