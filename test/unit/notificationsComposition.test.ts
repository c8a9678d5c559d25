import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createNotificationDependencies } from "../../src/notificationsComposition.js";
import { failedJob, jobEvent, settings } from "../support/notificationFixtures.js";

const azure = {
  PGPROTECT_PROVIDER: "azure",
  AZURE_SUBSCRIPTION_ID: "11111111-2222-4333-8444-555555555555",
  EVENTGRID_TOPIC_ENDPOINT: "https://topic.example/api/events",
} as const;

describe("notification delivery built for Azure", () => {
  const routed = {
    ...azure,
    NOTIFICATION_SETTINGS: JSON.stringify({
      channels: settings().channels,
      rules: [{ name: "everything", channels: ["ops-teams", "dba-email"] }],
    }),
  };
  const lookup = (name: string) =>
    name === "TEAMS_OPS_WEBHOOK_URL" ? "https://teams.example/webhook" : undefined;

  it("never puts the connection string in the error when it is not one the client accepts", async () => {
    // Arrange
    const secret = "AccountKey=bm90LWEtcmVhbC1rZXk=;SharedAccessSignature=sig-secret";
    const deps = await createNotificationDependencies(
      loadConfig({ ...routed, AzureWebJobsStorage: secret }),
      { lookup },
    );

    // Act
    const error = await deps.dispatcher
      .dispatch(jobEvent(failedJob()))
      .catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: "NOTIFICATION_STATE_UNAVAILABLE", retryable: true });
    expect((error as Error).message).toContain("AzureWebJobsStorage");
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain("secret");
    expect((error as Error).cause).toBeUndefined();
  });
});
