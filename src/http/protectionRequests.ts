/**
 * The request bodies of the protection, backup and restore endpoints: checked by the triggers and
 * described by the OpenAPI document from the same schemas.
 */
import { z } from "zod";
import {
  assertName,
  databaseNameRule,
  policyNameRule,
  restoreDatabaseNameRule,
  restoreFilePrefixRule,
  restoreFolderRule,
  serverNameRule,
  vaultNameRule,
} from "../domain/protection/names.js";

/** The most databases `protectServer` protects at once, whatever a caller asks for. */
const maxServerConcurrency = 32;

/** The body of `POST /api/protections`. */
export const startProtectionBody = z
  .object({
    datasourceId: z.string().min(1).optional(),
    serverName: z.string().min(1).optional(),
    databaseName: z.string().min(1).optional(),
    vaultName: z.string().min(1).optional(),
    policyName: z.string().min(1),
    secretUri: z.string().url().optional(),
    allDatabases: z
      .boolean()
      .optional()
      .describe(
        "Protect every database of the Single Server-style server `serverName`, each as its own datasource, with one secret (`secretUri`) that reaches them all. Not for a Flexible Server: it is protected whole.",
      ),
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .max(maxServerConcurrency)
      .optional()
      .describe("With `allDatabases`: how many databases are protected at once (default 4)."),
  })
  .refine(
    (body) => body.allDatabases === true || body.datasourceId !== undefined || body.serverName,
    {
      message: "name the datasource by datasourceId, or by serverName (and databaseName)",
      path: ["datasourceId"],
    },
  )
  .refine((body) => body.allDatabases !== true || body.serverName !== undefined, {
    message: "allDatabases protects the databases of serverName: name the server",
    path: ["serverName"],
  })
  .refine(
    (body) =>
      body.allDatabases !== true ||
      (body.databaseName === undefined && body.datasourceId === undefined),
    {
      message:
        "allDatabases protects every database of serverName: leave databaseName and datasourceId out, or protect that one datasource without allDatabases",
      path: ["allDatabases"],
    },
  )
  .refine((body) => body.maxConcurrency === undefined || body.allDatabases === true, {
    message: "maxConcurrency applies only with allDatabases",
    path: ["maxConcurrency"],
  });

/** A checked `POST /api/protections` body. */
export type StartProtectionBody = z.infer<typeof startProtectionBody>;

/** The body of `POST /api/backup-instances/{name}/backups`. */
export const startBackupBody = z
  .object({
    /** The policy's backup rule, e.g. `BackupWeekly`. */
    ruleName: z.string().min(1),
    /** The retention rule the recovery point is kept under, e.g. `Monthly`; `Default` when absent. */
    retentionTagOverride: z.string().min(1).optional(),
    /** The vault of the instance (or `?vault=`); every vault the app covers when absent. */
    vaultName: z.string().min(1).optional(),
  })
  .strict();

/** A checked `POST /api/backup-instances/{name}/backups` body. */
export type StartBackupBody = z.infer<typeof startBackupBody>;

/** The body of `POST /api/backup-instances/{name}/restores`. */
export const startRestoreBody = z
  .object({
    /** The recovery point to restore; the latest when absent. */
    recoveryPointId: z.string().min(1).optional(),
    /** Restore into a new database of this name (see `restoreDatabaseNameRule`). */
    targetDatabaseName: z.string().optional(),
    /** The server of the new database; the protected database's server when absent. */
    targetServerName: z.string().min(1).optional(),
    /** A secret with a connection string for the target server; the instance's secret when absent. */
    secretUri: z.string().url().optional(),
    /** Restore as files into this folder (local provider: an absolute path). */
    targetFolder: z.string().min(1).optional(),
    /**
     * Restore as files into this blob container (Azure). With `targetDatabaseName` and
     * `secretUri` as well, the files are then loaded into that server (restore to a server).
     */
    targetContainerUrl: z.string().url().optional(),
    /**
     * ARM id of the container's storage account (or of the container), where the vault's identity
     * needs Storage Blob Data Contributor (Azure, with `targetContainerUrl`); when absent, the
     * account the URL names is looked up by its name.
     */
    targetStorageAccountId: z
      .string()
      .regex(
        /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/[^/]+(\/blobServices\/default\/containers\/[^/]+)?$/i,
        {
          message: "expected the ARM id of a storage account or of its blob container",
        },
      )
      .optional(),
    /** Restore to a server: the database whose dump to load, when the files hold several. */
    sourceDatabaseName: z.string().min(1).optional(),
    /** Prefix of the restored files' names. */
    filePrefix: z.string().min(1).optional(),
    /** The vault of the instance (or `?vault=`); every vault the app covers when absent. */
    vaultName: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (body) =>
      [
        body.targetContainerUrl === undefined ? body.targetDatabaseName : undefined,
        body.targetFolder,
        body.targetContainerUrl,
      ].filter((t) => t !== undefined).length === 1,
    {
      message:
        "name exactly one target: targetDatabaseName (a new database), targetFolder or targetContainerUrl (as files; with targetDatabaseName and secretUri, then loaded into that server)",
      path: ["targetDatabaseName"],
    },
  )
  .refine(
    (body) =>
      body.targetContainerUrl === undefined ||
      body.targetDatabaseName === undefined ||
      body.secretUri !== undefined,
    {
      message:
        "a restore to a server (targetContainerUrl with targetDatabaseName) needs secretUri: a secret with the target server's connection string",
      path: ["secretUri"],
    },
  )
  .refine(
    (body) =>
      body.sourceDatabaseName === undefined ||
      (body.targetContainerUrl !== undefined && body.targetDatabaseName !== undefined),
    {
      message: "sourceDatabaseName applies only to a restore to a server",
      path: ["sourceDatabaseName"],
    },
  );

/** A checked `POST /api/backup-instances/{name}/restores` body. */
export type StartRestoreBody = z.infer<typeof startRestoreBody>;

/**
 * Checks the names of a protection request against the service's rules.
 *
 * @throws InvalidInputError naming the rule that is broken.
 */
export function checkProtectionNames(body: StartProtectionBody): void {
  if (body.vaultName !== undefined) assertName(vaultNameRule, body.vaultName, "$.vaultName");
  assertName(policyNameRule, body.policyName, "$.policyName");
  if (body.serverName !== undefined) assertName(serverNameRule, body.serverName, "$.serverName");
  if (body.databaseName !== undefined)
    assertName(databaseNameRule, body.databaseName, "$.databaseName");
}

/**
 * Checks the names and paths of a restore against their rules, before anything is looked up: the
 * new database's name (never a template or a reserved database), the folder and the file prefix.
 *
 * @throws InvalidInputError naming the rule that is broken.
 */
export function checkRestoreNames(body: StartRestoreBody): void {
  if (body.targetDatabaseName !== undefined)
    assertName(restoreDatabaseNameRule, body.targetDatabaseName, "$.targetDatabaseName");
  if (body.targetServerName !== undefined)
    assertName(serverNameRule, body.targetServerName, "$.targetServerName");
  if (body.targetFolder !== undefined)
    assertName(restoreFolderRule, body.targetFolder, "$.targetFolder");
  if (body.filePrefix !== undefined)
    assertName(restoreFilePrefixRule, body.filePrefix, "$.filePrefix");
}
