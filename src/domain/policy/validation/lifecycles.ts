/**
 * A retention rule's lifecycles: how long recovery points stay in VaultStore and ArchiveStore,
 * and how they get from one to the other.
 */
import { ErrorCodes } from "../../errorCodes.js";
import type { DatasourceManifest } from "../datasources.js";
import { nominalDays, parseIsoDuration, type IsoDuration } from "../duration.js";
import { copyOptionTypes } from "../types.js";
import { isObject, type PolicyProblems } from "./problems.js";

/** Longest retention the service allows, in nominal days (10 years). */
const maxRetentionDays = 3650;
/** Archive tier early-deletion period: deleting sooner is still charged for 180 days. */
const archiveEarlyDeletionDays = 180;

/** A copy setting of a lifecycle, as far as it could be read. */
interface CopySetting {
  store: string;
  option: string;
  after?: IsoDuration | undefined;
}

/** A lifecycle of one source datastore, as far as it could be read. */
interface ReadLifecycle {
  at: string;
  duration: IsoDuration | undefined;
  copies: CopySetting[];
}

/**
 * Checks each lifecycle of a retention rule, then the rule's lifecycles together: a VaultStore
 * lifecycle, an ArchiveStore one exactly when something copies there, a copy before the vault
 * deletes, and vault plus archive within 10 years.
 */
export function validateLifecycles(
  list: unknown,
  path: string,
  ruleName: string,
  manifest: DatasourceManifest | undefined,
  problems: PolicyProblems,
): void {
  if (!Array.isArray(list) || list.length === 0) {
    problems.error(
      path,
      ErrorCodes.RETENTION_LIFECYCLES_MISSING,
      `The retention rule '${ruleName}' needs at least one lifecycle.`,
    );
    return;
  }
  const bySource = new Map<string, ReadLifecycle>();
  list.forEach((lifecycle, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(lifecycle)) {
      problems.error(
        at,
        ErrorCodes.RETENTION_LIFECYCLE_INVALID,
        "A lifecycle must be a JSON object.",
      );
      return;
    }
    const source = isObject(lifecycle.sourceDataStore)
      ? lifecycle.sourceDataStore.dataStoreType
      : undefined;
    if (
      typeof source !== "string" ||
      !(manifest?.supportedDatastoreTypes ?? ["VaultStore", "ArchiveStore"]).includes(
        source as never,
      )
    ) {
      problems.error(
        `${at}.sourceDataStore.dataStoreType`,
        ErrorCodes.RETENTION_DATASTORE_UNSUPPORTED,
        `PostgreSQL recovery points live in VaultStore or ArchiveStore, not ${JSON.stringify(source)}.`,
      );
    }
    if (
      isObject(lifecycle.sourceDataStore) &&
      lifecycle.sourceDataStore.objectType !== "DataStoreInfoBase"
    ) {
      problems.error(
        `${at}.sourceDataStore.objectType`,
        ErrorCodes.RETENTION_LIFECYCLE_INVALID,
        'sourceDataStore.objectType must be "DataStoreInfoBase".',
      );
    }
    const duration = validateDeleteAfter(lifecycle.deleteAfter, at, problems);
    const copies = validateCopySettings(
      lifecycle.targetDataStoreCopySettings,
      at,
      source,
      problems,
    );
    if (typeof source === "string") {
      if (bySource.has(source))
        problems.error(
          `${at}.sourceDataStore`,
          ErrorCodes.RETENTION_LIFECYCLE_DUPLICATE,
          `The rule '${ruleName}' has two lifecycles for ${source}.`,
        );
      bySource.set(source, { at, duration, copies });
    }
  });
  validateVaultAndArchive(bySource, path, ruleName, problems);
}

/**
 * Checks a lifecycle's `deleteAfter`.
 *
 * @returns the retention duration when it is one, `undefined` otherwise.
 */
function validateDeleteAfter(
  deleteAfter: unknown,
  at: string,
  problems: PolicyProblems,
): IsoDuration | undefined {
  if (!isObject(deleteAfter) || deleteAfter.objectType !== "AbsoluteDeleteOption") {
    problems.error(
      `${at}.deleteAfter`,
      ErrorCodes.RETENTION_DURATION_INVALID,
      'deleteAfter must be {"objectType": "AbsoluteDeleteOption", "duration": "P3M"}.',
    );
    return undefined;
  }
  const duration =
    typeof deleteAfter.duration === "string" ? parseIsoDuration(deleteAfter.duration) : undefined;
  if (!duration || nominalDays(duration) <= 0) {
    problems.error(
      `${at}.deleteAfter.duration`,
      ErrorCodes.RETENTION_DURATION_INVALID,
      `${JSON.stringify(deleteAfter.duration)} is not a retention duration such as P30D, P12W, P6M or P10Y.`,
    );
    return undefined;
  }
  if (nominalDays(duration) > maxRetentionDays) {
    problems.error(
      `${at}.deleteAfter.duration`,
      ErrorCodes.RETENTION_DURATION_TOO_LONG,
      `Azure Backup keeps PostgreSQL backups for at most 10 years; ${String(deleteAfter.duration)} is longer.`,
    );
  }
  return duration;
}

/**
 * Checks a lifecycle's `targetDataStoreCopySettings` (one setting or a list): a known copy
 * option, a duration for CustomCopyOption, and only VaultStore to ArchiveStore.
 *
 * @returns the settings that are objects with copyAfter and dataStore.
 */
function validateCopySettings(
  rawCopies: unknown,
  at: string,
  source: unknown,
  problems: PolicyProblems,
): CopySetting[] {
  const copies: CopySetting[] = [];
  if (rawCopies === undefined || rawCopies === null) return copies;
  const asArray: unknown[] = Array.isArray(rawCopies) ? rawCopies : [rawCopies];
  asArray.forEach((copy, k) => {
    const copyAt = Array.isArray(rawCopies)
      ? `${at}.targetDataStoreCopySettings[${k}]`
      : `${at}.targetDataStoreCopySettings`;
    if (!isObject(copy) || !isObject(copy.copyAfter) || !isObject(copy.dataStore)) {
      problems.error(
        copyAt,
        ErrorCodes.RETENTION_COPY_INVALID,
        "A copy setting needs copyAfter and dataStore.",
      );
      return;
    }
    const option = copy.copyAfter.objectType;
    if (!copyOptionTypes.includes(option as never)) {
      problems.error(
        `${copyAt}.copyAfter.objectType`,
        ErrorCodes.RETENTION_COPY_INVALID,
        `${JSON.stringify(option)} is not a copy option; use ${copyOptionTypes.join(", ")}.`,
      );
    }
    let after: IsoDuration | undefined;
    if (option === "CustomCopyOption") {
      after =
        typeof copy.copyAfter.duration === "string"
          ? parseIsoDuration(copy.copyAfter.duration)
          : undefined;
      if (!after)
        problems.error(
          `${copyAt}.copyAfter.duration`,
          ErrorCodes.RETENTION_COPY_INVALID,
          "CustomCopyOption needs a duration such as P7D.",
        );
    }
    const target = copy.dataStore.dataStoreType;
    if (target !== "ArchiveStore" || source !== "VaultStore") {
      problems.error(
        `${copyAt}.dataStore.dataStoreType`,
        ErrorCodes.RETENTION_COPY_TARGET_INVALID,
        "PostgreSQL recovery points are copied only from VaultStore to ArchiveStore.",
      );
    }
    copies.push({ store: String(target), option: String(option), after });
  });
  return copies;
}

/** Checks a rule's VaultStore and ArchiveStore lifecycles against each other. */
function validateVaultAndArchive(
  bySource: ReadonlyMap<string, ReadLifecycle>,
  path: string,
  ruleName: string,
  problems: PolicyProblems,
): void {
  const vault = bySource.get("VaultStore");
  const archive = bySource.get("ArchiveStore");
  if (!vault) {
    problems.error(
      path,
      ErrorCodes.RETENTION_VAULT_LIFECYCLE_MISSING,
      `The rule '${ruleName}' must say how long backups stay in VaultStore, where they land.`,
    );
  }
  const copiesToArchive = vault?.copies.filter((c) => c.store === "ArchiveStore") ?? [];
  if (archive && copiesToArchive.length === 0) {
    problems.error(
      archive.at,
      ErrorCodes.RETENTION_ARCHIVE_UNREACHABLE,
      `The rule '${ruleName}' keeps backups in ArchiveStore but never copies them there; add --target-datastore ArchiveStore --copy-option CopyOnExpiryOption to the VaultStore lifecycle.`,
    );
  }
  if (!archive && copiesToArchive.length > 0 && vault) {
    problems.error(
      vault.at,
      ErrorCodes.RETENTION_ARCHIVE_LIFECYCLE_MISSING,
      `The rule '${ruleName}' copies backups to ArchiveStore but has no ArchiveStore lifecycle saying how long to keep them there.`,
    );
  }
  const copy = copiesToArchive[0];
  if (!vault?.duration || !archive?.duration || !copy) return;
  const copiedAtDays =
    copy.option === "CopyOnExpiryOption"
      ? nominalDays(vault.duration)
      : copy.option === "CustomCopyOption" && copy.after
        ? nominalDays(copy.after)
        : 0;
  if (
    copy.option === "CustomCopyOption" &&
    copy.after &&
    nominalDays(copy.after) >= nominalDays(vault.duration)
  ) {
    problems.error(
      `${vault.at}.targetDataStoreCopySettings`,
      ErrorCodes.RETENTION_COPY_TOO_LATE,
      `The copy to ArchiveStore comes after the VaultStore copy is deleted; make it sooner than ${nominalDays(vault.duration)} days or use CopyOnExpiryOption.`,
    );
  }
  if (copiedAtDays + nominalDays(archive.duration) > maxRetentionDays) {
    problems.error(
      `${archive.at}.deleteAfter.duration`,
      ErrorCodes.RETENTION_TOTAL_TOO_LONG,
      `Vault and archive retention together exceed 10 years (${Math.round(copiedAtDays + nominalDays(archive.duration))} days).`,
    );
  }
  if (nominalDays(archive.duration) < archiveEarlyDeletionDays) {
    problems.warn(
      `${archive.at}.deleteAfter.duration`,
      ErrorCodes.RETENTION_ARCHIVE_EARLY_DELETION,
      `Archived recovery points are charged for at least 180 days; deleting them after ${Math.round(nominalDays(archive.duration))} days still costs 180.`,
    );
  }
}
