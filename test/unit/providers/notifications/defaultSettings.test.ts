import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import {
  effectiveNotificationSettings,
  localDefaultRecipient,
} from "../../../../src/providers/notifications/defaultSettings.js";

describe("effectiveNotificationSettings", () => {
  it("announces finished jobs by email and Teams locally when no settings are given, linking to the local API", () => {
    // Act
    const settings = effectiveNotificationSettings(
      loadConfig({ WEBSITE_HOSTNAME: "localhost:7071" }),
    );

    // Assert
    expect(settings.channels.map((c) => c.id)).toEqual(["email", "teams"]);
    expect(settings.channels[0]).toMatchObject({ to: [localDefaultRecipient] });
    expect(settings.rules.map((r) => r.name)).toEqual(["finished-jobs-and-protection"]);
    expect(settings.links?.jobUrlTemplate).toBe("http://localhost:7071/api/jobs/{jobName}");
  });

  it("routes nothing in Azure when no settings are given", () => {
    // Act
    const settings = effectiveNotificationSettings({
      PGPROTECT_PROVIDER: "azure",
      NOTIFICATION_SETTINGS: undefined,
      WEBSITE_HOSTNAME: "pgprotect.azurewebsites.net",
    });

    // Assert
    expect(settings.rules).toEqual([]);
  });
});
