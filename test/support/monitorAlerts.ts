/**
 * The alert notifications of `test/fixtures/alerts/` (Azure Monitor's common alert schema), with
 * the vault, job and datasource ids of the app under test put in place of the examples'.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The vault the Azure Backup fixtures are about, as they write it. */
export const FIXTURE_VAULT_ID =
  "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-backup/providers/Microsoft.DataProtection/backupVaults/pgprotect-vault";
/** The job the `backup-failure.json` fixture names. */
export const FIXTURE_BACKUP_JOB_NAME = "0f4f3b2a-9c1d-4e8f-a7b6-5d4c3b2a1908";
/** The datasource the datasource fixtures are about. */
export const FIXTURE_DATASOURCE_ID =
  "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-data/providers/Microsoft.DBforPostgreSQL/servers/pg-sales/databases/ledger";

/** The fixtures, by file name without `.json`. */
export type AlertFixture =
  | "common-schema-sample"
  | "backup-failure"
  | "restore-failure"
  | "delete-backup-data"
  | "delete-backup-data.resolved"
  | "soft-delete-disabled"
  | "minimal";

/** What to put in place of the fixture's ids. */
export interface AlertSubstitutions {
  readonly vaultId?: string;
  readonly jobName?: string;
  readonly datasourceId?: string;
  readonly datasourceName?: string;
  /** Makes the alert another instance (a new alert id). */
  readonly alertSuffix?: string;
}

const folder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/alerts");

/** The fixture's JSON text, with the substitutions made. */
export function alertFixtureText(name: AlertFixture, with_: AlertSubstitutions = {}): string {
  let text = readFileSync(path.join(folder, `${name}.json`), "utf8");
  const replaceAll = (from: string, to: string | undefined) => {
    if (to === undefined) return;
    text = text.split(from).join(to).split(from.toLowerCase()).join(to);
  };
  replaceAll(FIXTURE_VAULT_ID, with_.vaultId);
  replaceAll(FIXTURE_BACKUP_JOB_NAME, with_.jobName);
  replaceAll(FIXTURE_DATASOURCE_ID, with_.datasourceId);
  if (with_.datasourceName !== undefined) {
    text = text.split('"pg-sales/ledger"').join(JSON.stringify(with_.datasourceName));
  }
  if (with_.alertSuffix !== undefined) {
    text = text.replace(
      /(Microsoft\.AlertsManagement\/alerts\/[0-9a-f-]+)/g,
      `$1-${with_.alertSuffix}`,
    );
  }
  return text;
}

/** The fixture as a value, with the substitutions made. */
export function alertFixture(name: AlertFixture, with_: AlertSubstitutions = {}): unknown {
  return JSON.parse(alertFixtureText(name, with_));
}
