import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import {
  hostTableStorage,
  notificationStateLocation,
  notificationTableName,
} from "../../../../src/providers/notifications/stateLocation.js";

const azure = {
  PGPROTECT_PROVIDER: "azure",
  AZURE_SUBSCRIPTION_ID: "11111111-2222-4333-8444-555555555555",
  EVENTGRID_TOPIC_ENDPOINT: "https://topic.example/api/events",
} as const;

function settingsOf(values: Record<string, string>): (name: string) => string | undefined {
  return (name) => values[name];
}

describe("where notification delivery state lives", () => {
  it("stays in files under the state folder locally, as before", () => {
    // Arrange
    const config = loadConfig({ PGPROTECT_STATE_DIR: "/var/pgprotect" });

    // Act
    const location = notificationStateLocation(config, settingsOf({}));

    // Assert
    expect(location).toEqual({
      kind: "files",
      folder: path.resolve("/var/pgprotect", "notifications"),
    });
  });

  it("is the host storage account's table named after the task hub in Azure", () => {
    // Arrange
    const config = loadConfig({ ...azure, TASKHUB_NAME: "prodHub" });

    // Act
    const location = notificationStateLocation(
      config,
      settingsOf({ AzureWebJobsStorage__accountName: "stpgprotect" }),
    );

    // Assert
    expect(location).toMatchObject({ kind: "table", tableName: "prodHubNotifications" });
    expect(notificationTableName(loadConfig({}))).toBe("pgprotectNotifications");
  });

  it("keeps the table, and so fails deliveries naming the setting, when a host storage setting is there but unreadable", () => {
    // Arrange
    const config = loadConfig(azure);

    // Act
    const location = notificationStateLocation(
      config,
      settingsOf({ AzureWebJobsStorage__accountName: "Not_An_Account" }),
    );

    // Assert
    expect(location).toMatchObject({
      kind: "table",
      storage: {
        kind: "missing",
        reason: "AzureWebJobsStorage__accountName is not a storage account name",
      },
    });
  });

  it("falls back to this instance's files, saying why, when the Azure provider runs without host storage", () => {
    // Arrange
    const config = loadConfig(azure);

    // Act
    const location = notificationStateLocation(config, settingsOf({}));

    // Assert
    expect(location).toMatchObject({
      kind: "files",
      fallback: expect.stringContaining("AzureWebJobsStorage") as unknown as string,
    });
  });
});

describe("hostTableStorage", () => {
  it("uses the table service URI of identity-based host storage with the user-assigned identity's client id", () => {
    // Act
    const storage = hostTableStorage(
      {},
      settingsOf({
        AzureWebJobsStorage__credential: "managedidentity",
        AzureWebJobsStorage__clientId: "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc",
        AzureWebJobsStorage__tableServiceUri: "https://stpgprotect.table.core.usgovcloudapi.net/",
        AzureWebJobsStorage__accountName: "ignored",
      }),
    );

    // Assert
    expect(storage).toEqual({
      kind: "identity",
      endpoint: "https://stpgprotect.table.core.usgovcloudapi.net",
      from: "AzureWebJobsStorage__tableServiceUri",
      clientId: "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc",
    });
  });

  it("derives the public cloud endpoint from the account name when no URI is set, leaving the identity to AZURE_CLIENT_ID", () => {
    // Act
    const storage = hostTableStorage(
      {},
      settingsOf({ AzureWebJobsStorage__accountName: "stpg01" }),
    );

    // Assert
    expect(storage).toEqual({
      kind: "identity",
      endpoint: "https://stpg01.table.core.windows.net",
      from: "AzureWebJobsStorage__accountName",
    });
  });

  it("prefers a connection string in AzureWebJobsStorage, as the Functions host does, and keeps it out of the result", () => {
    // Arrange
    const connectionString =
      "DefaultEndpointsProtocol=https;AccountName=stpg01;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net";

    // Act
    const storage = hostTableStorage(
      { AzureWebJobsStorage: connectionString },
      settingsOf({ AzureWebJobsStorage__accountName: "other" }),
    );

    // Assert
    expect(storage).toEqual({ kind: "connectionString" });
  });

  it("names the settings, not their values, when none is usable", () => {
    // Act
    const none = hostTableStorage({}, settingsOf({}));
    const badUri = hostTableStorage(
      {},
      settingsOf({ AzureWebJobsStorage__tableServiceUri: "stpg01.table" }),
    );
    const badAccount = hostTableStorage(
      {},
      settingsOf({ AzureWebJobsStorage__accountName: "Not An Account" }),
    );

    // Assert
    expect(none).toMatchObject({ kind: "missing" });
    expect(JSON.stringify(none)).toContain("AzureWebJobsStorage__tableServiceUri");
    expect(badUri).toEqual({
      kind: "missing",
      reason: "AzureWebJobsStorage__tableServiceUri is not an absolute URL",
    });
    expect(JSON.stringify(badAccount)).not.toContain("Not An Account");
  });
});
