import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  localResourceEventsSchedule,
  publishResourceChanges,
  ResourceEventPoll,
  watermarkFile,
} from "../../../src/application/localResourceEvents.js";
import { occurrencesBetween, parseCronSchedule } from "../../../src/domain/plans/cron.js";
import type { ResourceDirectoryPort } from "../../../src/providers/ports.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("local resource events: reacting within seconds", () => {
  it("looks at the directory at least every two seconds, so a tag is acted on within seconds", () => {
    // Arrange
    const schedule = parseCronSchedule(localResourceEventsSchedule);
    const from = new Date("2026-12-07T10:00:00.000Z");

    // Act
    const runs = occurrencesBetween(schedule, from, new Date(from.getTime() + 60_000));

    // Assert
    const gaps = runs.slice(1).map((run, i) => run.getTime() - (runs[i] as Date).getTime());
    expect(runs.length).toBeGreaterThanOrEqual(30);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2000);
  });

  it("leaves the stored watermark file alone when a look finds nothing new", async () => {
    // Arrange: a watermark stored with a mark of its own, and a directory with no news after it
    const stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-resource-events-"));
    dirs.push(stateDir);
    const file = watermarkFile(stateDir);
    await publishResourceChanges({
      stateDir,
      directory: {
        changesSince: async () => ({ changes: [], watermark: "7" }),
      } as unknown as ResourceDirectoryPort,
      publisher: { publish: async () => undefined },
    });
    const marked = `${JSON.stringify({ watermark: "7", mark: "kept" })}\n`;
    await writeFile(file, marked);

    // Act
    await publishResourceChanges({
      stateDir,
      directory: {
        changesSince: async () => ({ changes: [], watermark: "7" }),
      } as unknown as ResourceDirectoryPort,
      publisher: { publish: async () => undefined },
    });

    // Assert
    expect(await readFile(file, "utf8")).toBe(marked);
  });

  it("skips the looks queued behind a slow one, and looks again on time; after a quick look it skips nothing", async () => {
    // Arrange
    const stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-resource-events-"));
    dirs.push(stateDir);
    let now = 0;
    let looks = 0;
    let lookTakes = 0;
    const deps = {
      stateDir,
      directory: {
        changesSince: async () => {
          looks += 1;
          now += lookTakes;
          return { changes: [], watermark: "1" };
        },
      } as unknown as ResourceDirectoryPort,
      publisher: { publish: async () => undefined },
    };
    const poll = new ResourceEventPoll({ minGapMs: 500, slowMs: 1000, now: () => now });

    // Act: a slow look (3 s), two looks queued behind it, one on time; then quick looks in a row
    lookTakes = 3000;
    await poll.run(deps);
    lookTakes = 10;
    await poll.run(deps);
    await poll.run(deps);
    const afterBacklog = looks;
    now += 1000;
    await poll.run(deps);
    await poll.run(deps);
    await poll.run(deps);

    // Assert
    expect(afterBacklog).toBe(1);
    expect(looks).toBe(4);
  });
});
