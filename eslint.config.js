// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { builtinModules } from "node:module";

/** Node built-ins by their bare names; `node:*` is caught by a pattern. */
const nondeterministicModules = builtinModules.filter((name) => !name.startsWith("node:"));

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".pgprotect/**", "coverage/**"] },
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
      ],
    },
  },
  {
    // The domain is pure: no SDKs, no Node built-ins, no providers.
    files: ["src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: nondeterministicModules,
          patterns: [
            { group: ["@azure/*", "@azure-rest/*", "node:*"], message: "The domain is pure." },
            {
              group: ["**/providers/**", "**/functions/**", "**/activities/**"],
              message: "The domain never imports outward.",
            },
          ],
        },
      ],
    },
  },
);
