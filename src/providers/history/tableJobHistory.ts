/**
 * The job history in Azure Table Storage: the table `<TASKHUB_NAME>History` of the host's storage
 * account, shared by every instance of the app.
 *
 * @remarks Jobs are partitioned by the month they started, newest month first (`j` and the month
 * counted down), and ordered in a partition by start time counted down, so the service's own order
 * (partition, then row key) is newest first and a page needs no sort across partitions. A job's
 * keys derive from its start and id, which never change, so recording it again finds the same
 * entity; a later state replaces it only through an ETag-conditional update (two writers: the
 * second re-reads and yields to a state at least as far along). An alarm is inserted once under
 * its event id in the partition `alarm`.
 */
import { createHash } from "node:crypto";
import { odata, type TableClient, type TableEntityResult } from "@azure/data-tables";
import {
  compareNewestFirst,
  cursorAt,
  isAfterCursor,
  matchesJobFilter,
  statusRank,
  type JobHistoryPage,
  type JobHistoryQuery,
} from "../../domain/history/jobQuery.js";
import type { BackupJob } from "../../domain/protection/types.js";
import type { AlarmRecord, CompletedJobsQuery, JobHistoryPort } from "../ports.js";
import { openTableOnce, statusOf, type HistoryTableConnector } from "./historyTable.js";

export type { HistoryTableConnector } from "./historyTable.js";

/**
 * The table's name for a task hub. Not `<hub>History`: that is the Durable Functions Azure Storage
 * provider's own table of orchestration histories in the same account.
 */
export function historyTableName(taskHub: string): string {
  return `${taskHub}JobHistory`;
}

const ALARM_PARTITION = "alarm";
/** Larger than every start in ms for ten thousand years: the countdown keeps a fixed width. */
const MS_CEILING = 999_999_999_999_999;

interface JobEntity {
  partitionKey: string;
  rowKey: string;
  jobKey: string;
  name: string;
  /** The start, normalized to `toISOString()`: fixed width, so string order is time order. */
  start: string;
  status: string;
  rank: number;
  category: string;
  instanceKey: string;
  job: string;
}

interface AlarmEntity {
  partitionKey: string;
  rowKey: string;
  kind: string;
  jobKey: string;
  /** Normalized to `toISOString()`, compared as a string in filters. */
  at: string;
  event: string;
  published: boolean;
}

function monthPartition(ms: number): string {
  const date = new Date(ms);
  const month = date.getUTCFullYear() * 12 + date.getUTCMonth();
  return `j${String(999_999 - month).padStart(6, "0")}`;
}

function jobKeys(job: BackupJob): { partitionKey: string; rowKey: string } {
  const start = Date.parse(job.startTime);
  const countdown = String(MS_CEILING - start).padStart(15, "0");
  const id = createHash("sha256").update(job.id.toLowerCase()).digest("hex").slice(0, 32);
  return { partitionKey: monthPartition(start), rowKey: `${countdown}_${id}` };
}

/** The Table Storage job history; see the module's remarks. */
export class TableJobHistory implements JobHistoryPort {
  readonly #client: () => Promise<TableClient>;

  constructor(connect: HistoryTableConnector) {
    this.#client = openTableOnce(connect);
  }

  /** @inheritdoc */
  async recordJobs(jobs: readonly BackupJob[]): Promise<void> {
    const client = await this.#client();
    for (const job of jobs) await recordJob(client, job);
  }

  /** @inheritdoc */
  async queryJobs(query: JobHistoryQuery): Promise<JobHistoryPage> {
    const client = await this.#client();
    const bounds: string[] = [odata`PartitionKey ge ${"j"} and PartitionKey lt ${"k"}`];
    const newest = [query.to, query.after?.s].filter((t): t is string => t !== undefined);
    if (newest.length > 0) {
      const ms = Math.min(...newest.map((t) => Date.parse(t)));
      bounds.push(odata`PartitionKey ge ${monthPartition(ms)}`);
    }
    if (query.from !== undefined)
      bounds.push(odata`PartitionKey le ${monthPartition(Date.parse(query.from))}`);
    if (query.status && query.status.length > 0)
      bounds.push(`(${query.status.map((status) => odata`status eq ${status}`).join(" or ")})`);
    bounds.push(...serviceFilters(query));
    const found: BackupJob[] = [];
    for await (const entity of client.listEntities<JobEntity>({
      queryOptions: { filter: bounds.join(" and ") },
    })) {
      const job = JSON.parse(entity.job) as BackupJob;
      if (!matchesJobFilter(job, query) || !isAfterCursor(job, query.after)) continue;
      const last = found.at(-1);
      // Past a full page, only ties on the last start may still sort before it.
      if (
        found.length > query.top &&
        last &&
        Date.parse(job.startTime) !== Date.parse(last.startTime)
      )
        break;
      found.push(job);
    }
    found.sort(compareNewestFirst);
    const value = found.slice(0, query.top);
    const last = value.at(-1);
    return found.length > query.top && last ? { value, next: cursorAt(last) } : { value };
  }

  /** @inheritdoc */
  async runningJobs(): Promise<BackupJob[]> {
    const client = await this.#client();
    const jobs: BackupJob[] = [];
    for await (const entity of client.listEntities<JobEntity>({
      queryOptions: {
        filter: odata`PartitionKey ge ${"j"} and PartitionKey lt ${"k"} and status eq ${"InProgress"}`,
      },
    }))
      jobs.push(JSON.parse(entity.job) as BackupJob);
    return jobs.sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  }

  /** @inheritdoc */
  async completedJobs(query: CompletedJobsQuery): Promise<BackupJob[]> {
    const client = await this.#client();
    const before = Date.parse(query.startedBefore);
    const jobs: BackupJob[] = [];
    for await (const entity of client.listEntities<JobEntity>({
      queryOptions: {
        filter: odata`PartitionKey ge ${monthPartition(before)} and PartitionKey lt ${"k"} and instanceKey eq ${query.backupInstanceId.toLowerCase()} and category eq ${query.operationCategory} and status eq ${"Completed"} and start lt ${new Date(before).toISOString()}`,
      },
    })) {
      jobs.push(JSON.parse(entity.job) as BackupJob);
      if (jobs.length >= query.limit) break;
    }
    return jobs;
  }

  /** @inheritdoc */
  async recordAlarm(alarm: AlarmRecord): Promise<AlarmRecord> {
    const client = await this.#client();
    const entity: AlarmEntity = {
      partitionKey: ALARM_PARTITION,
      rowKey: alarm.id,
      kind: alarm.kind,
      jobKey: alarm.jobId.toLowerCase(),
      at: new Date(alarm.at).toISOString(),
      event: JSON.stringify(alarm.event),
      published: false,
    };
    try {
      await client.createEntity(entity);
      return { ...alarm, published: false };
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    return alarmOf(await client.getEntity<AlarmEntity>(ALARM_PARTITION, alarm.id), alarm.jobId);
  }

  /** @inheritdoc */
  async markAlarmPublished(id: string): Promise<void> {
    const client = await this.#client();
    await client.updateEntity(
      { partitionKey: ALARM_PARTITION, rowKey: id, published: true },
      "Merge",
    );
  }

  /** @inheritdoc */
  async alarmsOfJob(jobId: string): Promise<AlarmRecord[]> {
    const client = await this.#client();
    const alarms: AlarmRecord[] = [];
    for await (const entity of client.listEntities<AlarmEntity>({
      queryOptions: {
        filter: odata`PartitionKey eq ${ALARM_PARTITION} and jobKey eq ${jobId.toLowerCase()}`,
      },
    }))
      alarms.push(alarmOf(entity, jobId));
    return alarms.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }

  /** @inheritdoc */
  async prune(before: string): Promise<number> {
    const client = await this.#client();
    const cutoff = Date.parse(before);
    const cutoffText = new Date(cutoff).toISOString();
    let removed = 0;
    for await (const entity of client.listEntities<JobEntity>({
      queryOptions: {
        filter: odata`PartitionKey ge ${monthPartition(cutoff)} and PartitionKey lt ${"k"} and start lt ${cutoffText}`,
        select: ["PartitionKey", "RowKey"],
      },
    })) {
      await deleteIfThere(client, entity.partitionKey, entity.rowKey);
      removed += 1;
    }
    for await (const entity of client.listEntities<AlarmEntity>({
      queryOptions: {
        filter: odata`PartitionKey eq ${ALARM_PARTITION} and at lt ${cutoffText}`,
        select: ["PartitionKey", "RowKey"],
      },
    }))
      await deleteIfThere(client, entity.partitionKey, entity.rowKey);
    return removed;
  }
}

/** A backup instance's ARM id (`.../backupVaults/{vault}/backupInstances/{name}`), lower case. */
const INSTANCE_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/[^/]+\/backupvaults\/[^/]+\/backupinstances\/[^/]+$/;

/**
 * The parts of a query the service can filter on, over the entity's `instanceKey` (the instance's
 * ARM id, lower case) and `category`: an instance named by ARM id, a vault resolved to its id (a
 * key range: every instance id of the vault starts with it), and the operations' categories.
 * What they cannot say (an instance's or datasource's name, backup on demand or on schedule) the
 * client still checks, with every other filter, on each entity read.
 */
function serviceFilters(query: JobHistoryQuery): string[] {
  const filters: string[] = [];
  const instance = query.instance?.toLowerCase();
  if (instance !== undefined && INSTANCE_ID.test(instance))
    filters.push(odata`instanceKey eq ${instance}`);
  if (query.vaultId !== undefined) {
    const prefix = `${query.vaultId.toLowerCase()}/backupinstances/`;
    // The smallest string after every one that starts with the prefix: its last character raised.
    const end = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
    filters.push(odata`instanceKey ge ${prefix} and instanceKey lt ${end}`);
  }
  if (query.operation && query.operation.length > 0) {
    const categories = [
      ...new Set(
        query.operation.map((operation) => (operation === "Restore" ? "Restore" : "Backup")),
      ),
    ];
    filters.push(`(${categories.map((category) => odata`category eq ${category}`).join(" or ")})`);
  }
  return filters;
}

async function deleteIfThere(client: TableClient, partitionKey: string, rowKey: string) {
  try {
    await client.deleteEntity(partitionKey, rowKey);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

/**
 * Records one job: inserted when new; otherwise replaced, conditionally on the ETag read, when the
 * state given is at least as far along and says something new. A lost race reads again.
 */
async function recordJob(client: TableClient, job: BackupJob): Promise<void> {
  const keys = jobKeys(job);
  const entity: JobEntity = {
    ...keys,
    jobKey: job.id.toLowerCase(),
    name: job.name,
    start: new Date(job.startTime).toISOString(),
    status: job.status,
    rank: statusRank(job.status),
    category: job.operationCategory,
    instanceKey: job.backupInstanceId.toLowerCase(),
    job: JSON.stringify(job),
  };
  for (;;) {
    let existing: TableEntityResult<JobEntity> | undefined;
    try {
      existing = await client.getEntity<JobEntity>(keys.partitionKey, keys.rowKey);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (!existing) {
      try {
        await client.createEntity(entity);
        return;
      } catch (error) {
        if (statusOf(error) === 409) continue;
        throw error;
      }
    }
    if (existing.rank > entity.rank || existing.job === entity.job) return;
    try {
      await client.updateEntity(entity, "Replace", { etag: existing.etag });
      return;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) continue;
      throw error;
    }
  }
}

function alarmOf(entity: AlarmEntity, jobId: string): AlarmRecord {
  return {
    id: entity.rowKey,
    kind: entity.kind as AlarmRecord["kind"],
    jobId,
    at: entity.at,
    event: JSON.parse(entity.event) as AlarmRecord["event"],
    published: entity.published === true,
  };
}
