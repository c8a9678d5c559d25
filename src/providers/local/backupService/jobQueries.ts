/** Reading the local service's jobs: one by id, or a vault's filtered, oldest first. */
import { InvalidInputError } from "../../../domain/errors.js";
import { sameResourceId } from "../../../domain/protection/ids.js";
import type { BackupJob } from "../../../domain/protection/types.js";
import type { JobFilter } from "../../ports.js";
import type { LocalServiceContext } from "./context.js";
import { instanceNameOf, publicJob, type StoredJob } from "./jobRecords.js";

/** A job by id or name. @throws NotFoundError `ResourceNotFound`. */
export async function getJob(
  context: LocalServiceContext,
  vaultId: string,
  jobId: string,
): Promise<BackupJob> {
  const { vault } = await context.vault(vaultId);
  const name = jobId.split("/").pop() ?? "";
  const job = /^[0-9a-f-]{36}$/i.test(name)
    ? await vault.readRecord<StoredJob>("backupJobs", name.toLowerCase())
    : undefined;
  if (!job) throw context.notFound(`Job '${name}' was not found in the vault`);
  return publicJob(job);
}

/** The jobs of a vault that pass the filter, oldest first. */
export async function listJobs(
  context: LocalServiceContext,
  vaultId: string,
  filter: JobFilter,
): Promise<BackupJob[]> {
  const { vault } = await context.vault(vaultId);
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  if (since !== undefined && Number.isNaN(since)) {
    throw new InvalidInputError(
      "INVALID_WATERMARK",
      `'${filter.since}' is not an ISO 8601 instant`,
      [{ path: "$.since", code: "INVALID_WATERMARK", message: "use an ISO 8601 instant" }],
    );
  }
  return (await vault.listRecords<StoredJob>("backupJobs"))
    .filter(
      (job) =>
        (!filter.status || filter.status.includes(job.status)) &&
        (!filter.operation || filter.operation.includes(job.operation)) &&
        (!filter.datasourceId || sameResourceId(job.dataSourceId, filter.datasourceId)) &&
        (!filter.backupInstanceName || instanceNameOf(job) === filter.backupInstanceName) &&
        (since === undefined ||
          Date.parse(job.startTime) >= since ||
          (job.endTime !== undefined && Date.parse(job.endTime) >= since)),
    )
    .sort(
      (a, b) => Date.parse(a.startTime) - Date.parse(b.startTime) || a.name.localeCompare(b.name),
    )
    .map(publicJob);
}
