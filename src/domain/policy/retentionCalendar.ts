/**
 * The retention calendar: a picture, one cell per day, of what a policy keeps, drawn from the
 * policy simulator's output (never from a rule of its own): the days backups are taken, how many
 * recovery points each tier holds that day, and the day each one is deleted, with a text
 * alternative for every cell.
 *
 * @remarks Days are UTC days. A cell counts a recovery point in a tier when its copy there exists
 * at any moment of the day (`[enteredAt, deletedAt)` overlaps the day). Only backups taken in the
 * window are drawn, as the simulator lists them; their deletions are named even after the window.
 */
import { InvalidInputError } from "../errors.js";
import { escapeHtml } from "../notifications/text.js";
import {
  parseInstant,
  whatIf,
  type InstantInput,
  type PolicySimulation,
  type SimulatedBackup,
} from "./simulation.js";

const msPerDay = 86_400_000;

/** One UTC day of a calendar. */
export interface CalendarDay {
  /** `2027-01-03`. */
  readonly date: string;
  /** Start of the day, epoch milliseconds. */
  readonly start: number;
  /** Backups taken this day. */
  readonly backups: readonly SimulatedBackup[];
  /** Recovery points whose VaultStore copy exists at some moment of the day. */
  readonly vaultStore: number;
  /** Recovery points whose ArchiveStore copy exists at some moment of the day. */
  readonly archiveStore: number;
  /** Backups (of the window) whose last copy is deleted this day. */
  readonly deletions: readonly SimulatedBackup[];
}

/** When a backup's last copy is deleted. */
export function deletedAt(backup: SimulatedBackup): number {
  return backup.archiveTo ?? backup.vaultTo;
}

function startOfUtcDay(ms: number): number {
  return Math.floor(ms / msPerDay) * msPerDay;
}

/**
 * The days of a simulation's window, each with the backups taken, the recovery points per tier and
 * the deletions that day.
 *
 * @remarks Counting per tier adds +1 at a copy's first day and -1 after its last, then sums, so
 * the work grows with days plus backups, not their product.
 */
export function calendarDays(simulation: PolicySimulation): CalendarDay[] {
  const first = startOfUtcDay(simulation.from);
  const count = Math.ceil((simulation.to - first) / msPerDay);
  const dayOf = (ms: number): number => Math.floor((ms - first) / msPerDay);
  const vaultDelta = new Array<number>(count + 1).fill(0);
  const archiveDelta = new Array<number>(count + 1).fill(0);
  const taken: SimulatedBackup[][] = Array.from({ length: count }, () => []);
  const deleted: SimulatedBackup[][] = Array.from({ length: count }, () => []);
  const addStay = (delta: number[], from: number, to: number | undefined): void => {
    if (to === undefined || !(from < to)) return;
    const a = Math.max(0, dayOf(from));
    const b = Math.min(count - 1, dayOf(to - 1));
    if (a > b) return;
    delta[a] = (delta[a] ?? 0) + 1;
    delta[b + 1] = (delta[b + 1] ?? 0) - 1;
  };
  for (const backup of simulation.backups) {
    taken[dayOf(backup.at)]?.push(backup);
    deleted[dayOf(deletedAt(backup))]?.push(backup);
    addStay(vaultDelta, backup.vaultFrom, backup.vaultTo);
    if (backup.archiveFrom !== undefined)
      addStay(archiveDelta, backup.archiveFrom, backup.archiveTo);
  }
  const days: CalendarDay[] = [];
  let vaultStore = 0;
  let archiveStore = 0;
  for (let i = 0; i < count; i++) {
    vaultStore += vaultDelta[i] ?? 0;
    archiveStore += archiveDelta[i] ?? 0;
    const start = first + i * msPerDay;
    days.push({
      date: new Date(start).toISOString().slice(0, 10),
      start,
      backups: taken[i] ?? [],
      vaultStore,
      archiveStore,
      deletions: deleted[i] ?? [],
    });
  }
  return days;
}

/** `2027-01-03 22:00` in UTC (seconds only when not zero). */
function utcTime(ms: number): string {
  const text = new Date(ms).toISOString();
  const seconds = text.slice(17, 23) === "00.000" ? "" : `:${text.slice(17, 19)}`;
  return `${text.slice(0, 10)} ${text.slice(11, 16)}${seconds}`;
}

/** Escapes text for SVG content and attribute values (the HTML escape is valid XML too). */
const xml = escapeHtml;

/** Where a backup is kept and until when, in words: the text alternative of its cell. */
export function describeKeeping(backup: SimulatedBackup): string {
  const taken = `backup at ${utcTime(backup.at).slice(11)}${backup.adhoc ? " (ad hoc)" : ""}, tag ${backup.tag} (rule ${backup.rule})`;
  const vault = `VaultStore until ${utcTime(backup.vaultTo)}`;
  const archive =
    backup.archiveFrom === undefined || backup.archiveTo === undefined
      ? ""
      : `, ArchiveStore from ${utcTime(backup.archiveFrom)} until ${utcTime(backup.archiveTo)}`;
  return `${taken}: ${vault}${archive}; expires ${utcTime(deletedAt(backup))}`;
}

function describeDay(day: CalendarDay): string {
  const parts = [`${day.date} (UTC)`];
  for (const backup of day.backups) parts.push(describeKeeping(backup));
  parts.push(
    `held this day: ${String(day.vaultStore)} in VaultStore, ${String(day.archiveStore)} in ArchiveStore`,
  );
  for (const backup of day.deletions)
    parts.push(
      `the backup of ${utcTime(backup.at)} expires (deleted ${utcTime(deletedAt(backup))})`,
    );
  return parts.join(". ");
}

/**
 * Colours of the calendar, each at least 3:1 against white and against the empty cell (WCAG 2.2
 * 1.4.11), with the text at 4.5:1 or more (1.4.3); tiers also differ by position in the cell
 * (upper half VaultStore, lower half ArchiveStore), so colour is never the only cue.
 */
export const calendarColours = {
  text: "#1f2937",
  vaultStore: "#1d4ed8",
  archiveStore: "#9a3412",
  empty: "#f3f4f6",
  outline: "#6b7280",
  backup: "#ffffff",
  deletion: "#111827",
} as const;

const cell = 16;
const gap = 2;
const left = 76;
const top = 52;
const monthNames = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
] as const;

/** How a calendar is titled. */
export interface CalendarLabels {
  /** The policy's name, for the title. */
  readonly policyName?: string;
}

/**
 * Draws a simulation as an SVG calendar: a row per month, a cell per day, a legend, a title and
 * a description, and for each cell a `title` saying what happens that day (also as `data-*`
 * attributes: `data-date`, `data-backups`, `data-vault-store`, `data-archive-store`,
 * `data-deletions`).
 */
export function renderRetentionCalendar(
  simulation: PolicySimulation,
  labels: CalendarLabels = {},
): string {
  const days = calendarDays(simulation);
  const c = calendarColours;
  const months: string[] = [];
  for (const day of days)
    if (months.at(-1) !== day.date.slice(0, 7)) months.push(day.date.slice(0, 7));
  const gridWidth = left + 31 * (cell + gap) + 8;
  const legendTop = top + months.length * (cell + gap) + 16;
  const height = legendTop + 56;
  const name = labels.policyName ?? simulation.policyName;
  const lastDay = days.at(-1)?.date ?? "";
  const title = `Retention calendar${name === undefined ? "" : ` of policy ${name}`}, ${days[0]?.date ?? ""} to ${lastDay} (UTC days)`;
  // A long policy name widens the picture rather than being cut off (about 9 px a character at 14 px bold).
  const width = Math.max(gridWidth, Math.ceil(title.length * 9) + 8);
  const maxVault = Math.max(0, ...days.map((d) => d.vaultStore));
  const maxArchive = Math.max(0, ...days.map((d) => d.archiveStore));
  const description = `${String(simulation.backups.length)} backups taken in the window, schedule time zone ${simulation.timeZone}. At most ${String(maxVault)} recovery points in VaultStore and ${String(maxArchive)} in ArchiveStore on one day. Each day's cell says which backups are taken, where each is kept until when, and which expire.`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" class="retention-calendar" width="${String(width)}" height="${String(height)}" viewBox="0 0 ${String(width)} ${String(height)}" font-family="system-ui, sans-serif" font-size="11" fill="${c.text}">`,
    `<title>${xml(title)}</title>`,
    `<desc>${xml(description)}</desc>`,
    `<text x="0" y="16" font-size="14" font-weight="bold">${xml(title)}</text>`,
  ];
  for (let d = 1; d <= 31; d++) {
    const x = left + (d - 1) * (cell + gap) + cell / 2;
    out.push(
      `<text x="${String(x)}" y="${String(top - 6)}" text-anchor="middle" aria-hidden="true">${String(d)}</text>`,
    );
  }
  months.forEach((month, row) => {
    const y = top + row * (cell + gap);
    const label = `${monthNames[Number(month.slice(5, 7)) - 1] ?? ""} ${month.slice(0, 4)}`;
    out.push(`<text x="0" y="${String(y + cell - 4)}" aria-hidden="true">${label}</text>`);
  });
  for (const day of days) {
    const row = months.indexOf(day.date.slice(0, 7));
    const x = left + (Number(day.date.slice(8, 10)) - 1) * (cell + gap);
    const y = top + row * (cell + gap);
    const half = cell / 2;
    out.push(
      `<g class="day" data-date="${day.date}" data-backups="${String(day.backups.length)}" data-vault-store="${String(day.vaultStore)}" data-archive-store="${String(day.archiveStore)}" data-deletions="${String(day.deletions.length)}">`,
      `<title>${xml(describeDay(day))}</title>`,
      `<rect x="${String(x)}" y="${String(y)}" width="${String(cell)}" height="${String(half)}" fill="${day.vaultStore > 0 ? c.vaultStore : c.empty}"/>`,
      `<rect x="${String(x)}" y="${String(y + half)}" width="${String(cell)}" height="${String(half)}" fill="${day.archiveStore > 0 ? c.archiveStore : c.empty}"/>`,
      `<rect x="${String(x + 0.5)}" y="${String(y + 0.5)}" width="${String(cell - 1)}" height="${String(cell - 1)}" fill="none" stroke="${c.outline}"/>`,
    );
    if (day.backups.length > 0) {
      out.push(
        `<circle cx="${String(x + half)}" cy="${String(y + half)}" r="4" fill="${c.backup}" stroke="${c.deletion}" stroke-width="1.5"/>`,
      );
    }
    if (day.deletions.length > 0) {
      out.push(`<path d="M${String(x + cell - 7)} ${String(y + 1)}h6v6z" fill="${c.deletion}"/>`);
    }
    out.push("</g>");
  }
  const legend: [string, string][] = [
    [
      `<rect width="${String(cell)}" height="${String(cell / 2)}" fill="${c.vaultStore}" stroke="${c.outline}"/>`,
      "VaultStore holds recovery points (upper half)",
    ],
    [
      `<rect y="${String(cell / 2)}" width="${String(cell)}" height="${String(cell / 2)}" fill="${c.archiveStore}" stroke="${c.outline}"/>`,
      "ArchiveStore holds recovery points (lower half)",
    ],
    [
      `<rect width="${String(cell)}" height="${String(cell)}" fill="${c.empty}" stroke="${c.outline}"/><circle cx="${String(cell / 2)}" cy="${String(cell / 2)}" r="4" fill="${c.backup}" stroke="${c.deletion}" stroke-width="1.5"/>`,
      "a backup is taken",
    ],
    [
      `<rect width="${String(cell)}" height="${String(cell)}" fill="${c.empty}" stroke="${c.outline}"/><path d="M${String(cell - 7)} 1h6v6z" fill="${c.deletion}"/>`,
      "a recovery point expires",
    ],
  ];
  out.push(
    `<g class="legend" transform="translate(0 ${String(legendTop)})">`,
    "<title>Legend</title>",
  );
  legend.forEach(([swatch, text], i) => {
    const x = (i % 2) * 300;
    const y = Math.floor(i / 2) * (cell + 8);
    out.push(
      `<g class="legend-item" transform="translate(${String(x)} ${String(y)})">${swatch}<text x="${String(cell + 6)}" y="${String(cell - 4)}">${xml(text)}</text></g>`,
    );
  });
  out.push("</g>", "</svg>");
  return `${out.join("\n")}\n`;
}

/** A calendar request as the API takes it. */
export interface RetentionCalendarRequest {
  /** A policy, bare or as a policy resource. */
  readonly policy: unknown;
  readonly policyName?: string;
  readonly from: InstantInput;
  readonly to: InstantInput;
}

/**
 * Validates the policy, simulates it over the window (bounded as every what-if is: 10 years,
 * 10,000 backups) and draws the calendar.
 *
 * @throws InvalidInputError for an invalid policy or window, or one beyond the limits.
 */
export function retentionCalendar(request: RetentionCalendarRequest): string {
  const { simulation } = whatIf({ policy: request.policy, from: request.from, to: request.to });
  return renderRetentionCalendar(
    simulation,
    request.policyName === undefined ? {} : { policyName: request.policyName },
  );
}

/** The window a calendar request names. */
export interface CalendarWindow {
  readonly from: InstantInput;
  readonly to: InstantInput;
}

/**
 * The window of a calendar: a whole UTC year when `year` is given, else `from` and `to` (each
 * defaulting to today's UTC midnight and 12 months after `from`).
 *
 * @throws InvalidInputError `CALENDAR_YEAR_INVALID`, `SIMULATION_INSTANT_INVALID`.
 */
export function calendarWindow(
  query: { readonly year?: string; readonly from?: string; readonly to?: string },
  now: Date,
): CalendarWindow {
  if (query.year !== undefined) {
    const year = /^\d{4}$/.test(query.year) ? Number(query.year) : Number.NaN;
    if (!(year >= 1970)) {
      throw new InvalidInputError(
        "CALENDAR_YEAR_INVALID",
        `year: '${query.year}' is not a year from 1970 to 9999`,
        [{ path: "year", code: "CALENDAR_YEAR_INVALID", message: "a year like 2027" }],
      );
    }
    return { from: Date.UTC(year, 0, 1), to: Date.UTC(year + 1, 0, 1) };
  }
  const instant = (text: string, path: string): number => {
    const ms = parseInstant(text);
    if (ms === undefined) {
      throw new InvalidInputError(
        "SIMULATION_INSTANT_INVALID",
        `${path}: '${text}' is not an instant like 2027-01-01 or 2027-01-01T00:00:00Z`,
        [{ path, code: "SIMULATION_INSTANT_INVALID", message: "an instant like 2027-01-01" }],
      );
    }
    return ms;
  };
  const from =
    query.from === undefined ? startOfUtcDay(now.getTime()) : instant(query.from, "from");
  if (query.to !== undefined) return { from, to: instant(query.to, "to") };
  const start = new Date(from);
  return {
    from,
    to: Date.UTC(
      start.getUTCFullYear() + 1,
      start.getUTCMonth(),
      start.getUTCDate(),
      start.getUTCHours(),
      start.getUTCMinutes(),
      start.getUTCSeconds(),
      start.getUTCMilliseconds(),
    ),
  };
}
