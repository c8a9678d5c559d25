/** The policy's one backup rule: its parameters, datastore, schedule and tags. */
import { ErrorCodes } from "../../errorCodes.js";
import type { DatasourceManifest } from "../datasources.js";
import { isObject, type LocatedRule, type PolicyProblems } from "./problems.js";
import { validateSchedule } from "./schedule.js";
import { validateTags } from "./tags.js";

/**
 * Checks that there is exactly one backup rule and validates the first: Full backups into the
 * vault, on a schedule, with tags.
 *
 * @returns the tag names the rule defines, each with its path (empty when there is no rule or
 * no valid trigger).
 */
export function validateBackupRules(
  backupRules: readonly LocatedRule[],
  root: string,
  manifest: DatasourceManifest | undefined,
  supportedTags: readonly string[],
  problems: PolicyProblems,
): Map<string, string> {
  if (backupRules.length === 0) {
    problems.error(
      `${root}.policyRules`,
      ErrorCodes.POLICY_BACKUP_RULE_MISSING,
      "The policy has no backup rule (objectType AzureBackupRule), so no backup would ever run.",
    );
  }
  backupRules
    .slice(1)
    .forEach(({ path }) =>
      problems.error(
        path,
        ErrorCodes.POLICY_BACKUP_RULE_DUPLICATE,
        "A PostgreSQL policy has exactly one backup rule; remove the extra one.",
      ),
    );
  const backup = backupRules[0];
  if (!backup) return new Map();
  const { rule, path } = backup;
  validateBackupParameters(rule.backupParameters, path, problems);
  const store = rule.dataStore;
  if (
    !isObject(store) ||
    store.dataStoreType !== "VaultStore" ||
    store.objectType !== "DataStoreInfoBase"
  ) {
    problems.error(
      `${path}.dataStore`,
      ErrorCodes.POLICY_BACKUP_DATASTORE_INVALID,
      'PostgreSQL backups land in the vault: dataStore must be {"dataStoreType": "VaultStore", "objectType": "DataStoreInfoBase"}.',
    );
  }
  const trigger = rule.trigger;
  if (!isObject(trigger) || trigger.objectType !== "ScheduleBasedTriggerContext") {
    problems.error(
      `${path}.trigger`,
      ErrorCodes.POLICY_TRIGGER_INVALID,
      'The backup rule needs a trigger with objectType "ScheduleBasedTriggerContext".',
    );
    return new Map();
  }
  const scheduleWeekdays = validateSchedule(
    trigger.schedule,
    `${path}.trigger.schedule`,
    manifest,
    problems,
  );
  return validateTags(trigger.taggingCriteria, `${path}.trigger.taggingCriteria`, {
    manifest,
    supportedTags,
    scheduleWeekdays,
    problems,
  });
}

/** Optional `backupParameters`: when given, Full backups of objectType AzureBackupParams. */
function validateBackupParameters(params: unknown, path: string, problems: PolicyProblems): void {
  if (params === undefined || params === null) return;
  if (!isObject(params) || params.objectType !== "AzureBackupParams") {
    problems.error(
      `${path}.backupParameters.objectType`,
      ErrorCodes.POLICY_BACKUP_PARAMETERS_INVALID,
      'backupParameters.objectType must be "AzureBackupParams".',
    );
  } else if (typeof params.backupType !== "string" || params.backupType.toLowerCase() !== "full") {
    problems.error(
      `${path}.backupParameters.backupType`,
      ErrorCodes.POLICY_BACKUP_TYPE_UNSUPPORTED,
      `PostgreSQL backups are Full backups; backupType ${JSON.stringify(params.backupType)} is not supported.`,
    );
  }
}
