/**
 * The OpenAPI schemas of the vault posture (`GET /api/vaults`, `GET /api/vaults/{name}`), kept
 * beside the document so that its shape is stated once: the dashboard and the CLI read it.
 */
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const states = (values: readonly string[], description: string): Schema => ({
  type: "string",
  enum: [...values, "unknown"],
  description: `${description} \`unknown\`: the vault's answer does not state it.`,
});
const notAvailable = "`NotAvailable`: the provider has no such setting (the local vault).";

/** The schemas, by name, for `components.schemas`. */
export const vaultPostureSchemas: Record<string, Schema> = {
  VaultSecuritySettings: {
    description: "A vault's security settings as its provider reads them.",
    type: "object",
    required: [
      "redundancy",
      "immutability",
      "softDelete",
      "crossRegionRestore",
      "crossSubscriptionRestore",
      "resourceGuard",
      "jobFailureAlerts",
    ],
    properties: {
      redundancy: states(
        ["LocallyRedundant", "ZoneRedundant", "GeoRedundant", "LocalDisk"],
        "Where the VaultStore keeps backups; `LocalDisk` for the local vault.",
      ),
      immutability: states(
        ["Disabled", "Unlocked", "Locked", "NotAvailable"],
        `Immutability of recovery points. ${notAvailable}`,
      ),
      softDelete: {
        type: "object",
        required: ["state", "retentionDays"],
        properties: {
          state: states(["Off", "On", "AlwaysOn"], "Soft delete."),
          retentionDays: {
            type: ["number", "null"],
            description: "Days deleted backups are kept for undelete; null when not stated.",
          },
        },
      },
      crossRegionRestore: states(
        ["Enabled", "Disabled", "NotAvailable"],
        `Restore in the paired region (geo-redundant vaults). ${notAvailable}`,
      ),
      crossSubscriptionRestore: states(
        ["Enabled", "Disabled", "PermanentlyDisabled", "NotAvailable"],
        `Restore into other subscriptions. ${notAvailable}`,
      ),
      resourceGuard: {
        type: "object",
        required: ["state", "resourceGuardIds"],
        properties: {
          state: states(
            ["Protected", "NotProtected", "NotAvailable"],
            `Multi-user authorization through a resource guard. ${notAvailable}`,
          ),
          resourceGuardIds: { type: "array", items: { type: "string" } },
        },
      },
      jobFailureAlerts: states(
        ["Enabled", "Disabled", "NotAvailable"],
        `Built-in Azure Monitor alerts for job failures. ${notAvailable}`,
      ),
    },
  },
  PostureWarning: {
    description: "One way a vault falls short of the recommended baseline, and what to change.",
    type: "object",
    required: ["code", "setting", "severity", "found", "recommended", "why", "change"],
    properties: {
      code: ref("ErrorCode"),
      setting: {
        type: "string",
        enum: [
          "redundancy",
          "immutability",
          "softDelete",
          "softDelete.retentionDays",
          "crossRegionRestore",
          "crossSubscriptionRestore",
          "resourceGuard",
          "jobFailureAlerts",
        ],
      },
      severity: {
        type: "string",
        enum: ["high", "medium", "low"],
        description: "`high` risks losing the backups themselves.",
      },
      found: { type: "string", description: "The value found (`unknown` when not stated)." },
      recommended: { type: "string" },
      why: { type: "string", description: "What the setting protects against." },
      change: {
        type: "string",
        description: "The `az` command, or the Bicep parameter of the project's template.",
      },
    },
  },
  VaultPosture: {
    description:
      "A vault the app covers, its security settings and the warnings where they fall short of the baseline, most severe first.",
    type: "object",
    required: ["name", "id", "resourceGroup", "provider", "settings", "meetsBaseline", "warnings"],
    properties: {
      name: { type: "string" },
      id: { type: "string", description: "The vault's ARM id." },
      resourceGroup: { type: "string" },
      provider: { type: "string", enum: ["azure", "local"] },
      settings: {
        oneOf: [ref("VaultSecuritySettings"), { type: "null" }],
        description: "Null only in a listing, for a vault that could not be read (see `error`).",
      },
      meetsBaseline: {
        type: "boolean",
        description: "True when no warning stands (nothing unknown either).",
      },
      warnings: { type: "array", items: ref("PostureWarning") },
      error: {
        type: "object",
        description: "Why the vault could not be read (listings only).",
        required: ["code", "message"],
        properties: { code: ref("ErrorCode"), message: { type: "string" } },
      },
    },
  },
  VaultPostureList: {
    type: "object",
    required: ["value"],
    properties: { value: { type: "array", items: ref("VaultPosture") } },
  },
};
