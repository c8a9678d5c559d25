// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { builtinModules } from "node:module";

/** Node built-ins by their bare names; `node:*` is caught by a pattern. */
const nondeterministicModules = builtinModules.filter((name) => !name.startsWith("node:"));

/** How deep below a layer's folder the layer rules look (files in the folder itself are depth 1). */
const maxLayerDepth = 6;

/**
 * One config block per folder depth: `no-restricted-imports` matches the import text, not the
 * resolved file, so "leaves the folder" is a relative path that climbs exactly as many `../` as the
 * importing file sits deep (from `src/domain/policy/x.ts`, `../../` is `src/`).
 *
 * @param folder - the layer's folder, e.g. `src/domain`.
 * @param options - the rule's options for a file `depth` deep; `leaving` is the regex prefix of an
 *   import that leaves the folder.
 */
function byDepth(folder, options) {
  return Array.from({ length: maxLayerDepth }, (_, index) => {
    const depth = index + 1;
    return {
      files: [`${folder}/${"*/".repeat(depth - 1)}*.ts`],
      rules: { "no-restricted-imports": ["error", options(`^(\\.\\./){${depth}}`)] },
    };
  });
}

/** What the domain may not import at all, wherever it sits. */
const domainPurity = {
  paths: nondeterministicModules,
  patterns: [
    { group: ["@azure/*", "@azure-rest/*", "node:*"], message: "The domain is pure." },
    {
      group: ["**/providers/**", "**/functions/**", "**/activities/**"],
      message: "The domain never imports outward.",
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      ".pgprotect/**",
      "coverage/**",
      "packages/*/dist/**",
      "packages/*/.functions-runtime/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // Orchestrators are replayed: the same history must yield the same actions every time.
    files: ["src/orchestrations/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: nondeterministicModules.map((name) => ({
            name,
            message: "Orchestrators are replayed; do I/O in an activity.",
          })),
          patterns: [
            {
              group: ["@azure/*", "@azure-rest/*", "node:*"],
              message: "Orchestrators are replayed; call Azure from an activity.",
            },
            {
              group: ["**/providers/**", "**/activities/**", "!**/activities/names*"],
              message: "Orchestrations import only domain types and activity names.",
            },
            {
              group: ["**/observability/consoleLogger*", "**/observability/functionsLogger*"],
              message:
                "Orchestrations log through observability/orchestrationLogger.js (replay-safe).",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "fetch", message: "Orchestrators are replayed; do I/O in an activity." },
        { name: "setTimeout", message: "Use context.df.createTimer." },
        { name: "setInterval", message: "Use context.df.createTimer." },
        { name: "process", message: "Read configuration in an activity or at start." },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: "Use context.df.currentUtcDateTime.",
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: "Use context.df.currentUtcDateTime.",
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: "Orchestrators are replayed; randomness breaks replay. Use context.df.newGuid.",
        },
        {
          // A cast of what a yield answers hides drift between a call and its activity.
          selector:
            "TSAsExpression[expression.type='YieldExpression'], TSTypeAssertion[expression.type='YieldExpression']",
          message:
            "Call activities with `yield* callActivity(...)`: its answer is typed by the activity itself.",
        },
        {
          selector:
            "CallExpression[callee.object.property.name='df'][callee.property.name=/^callActivity(WithRetry)?$/]",
          message:
            "Call activities with `yield* callActivity(...)` (orchestrations/callActivity.ts), typed by the activity itself.",
        },
        {
          // The input crosses the boundary as JSON: it is checked, never cast.
          selector:
            "CallExpression[callee.object.property.name='df'][callee.property.name='getInput']",
          message:
            "Read the input with `orchestrationInput(context, schema)` (orchestrations/orchestrationInput.ts).",
        },
        {
          selector:
            "CallExpression[callee.object.property.name='df'][callee.property.name=/^callSubOrchestrator(WithRetry)?$/]",
          message:
            "Start a child with `subOrchestration(context, contract, input, id)` (orchestrations/subOrchestration.ts): its output is read through its schema.",
        },
        {
          selector:
            "TSAsExpression[expression.type='MemberExpression'][expression.property.name='result'], TSTypeAssertion[expression.type='MemberExpression'][expression.property.name='result']",
          message:
            "A task's result crossed the boundary as JSON: read it through a schema (`subOrchestration(...).output()`), never cast it.",
        },
      ],
    },
  },
  // Layers (docs/architecture.md "Layers"); each rule has a test in test/unit/lint/layers.test.ts.
  // The domain is pure: no SDKs, no Node built-ins, and nothing of the app outside src/domain.
  // Of the runtime package it takes only the timer trigger's NCRONTAB reader, which plans share.
  ...byDepth("src/domain", (leaving) => ({
    ...domainPurity,
    patterns: [
      ...domainPurity.patterns,
      {
        regex: leaving,
        message: "The domain imports nothing of the app outside src/domain.",
      },
      {
        regex: "^@pgprotect/functions-runtime(?!/ncrontab$)",
        message: "The domain takes only `@pgprotect/functions-runtime/ncrontab` of the runtime.",
      },
    ],
  })),
  // The runtime package is a host any Functions app can run on: its sources and tests import
  // nothing of the app it hosts, neither by a path out of the package nor by the app's name.
  ...byDepth("packages/functions-runtime", (leaving) => ({
    patterns: [
      {
        regex: leaving,
        message: "The runtime package imports nothing outside packages/functions-runtime.",
      },
      {
        regex: "^pgprotect(/|$)",
        message: "The runtime package imports nothing of the app it hosts.",
      },
    ],
  })),
  {
    // The pure domain imports the NCRONTAB reader (`@pgprotect/functions-runtime/ncrontab`).
    files: ["packages/functions-runtime/src/timers/ncrontabReader.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: ".",
              message: "The NCRONTAB reader is shared with pure code: it imports nothing.",
            },
          ],
        },
      ],
    },
  },
  {
    // Providers sit behind the ports: they know no trigger, use case or HTTP shape, and no other
    // provider's internals (shared helpers live in src/providers/ itself).
    files: ["src/providers/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/functions/**", "**/application/**", "**/http/**", "**/cli/**"],
              message:
                "Providers sit behind the ports: they import no trigger, use case or HTTP layer.",
            },
            {
              group: ["../local/**", "../azure/**", "../events/**", "../notifications/**"],
              message:
                "A provider does not reach into another provider; share through src/providers/.",
            },
          ],
        },
      ],
    },
  },
  {
    // The application holds the use cases: the domain, the ports, orchestration names and the
    // orchestrations' input types. Requests are parsed by the HTTP layer before they get here.
    files: ["src/application/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "**/functions/**",
                "**/http/**",
                "**/runtime/**",
                "@pgprotect/functions-runtime",
                "@pgprotect/functions-runtime/*",
                "**/cli/**",
                "**/activities/**",
                "**/composition.js",
                "**/notificationsComposition.js",
                "**/config.js",
              ],
              message:
                "The application imports only the domain, the ports, orchestration names and input types.",
            },
            {
              group: ["**/providers/**", "!**/providers/ports.js"],
              message: "The application reaches providers only through src/providers/ports.ts.",
            },
            {
              group: ["**/orchestrations/**", "!**/orchestrations/names.js"],
              allowTypeImports: true,
              message:
                "The application takes orchestration names and input types only (`import type`).",
            },
          ],
        },
      ],
    },
  },
  {
    // Triggers parse, authorize, call one use case and answer: no provider internals, no other
    // trigger.
    files: ["src/functions/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/providers/**", "!**/providers/ports.js"],
              message: "Triggers reach providers through a use case in src/application.",
            },
            {
              regex: "^\\./",
              message: "A trigger does not import another trigger; share through src/application.",
            },
          ],
        },
      ],
    },
  },
);
