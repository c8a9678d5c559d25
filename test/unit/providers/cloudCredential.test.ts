import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../../src/config.js";
import { openJobHistory } from "../../../src/historyComposition.js";
import { authorityHostOf, storageSuffixOf } from "../../../src/providers/cloudIdentity.js";
import { cloudCredential } from "../../../src/providers/cloudCredential.js";
import { createEventGridPublisher } from "../../../src/providers/events/eventGridPublisher.js";
import { createDeliveryState } from "../../../src/providers/notifications/deliveryState.js";
import { createEmailSender } from "../../../src/providers/notifications/emailSenders.js";
import { notificationStateLocation } from "../../../src/providers/notifications/stateLocation.js";
import { poll } from "../../support/poll.js";
import { startRecordingProxy, type RecordingProxy } from "../../support/recordingProxy.js";

const azureSettings = {
  PGPROTECT_PROVIDER: "azure",
  AZURE_SUBSCRIPTION_ID: "11111111-2222-4333-8444-555555555555",
  EVENTGRID_TOPIC_ENDPOINT: "https://topic.example/api/events",
} as const;

function configIn(settings: Record<string, string>): Config {
  return loadConfig({ ...azureSettings, ...settings });
}

function settingsOf(values: Record<string, string>): (name: string) => string | undefined {
  return (name) => values[name];
}

/** Environment a client secret signs in with, through the recording proxy only. */
const signInEnvironment = (proxy: RecordingProxy): Record<string, string> => ({
  HTTPS_PROXY: proxy.url,
  HTTP_PROXY: proxy.url,
  AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  AZURE_CLIENT_ID: "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc",
  AZURE_CLIENT_SECRET: "not-a-secret",
});

/**
 * The clouds' login hosts as the sign-in library reaches them: China's authority,
 * login.chinacloudapi.cn, is asked at its preferred network alias.
 */
const loginHosts = [
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
  "login.partner.microsoftonline.cn",
] as const;

/** The login authorities a client asked the proxy for, once it asked one. */
async function loginsAsked(proxy: RecordingProxy): Promise<string[]> {
  const asked = () =>
    proxy.hosts.filter((host) => (loginHosts as readonly string[]).includes(host));
  await poll(
    async () => asked(),
    (hosts) => hosts.length > 0,
    20_000,
  );
  return [...new Set(asked())];
}

describe("the Azure clients besides Resource Manager in the resolved cloud", () => {
  let proxy: RecordingProxy;
  const saved = new Map<string, string | undefined>();

  beforeEach(async () => {
    proxy = await startRecordingProxy();
    for (const [name, value] of Object.entries(signInEnvironment(proxy))) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
  });

  afterEach(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    saved.clear();
    await proxy.close();
  });

  it("builds the notification table on the US Government storage suffix and asks login.microsoftonline.us for its token", async () => {
    // Arrange
    const config = configIn({ AZURE_CLOUD: "AzureUSGovernment" });
    const location = notificationStateLocation(
      config,
      settingsOf({ AzureWebJobsStorage__accountName: "stpgprotect" }),
    );
    const state = await createDeliveryState(location, undefined);

    // Act
    const claim = state.idempotency.claim("event-1", new Date(), 60_000).catch(() => undefined);
    const logins = await loginsAsked(proxy);

    // Assert
    expect(location).toMatchObject({
      kind: "table",
      storage: { endpoint: "https://stpgprotect.table.core.usgovcloudapi.net" },
    });
    expect(logins).toEqual(["login.microsoftonline.us"]);
    await claim;
  });

  it("derives the cloud from a China Resource Manager endpoint for the job history's table and its login", async () => {
    // Arrange
    const config = configIn({
      AZURE_RESOURCE_MANAGER_ENDPOINT: "https://management.chinacloudapi.cn",
    });
    const opened = await openJobHistory(
      config,
      settingsOf({ AzureWebJobsStorage__accountName: "stpgprotect" }),
    );

    // Act
    const running = opened.history.runningJobs().catch(() => undefined);
    const logins = await loginsAsked(proxy);

    // Assert
    expect(logins).toEqual(["login.partner.microsoftonline.cn"]);
    expect(proxy.hosts).not.toContain("stpgprotect.table.core.windows.net");
    await running;
    opened.close();
  });

  it("keeps a table service URI the host storage settings name, on its own suffix", () => {
    // Act
    const location = notificationStateLocation(
      configIn({ AZURE_CLOUD: "AzureUSGovernment" }),
      settingsOf({
        AzureWebJobsStorage__tableServiceUri: "https://stpgprotect.table.core.example.test/",
      }),
    );

    // Assert
    expect(location).toMatchObject({
      storage: {
        endpoint: "https://stpgprotect.table.core.example.test",
        authorityHost: "https://login.microsoftonline.us",
      },
    });
  });

  it("sends email through Azure Communication Services with a token from the cloud's authority", async () => {
    // Arrange
    const config = configIn({
      AZURE_CLOUD: "AzureUSGovernment",
      ACS_ENDPOINT: "https://pgprotect.unitedstates.communication.azure.us",
      EMAIL_SENDER_ADDRESS: "DoNotReply@pgprotect.example",
    });
    const email = await createEmailSender(config, "acs", "/nonexistent-outbox");

    // Act
    const sent = email.sender
      .send({ to: ["dba@example.com"], subject: "s", text: "t", html: "<p>t</p>" })
      .catch(() => undefined);
    const logins = await loginsAsked(proxy);

    // Assert
    expect(logins).toEqual(["login.microsoftonline.us"]);
    await sent;
  });

  it("publishes to an Event Grid topic with the app's credential at the cloud's authority", async () => {
    // Arrange
    const config = configIn({ AZURE_CLOUD: "AzureChinaCloud" });
    const events = createEventGridPublisher({
      endpoint: "https://topic.chinaeast2-1.eventgrid.chinacloudapi.cn/api/events",
      credential: cloudCredential(config),
    });

    // Act
    const published = events
      .publish([
        { type: "PgProtect.Test", subject: "s", id: "1", time: new Date().toISOString(), data: {} },
      ])
      .catch(() => undefined);
    const logins = await loginsAsked(proxy);

    // Assert
    expect(logins).toEqual(["login.partner.microsoftonline.cn"]);
    await published;
  });
});

describe("the cloud's login authority and storage suffix", () => {
  it("follows AZURE_AUTHORITY_HOST when it is set, which Azure Identity reads itself", () => {
    // Act
    const authority = authorityHostOf(
      { AZURE_CLOUD: "AzureUSGovernment" },
      settingsOf({ AZURE_AUTHORITY_HOST: "https://login.example.test" }),
    );

    // Assert
    expect(authority).toBeUndefined();
  });

  it("stays the public cloud's for a Resource Manager endpoint of no known cloud", () => {
    // Arrange
    const config = configIn({ AZURE_RESOURCE_MANAGER_ENDPOINT: "https://127.0.0.1:8443" });

    // Act
    const suffix = storageSuffixOf(config);
    const authority = authorityHostOf(config, settingsOf({}));

    // Assert
    expect(suffix).toBe("core.windows.net");
    expect(authority).toBeUndefined();
  });
});
