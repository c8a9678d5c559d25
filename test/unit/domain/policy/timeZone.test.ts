import { describe, expect, it } from "vitest";
import {
  fixedOffsetZone,
  formatUtcOffset,
  parseUtcOffset,
  resolveTimeZone,
  type ScheduleTimeZone,
} from "../../../../src/domain/policy/timeZone.js";

const ms = (iso: string): number => Date.parse(iso);
const wall = (iso: string): number => Date.parse(`${iso}Z`);
const iso = (epochMs: number): string => new Date(epochMs).toISOString();

function zone(name: string): ScheduleTimeZone {
  const resolved = resolveTimeZone(name);
  if (!resolved) throw new Error(`unknown zone ${name}`);
  return resolved;
}

describe("parseUtcOffset and formatUtcOffset", () => {
  it("reads Z, positive and negative offsets in minutes", () => {
    // Act
    const offsets = ["Z", "+00:00", "+05:30", "-03:00", "+14:00", "-09:30"].map(parseUtcOffset);
    // Assert
    expect(offsets).toEqual([0, 0, 330, -180, 840, -570]);
  });

  it.each(["+5:30", "05:30", "+15:00", "+05:60", "UTC", ""])("refuses '%s'", (text) => {
    // Act
    const offset = parseUtcOffset(text);
    // Assert
    expect(offset).toBeUndefined();
  });

  it("writes minutes back as +hh:mm", () => {
    // Act
    const texts = [0, 330, -180, -570].map((minutes) => formatUtcOffset(minutes));
    // Assert
    expect(texts).toEqual(["+00:00", "+05:30", "-03:00", "-09:30"]);
  });
});

describe("resolveTimeZone", () => {
  it("treats a missing, null, empty, UTC or Z zone as fixed UTC", () => {
    // Act
    const zones = [undefined, null, "", "UTC", "Z"].map((name) => resolveTimeZone(name));
    // Assert
    for (const resolved of zones) {
      expect(resolved?.fixed).toBe(true);
      expect(resolved?.offsetMinutesAt(ms("2026-07-01T00:00:00Z"))).toBe(0);
    }
  });

  it("gives a fixed +05:30 zone a constant offset and converts its wall clock by it", () => {
    // Act
    const india = zone("+05:30");
    // Assert
    expect(india.fixed).toBe(true);
    expect(india.offsetMinutesAt(ms("2026-01-01T00:00:00Z"))).toBe(330);
    expect(iso(india.wallToEpoch(wall("2026-01-04T02:00:00")))).toBe("2026-01-03T20:30:00.000Z");
  });

  it("maps the Windows names the portal writes to the zones they stand for", () => {
    // Act
    const berlin = zone("W. Europe Standard Time");
    const india = zone("India Standard Time");
    // Assert
    expect(berlin.fixed).toBe(false);
    expect(berlin.offsetMinutesAt(ms("2026-01-15T12:00:00Z"))).toBe(60);
    expect(berlin.offsetMinutesAt(ms("2026-07-15T12:00:00Z"))).toBe(120);
    expect(india.offsetMinutesAt(ms("2026-07-15T12:00:00Z"))).toBe(330);
  });

  it("returns undefined for a zone it does not know", () => {
    // Act
    const resolved = resolveTimeZone("Mars/Olympus_Mons");
    // Assert
    expect(resolved).toBeUndefined();
  });
});

describe("named zones around daylight saving changes", () => {
  const berlin = zone("Europe/Berlin");
  const newYork = zone("America/New_York");

  it("switches Berlin's offset exactly at 01:00 UTC on the last Sundays of March and October", () => {
    // Act
    const offsets = [
      berlin.offsetMinutesAt(ms("2026-03-29T00:59:59Z")),
      berlin.offsetMinutesAt(ms("2026-03-29T01:00:00Z")),
      berlin.offsetMinutesAt(ms("2026-10-25T00:59:59Z")),
      berlin.offsetMinutesAt(ms("2026-10-25T01:00:00Z")),
    ];
    // Assert
    expect(offsets).toEqual([60, 120, 120, 60]);
  });

  it("converts ordinary Berlin wall-clock times with the offset in force", () => {
    // Act
    const winter = berlin.wallToEpoch(wall("2026-01-10T22:00:00"));
    const summer = berlin.wallToEpoch(wall("2026-07-10T22:00:00"));
    const afterSwitch = berlin.wallToEpoch(wall("2026-03-29T05:00:00"));
    // Assert
    expect(iso(winter)).toBe("2026-01-10T21:00:00.000Z");
    expect(iso(summer)).toBe("2026-07-10T20:00:00.000Z");
    expect(iso(afterSwitch)).toBe("2026-03-29T03:00:00.000Z");
  });

  it("moves a wall-clock time the spring-forward skips ahead by the gap, east and west of UTC", () => {
    // Act: 02:30 does not exist on these days.
    const inBerlin = berlin.wallToEpoch(wall("2026-03-29T02:30:00"));
    const inNewYork = newYork.wallToEpoch(wall("2026-03-08T02:30:00"));
    // Assert: both run at 03:30 summer time.
    expect(iso(inBerlin)).toBe("2026-03-29T01:30:00.000Z");
    expect(iso(inNewYork)).toBe("2026-03-08T07:30:00.000Z");
  });

  it("takes the first of the two instants a fall-back shows the same wall-clock time, east and west of UTC", () => {
    // Act: 02:30 in Berlin and 01:30 in New York happen twice on these days.
    const inBerlin = berlin.wallToEpoch(wall("2026-10-25T02:30:00"));
    const inNewYork = newYork.wallToEpoch(wall("2026-11-01T01:30:00"));
    // Assert: the summer-time instants.
    expect(iso(inBerlin)).toBe("2026-10-25T00:30:00.000Z");
    expect(iso(inNewYork)).toBe("2026-11-01T05:30:00.000Z");
  });

  it("round-trips every half hour of a year in Berlin outside the skipped hour", () => {
    // Arrange
    const start = ms("2026-01-01T00:00:00Z");
    const mismatches: string[] = [];
    // Act
    for (let at = start; at < start + 366 * 86_400_000; at += 1_800_000) {
      const wallMs = at + berlin.offsetMinutesAt(at) * 60_000;
      const back = berlin.wallToEpoch(wallMs);
      // A fall-back hour's second pass maps to its first: the same wall time an hour earlier.
      const ambiguousSecond = back === at - 3_600_000 && berlin.offsetMinutesAt(back) === 120;
      if (back !== at && !ambiguousSecond) mismatches.push(iso(at));
    }
    // Assert
    expect(mismatches).toEqual([]);
  });
});

describe("fixedOffsetZone", () => {
  it("names itself by its offset unless given a name", () => {
    // Act
    const unnamed = fixedOffsetZone(-180);
    const named = fixedOffsetZone(330, "India");
    // Assert
    expect(unnamed.name).toBe("-03:00");
    expect(named.name).toBe("India");
  });
});
