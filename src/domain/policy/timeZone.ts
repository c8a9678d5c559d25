/**
 * Time zones of backup schedules: `UTC`, `Z`, fixed offsets (`+05:30`), IANA names
 * (`Europe/Berlin`) and the Windows names the Azure portal writes (`W. Europe Standard Time`).
 */

/** A time zone that maps instants to wall-clock times and back. */
export interface ScheduleTimeZone {
  /** The name as written in the policy. */
  readonly name: string;
  /** True when the offset never changes (UTC or a fixed offset): arithmetic needs no lookups. */
  readonly fixed: boolean;
  /** Offset from UTC, in minutes, at an instant. */
  offsetMinutesAt(epochMs: number): number;
  /** The instant whose wall-clock time (expressed as UTC milliseconds) is `wallMs`. */
  wallToEpoch(wallMs: number): number;
}

/** Windows time zone names the Azure portal uses, mapped to IANA names. */
const windowsZones: Readonly<Record<string, string>> = {
  "Coordinated Universal Time": "UTC",
  UTC: "UTC",
  "GMT Standard Time": "Europe/London",
  "W. Europe Standard Time": "Europe/Berlin",
  "Central Europe Standard Time": "Europe/Budapest",
  "Romance Standard Time": "Europe/Paris",
  "E. Europe Standard Time": "Europe/Chisinau",
  "FLE Standard Time": "Europe/Kiev",
  "Russian Standard Time": "Europe/Moscow",
  "India Standard Time": "Asia/Kolkata",
  "China Standard Time": "Asia/Shanghai",
  "Singapore Standard Time": "Asia/Singapore",
  "Tokyo Standard Time": "Asia/Tokyo",
  "Korea Standard Time": "Asia/Seoul",
  "AUS Eastern Standard Time": "Australia/Sydney",
  "New Zealand Standard Time": "Pacific/Auckland",
  "Eastern Standard Time": "America/New_York",
  "Central Standard Time": "America/Chicago",
  "Mountain Standard Time": "America/Denver",
  "Pacific Standard Time": "America/Los_Angeles",
  "E. South America Standard Time": "America/Sao_Paulo",
  "South Africa Standard Time": "Africa/Johannesburg",
  "Arabian Standard Time": "Asia/Dubai",
};

const offsetPattern = /^([+-])(\d{2}):(\d{2})$/;

/** Parses `Z`, `+hh:mm` or `-hh:mm` into minutes; `undefined` when it is not one. */
export function parseUtcOffset(text: string): number | undefined {
  if (text === "Z") return 0;
  const match = offsetPattern.exec(text);
  if (!match) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  if (hours > 14 || minutes > 59) return undefined;
  return (match[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

/** A zone with a constant offset. */
export function fixedOffsetZone(
  offsetMinutes: number,
  name = formatUtcOffset(offsetMinutes),
): ScheduleTimeZone {
  const offsetMs = offsetMinutes * 60_000;
  return {
    name,
    fixed: true,
    offsetMinutesAt: () => offsetMinutes,
    wallToEpoch: (wallMs) => wallMs - offsetMs,
  };
}

/** Formats minutes as `+hh:mm`. */
export function formatUtcOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const absolute = Math.abs(offsetMinutes);
  const hours = String(Math.floor(absolute / 60)).padStart(2, "0");
  const minutes = String(absolute % 60).padStart(2, "0");
  return `${sign}${hours}:${minutes}`;
}

function ianaZone(name: string, iana: string): ScheduleTimeZone {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: iana,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  const offsetMinutesAt = (epochMs: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(epochMs))) {
      if (part.type !== "literal") parts[part.type] = Number(part.value);
    }
    const wall = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return Math.round((wall - (epochMs - (epochMs % 1000))) / 60_000);
  };
  return {
    name,
    fixed: false,
    offsetMinutesAt,
    wallToEpoch: (wallMs) => {
      // Try the offsets in force a day before and a day after (no zone changes twice within two
      // days). A wall time the clock shows twice (fall-back) takes the earlier instant; one it
      // skips (spring-forward) moves forward by the gap, as RFC 5545 and JavaScript's Date do.
      // Seeding from the wall time itself would resolve both cases differently east and west of UTC.
      const offsetBefore = offsetMinutesAt(wallMs - 86_400_000);
      const offsetAfter = offsetMinutesAt(wallMs + 86_400_000);
      const withBefore = wallMs - offsetBefore * 60_000;
      if (offsetMinutesAt(withBefore) === offsetBefore) return withBefore;
      const withAfter = wallMs - offsetAfter * 60_000;
      if (offsetMinutesAt(withAfter) === offsetAfter) return withAfter;
      return withBefore;
    },
  };
}

/**
 * Resolves a schedule's `timeZone`.
 *
 * @returns the zone, or `undefined` when the name is not one this code knows.
 */
export function resolveTimeZone(name: string | null | undefined): ScheduleTimeZone | undefined {
  if (name === undefined || name === null || name === "" || name === "UTC" || name === "Z") {
    return fixedOffsetZone(0, name ?? "UTC");
  }
  const offset = parseUtcOffset(name);
  if (offset !== undefined) return fixedOffsetZone(offset, name);
  const iana = windowsZones[name] ?? name;
  if (iana === "UTC") return fixedOffsetZone(0, name);
  try {
    return ianaZone(name, iana);
  } catch {
    return undefined;
  }
}
