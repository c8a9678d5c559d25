/**
 * Retention: lifecycles (`retention-rule create-lifecycle`) and named retention rules
 * (`retention-rule set`, `retention-rule remove`).
 */
import { InvalidInputError, type InputProblem } from "../errors.js";
import { manifestForPolicy } from "./datasources.js";
import {
  formatRetentionDuration,
  parseIsoDuration,
  retentionDurationUnits,
  type RetentionDurationUnit,
} from "./duration.js";
import {
  copyOptionTypes,
  dataStoreTypes,
  isRetentionRule,
  type AzureRetentionRule,
  type BackupPolicy,
  type CopyOption,
  type CopyOptionType,
  type DataStoreType,
  type SourceLifeCycle,
} from "./types.js";

/** Options of `retention-rule create-lifecycle`. */
export interface CreateLifecycleOptions {
  readonly retentionDurationCount: number;
  readonly retentionDurationType: string;
  readonly sourceDatastore: string;
  readonly targetDatastore?: string | undefined;
  readonly copyOption?: string | undefined;
  /** For CustomCopyOption: how long after the backup the copy is made (ISO 8601, e.g. `P7D`). */
  readonly copyAfterDuration?: string | undefined;
}

function fail(problems: InputProblem[]): never {
  throw new InvalidInputError(
    problems[0]?.code ?? "INVALID_INPUT",
    problems.map((p) => `${p.path}: ${p.message}`).join("; "),
    problems,
  );
}

/**
 * Builds one lifecycle: how long a recovery point stays in a datastore, and where it is copied.
 *
 * @throws InvalidInputError naming the flag at fault.
 */
export function createLifecycle(options: CreateLifecycleOptions): SourceLifeCycle {
  const problems: InputProblem[] = [];
  const count = options.retentionDurationCount;
  if (!Number.isInteger(count) || count <= 0) {
    problems.push({
      path: "--retention-duration-count",
      code: "LIFECYCLE_DURATION_INVALID",
      message: "the retention duration count must be a whole number above 0",
    });
  }
  if (!retentionDurationUnits.includes(options.retentionDurationType as RetentionDurationUnit)) {
    problems.push({
      path: "--retention-duration-type",
      code: "LIFECYCLE_DURATION_INVALID",
      message: `'${options.retentionDurationType}' is not a duration type; use ${retentionDurationUnits.join(", ")}`,
    });
  }
  const checkStore = (flag: string, value: string) => {
    if (!dataStoreTypes.includes(value as DataStoreType)) {
      problems.push({
        path: flag,
        code: "LIFECYCLE_DATASTORE_INVALID",
        message: `'${value}' is not a datastore; use ${dataStoreTypes.join(", ")}`,
      });
    }
  };
  checkStore("--source-datastore", options.sourceDatastore);
  if (options.targetDatastore !== undefined)
    checkStore("--target-datastore", options.targetDatastore);
  if ((options.targetDatastore === undefined) !== (options.copyOption === undefined)) {
    problems.push({
      path: options.targetDatastore === undefined ? "--target-datastore" : "--copy-option",
      code: "LIFECYCLE_COPY_INCOMPLETE",
      message: "--target-datastore and --copy-option go together: give both or neither",
    });
  }
  if (
    options.copyOption !== undefined &&
    !copyOptionTypes.includes(options.copyOption as CopyOptionType)
  ) {
    problems.push({
      path: "--copy-option",
      code: "LIFECYCLE_COPY_OPTION_INVALID",
      message: `'${options.copyOption}' is not a copy option; use ${copyOptionTypes.join(", ")}`,
    });
  }
  if (options.copyOption === "CustomCopyOption") {
    if (options.copyAfterDuration === undefined || !parseIsoDuration(options.copyAfterDuration)) {
      problems.push({
        path: "--copy-after-duration",
        code: "LIFECYCLE_COPY_DURATION_INVALID",
        message: "CustomCopyOption needs --copy-after-duration as an ISO 8601 duration such as P7D",
      });
    }
  } else if (options.copyAfterDuration !== undefined) {
    problems.push({
      path: "--copy-after-duration",
      code: "LIFECYCLE_COPY_DURATION_INVALID",
      message: "--copy-after-duration only goes with --copy-option CustomCopyOption",
    });
  }
  if (problems.length > 0) fail(problems);

  const copyAfter: CopyOption | undefined =
    options.copyOption === undefined
      ? undefined
      : options.copyOption === "CustomCopyOption"
        ? { duration: options.copyAfterDuration ?? null, objectType: "CustomCopyOption" }
        : { objectType: options.copyOption };
  return {
    deleteAfter: {
      duration: formatRetentionDuration(
        count,
        options.retentionDurationType as RetentionDurationUnit,
      ),
      objectType: "AbsoluteDeleteOption",
    },
    sourceDataStore: { dataStoreType: options.sourceDatastore, objectType: "DataStoreInfoBase" },
    targetDataStoreCopySettings:
      copyAfter === undefined
        ? []
        : [
            {
              copyAfter,
              dataStore: {
                dataStoreType: options.targetDatastore ?? "",
                objectType: "DataStoreInfoBase",
              },
            },
          ],
  };
}

/**
 * `retention-rule set`: adds the named retention rule, or replaces the lifecycles of an existing one.
 *
 * @remarks Only `Default` and the datasource's retention tags (`Weekly`, `Monthly`, `Yearly` for
 * PostgreSQL) may name a rule: the rule applies to backups carrying the tag of the same name.
 * @throws InvalidInputError for a name the service rejects or an empty lifecycle list.
 */
export function setRetentionRule(
  policy: BackupPolicy,
  name: string,
  lifecycles: readonly SourceLifeCycle[],
): BackupPolicy {
  const manifest = manifestForPolicy(policy);
  const allowed = [
    "Default",
    ...(manifest?.supportedRetentionTags ?? ["Daily", "Weekly", "Monthly", "Yearly"]),
  ];
  const problems: InputProblem[] = [];
  if (!allowed.includes(name)) {
    problems.push({
      path: "--name",
      code: "RETENTION_RULE_NAME_UNSUPPORTED",
      message: `'${name}' cannot name a retention rule${manifest ? ` for ${manifest.kind}` : ""}; use ${allowed.join(", ")}`,
    });
  }
  if (lifecycles.length === 0) {
    problems.push({
      path: "--lifecycles",
      code: "RETENTION_RULE_LIFECYCLES_MISSING",
      message: "give at least one lifecycle",
    });
  }
  if (problems.length > 0) fail(problems);
  const existing = policy.policyRules.find((rule) => isRetentionRule(rule) && rule.name === name);
  if (existing) {
    return {
      ...policy,
      policyRules: policy.policyRules.map((rule) =>
        rule === existing ? { ...(rule as AzureRetentionRule), lifecycles: [...lifecycles] } : rule,
      ),
    };
  }
  const added: AzureRetentionRule = {
    isDefault: name === "Default",
    lifecycles: [...lifecycles],
    name,
    objectType: "AzureRetentionRule",
  };
  return { ...policy, policyRules: [...policy.policyRules, added] };
}

/**
 * `retention-rule remove`: removes a named retention rule. The Default rule cannot be removed.
 *
 * @throws InvalidInputError for `Default` or a rule the policy does not have.
 */
export function removeRetentionRule(policy: BackupPolicy, name: string): BackupPolicy {
  if (name === "Default") {
    fail([
      {
        path: "--name",
        code: "RETENTION_RULE_DEFAULT_REQUIRED",
        message: "the Default retention rule cannot be removed",
      },
    ]);
  }
  const remaining = policy.policyRules.filter(
    (rule) => !(isRetentionRule(rule) && rule.name === name),
  );
  if (remaining.length === policy.policyRules.length) {
    fail([
      {
        path: "--name",
        code: "RETENTION_RULE_NOT_FOUND",
        message: `the policy has no retention rule named '${name}'`,
      },
    ]);
  }
  return { ...policy, policyRules: remaining };
}
