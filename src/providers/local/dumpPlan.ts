/**
 * Which format a database's dump takes: `pg_dump -Fd -j N` where the database has several tables
 * big enough for parallel jobs to share, else one `pg_dump -Fc` file (small and single-table
 * databases gain nothing from a folder of files and the extra worker connections).
 */
import type pg from "pg";

/** Bytes from which a table counts towards a parallel dump, by default (16 MiB). */
export const PARALLEL_TABLE_MIN_BYTES = 16 * 1024 * 1024;

/** A dump's format and its parallel jobs. */
export interface DumpPlan {
  readonly format: "custom" | "directory";
  /** Parallel jobs of `pg_dump -j` (1 for the custom format). */
  readonly jobs: number;
}

/** The custom format: one file, one job. */
export const SINGLE_FILE_DUMP: DumpPlan = { format: "custom", jobs: 1 };

/**
 * The plan for a database with `largeTables` tables of at least the threshold's size: one job
 * per such table, at most `maxJobs` (the setting) and `cores`; the directory format from 2 jobs.
 */
export function dumpPlanFor(largeTables: number, maxJobs: number, cores: number): DumpPlan {
  const jobs = parallelJobs(Math.min(maxJobs, largeTables), cores);
  return jobs >= 2 ? { format: "directory", jobs } : SINGLE_FILE_DUMP;
}

/** Parallel jobs for a tool: the setting, bounded by the cores, at least 1. */
export function parallelJobs(maxJobs: number, cores: number): number {
  return Math.max(1, Math.min(Math.floor(maxJobs), Math.floor(cores)));
}

/**
 * Counts the user tables (and materialized views) of the connected database that take at least
 * `minBytes` (heap and TOAST), from the catalogue's page counts as of the last VACUUM or ANALYZE:
 * no table is read, and none is locked (a size function would wait behind a table's lock).
 */
export async function largeTableCount(client: pg.Client, minBytes: number): Promise<number> {
  const result = await client.query<{ count: number }>(
    `SELECT pg_catalog.count(*)::int AS count
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
      WHERE c.relkind IN ('r', 'm')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
        AND (c.relpages::bigint + COALESCE(t.relpages, 0)::bigint)
            * pg_catalog.current_setting('block_size')::bigint >= $1::bigint`,
    [minBytes],
  );
  return result.rows[0]?.count ?? 0;
}
