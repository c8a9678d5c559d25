/**
 * Jobs as CSV (RFC 4180): one header line and one line per job, CRLF line ends, fields quoted
 * when they hold a comma, a quote or a line break. A field a spreadsheet would run as a formula
 * (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading apostrophe.
 */
import type { BackupJob } from "../protection/types.js";

/** The columns, in order: header and how each is read from a job. */
const columns: ReadonlyArray<readonly [string, (job: BackupJob) => string | number | undefined]> = [
  ["jobName", (job) => job.name],
  ["vault", (job) => job.vaultName],
  ["operation", (job) => job.operation],
  ["status", (job) => job.status],
  ["startTime", (job) => job.startTime],
  ["endTime", (job) => job.endTime],
  ["duration", (job) => job.duration],
  ["backupInstance", (job) => job.backupInstanceFriendlyName],
  ["datasource", (job) => job.dataSourceName],
  ["datasourceType", (job) => job.dataSourceType],
  ["policy", (job) => job.policyName],
  ["ruleName", (job) => job.ruleName],
  ["recoveryPointId", (job) => job.recoveryPointId],
  ["dataTransferredInBytes", (job) => job.dataTransferredInBytes],
  ["errorCode", (job) => job.errorDetails?.[0]?.code],
  ["jobId", (job) => job.id],
];

/** The media type of the export, with its header flag (RFC 4180). */
export const csvMediaType = "text/csv; charset=utf-8; header=present";

/** One CSV field. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header line, with its line end. */
export function csvHeader(): string {
  return `${columns.map(([name]) => name).join(",")}\r\n`;
}

/** The lines of the jobs, each with its line end. */
export function csvLines(jobs: readonly BackupJob[]): string {
  return jobs
    .map((job) => `${columns.map(([, read]) => csvField(read(job))).join(",")}\r\n`)
    .join("");
}
