/**
 * What the client commands print: tables and key/value lists for people, colours on a terminal
 * only, times and durations in short forms.
 */
import pc from "picocolors";
import type { JobAlarmMark } from "../../domain/history/alarmMarks.js";
import type { BackupJob } from "../../domain/protection/types.js";

/** The colour functions the output uses; all identity when colour is off. */
export type Colors = ReturnType<typeof pc.createColors>;

/** Whether a stream is a terminal (the io's streams are plain writables in tests). */
export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/**
 * Colour for a stream: on a terminal, unless `NO_COLOR` is set (https://no-color.org);
 * `FORCE_COLOR` turns it on anywhere.
 */
export function colorsFor(
  stream: NodeJS.WritableStream,
  env: Readonly<Record<string, string | undefined>>,
): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const enabled =
    forced || (isTerminal(stream) && env.NO_COLOR === undefined && env.TERM !== "dumb");
  return pc.createColors(enabled);
}

/** Colours a state word by what it means: done green, failed red, running cyan. */
export function stateColor(colors: Colors, state: string): string {
  switch (state) {
    case "Completed":
    case "Protected":
    case "AlreadyProtected":
    case "ProtectionConfigured":
    case "done":
      return colors.green(state);
    case "Failed":
    case "ProtectionError":
    case "failed":
      return colors.red(state);
    case "Cancelled":
    case "Canceled":
    case "Terminated":
    case "ProtectionStopped":
    case "skipped":
      return colors.yellow(state);
    default:
      return colors.cyan(state);
  }
}

/**
 * A table without borders, columns padded to their widest cell; `paint` colours a cell after
 * padding, so colour codes never skew the columns.
 */
export function table(
  colors: Colors,
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  paint: (column: number, cell: string, padded: string) => string = (_c, _v, padded) => padded,
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (
    cells: readonly string[],
    painter: (column: number, cell: string, padded: string) => string,
  ) =>
    cells
      .map((cell, column) => {
        const last = column === cells.length - 1;
        const padded = last ? cell : cell.padEnd(widths[column] ?? 0);
        return painter(column, cell, padded);
      })
      .join("  ")
      .trimEnd();
  return [
    line(headers, (_c, _v, padded) => colors.bold(padded)),
    ...rows.map((row) => line(row, paint)),
  ].join("\n");
}

/** Labelled values, one a line, labels aligned; absent values are left out. */
export function keyValues(
  colors: Colors,
  pairs: ReadonlyArray<readonly [string, string | undefined | null]>,
): string {
  const shown = pairs.filter(
    (pair): pair is readonly [string, string] => typeof pair[1] === "string" && pair[1] !== "",
  );
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${colors.dim(label.padEnd(width))}  ${value}`).join("\n");
}

/** An instant as `2026-12-07 15:40:01Z`, or `-`. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return time
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** A duration in milliseconds as `8s`, `3m 05s` or `2h 04m`. */
export function shortDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** An ISO 8601 duration as the service gives it (`PT1M5.2S`) in the short form, or as is. */
export function isoDuration(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const match = /^P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(value);
  if (!match) return value;
  const [, d, h, m, s] = match;
  return shortDuration(
    ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 + Number(s ?? 0) * 1000,
  );
}

/** `server/database` (or the server) from a datasource's ARM id, or the id itself. */
export function datasourceLabel(id: string | null | undefined): string | undefined {
  if (!id) return undefined;
  const database = /\/(?:flexibleServers|servers)\/([^/]+)\/databases\/([^/]+)$/i.exec(id);
  if (database) return `${database[1]}/${database[2]}`;
  const server = /\/(?:flexibleServers|servers)\/([^/]+)$/i.exec(id);
  return server?.[1] ?? id;
}

/** A job as `GET /api/jobs` answers it: with its alarms when the app keeps a job history. */
export type ListedJob = BackupJob & { readonly alarms?: readonly JobAlarmMark[] };

/** The alarms of a job, in words: `stuck`, `anomaly`, both, or `-`. */
export function jobAlarmsOf(job: ListedJob): string {
  return [...new Set((job.alarms ?? []).map((alarm) => alarm.kind))].join(",") || "-";
}
