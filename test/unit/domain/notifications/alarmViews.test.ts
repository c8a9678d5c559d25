import { describe, expect, it } from "vitest";
import { jobStateChangedEvent } from "../../../../src/domain/events/builders.js";
import { parsePgProtectEvent } from "../../../../src/domain/events/schema.js";
import { emailFor } from "../../../../src/domain/notifications/email.js";
import { teamsMessageFor } from "../../../../src/domain/notifications/teamsCard.js";
import { describeEvent } from "../../../../src/domain/notifications/view.js";
import { adaptiveCardProblems, factsOf } from "../../../support/adaptiveCard.js";
import { backupJob, oneOfEach, SOURCE } from "../../../support/notificationFixtures.js";

const links = {
  jobUrlTemplate: "https://portal.azure.com/#resource{jobId}",
  resourceUrlTemplate: "https://portal.azure.com/#resource{resourceId}",
};

const [stuck, anomaly] = oneOfEach().slice(-2);

describe("the stuck and anomaly alarms in Teams and email", () => {
  it("are events a consumer validates as published", () => {
    expect(parsePgProtectEvent(JSON.parse(JSON.stringify(stuck)))).toEqual(stuck);
    expect(parsePgProtectEvent(JSON.parse(JSON.stringify(anomaly)))).toEqual(anomaly);
  });

  it("show a stuck job with how long it ran against what was expected, in a valid Adaptive Card", () => {
    // Act
    const message = teamsMessageFor(describeEvent(stuck!), { links });

    // Assert
    expect(adaptiveCardProblems(message)).toEqual([]);
    expect(factsOf(message)).toMatchObject({
      Status: "Still running, longer than expected",
      "Running for": "1 h 40 min",
      "Expected within": "30 min (the configured floor)",
      "Usual (95th percentile)": "4 min over 12 earlier runs",
    });
  });

  it("show an anomalous backup's size beside the usual one, in the card and the email", () => {
    // Act
    const view = describeEvent(anomaly!);
    const message = teamsMessageFor(view, { links });
    const email = emailFor(view, { links });

    // Assert
    expect(adaptiveCardProblems(message)).toEqual([]);
    expect(factsOf(message)).toMatchObject({
      Status: "Size down to 3.3 % of the usual",
      Size: "50.0 MiB against a usual 1.5 GiB (3.3 %; alarm below 50 %)",
      "Compared with": "12 earlier backups (median)",
    });
    expect(email.subject).toContain("Backup anomaly: orders");
    expect(email.text).toContain("50.0 MiB against a usual 1.5 GiB");
  });

  it("title the end of a job reported stuck as the end of a stuck job", () => {
    const event = jobStateChangedEvent(backupJob(), {
      source: SOURCE,
      stuck: { reportedAt: "2026-11-20T23:40:00Z", expectedWithinMinutes: 30 },
    });

    const view = describeEvent(parsePgProtectEvent(JSON.parse(JSON.stringify(event))));

    expect(view.title).toBe("Stuck backup completed");
    expect(view.facts).toContainEqual({
      title: "Reported stuck",
      value: "2026-11-20 23:40:00 UTC (expected within 30 min)",
    });
  });
});

describe("the alarms and digests", () => {
  it("are never held for a digest: each is raised once and must be read when it is raised", () => {
    expect(describeEvent(stuck!).isFailure).toBe(false);
    expect(describeEvent(anomaly!).isFailure).toBe(false);
  });
});
