import { describe, expect, it } from "vitest";
import { pgProtectEventTypes } from "../../../src/domain/events/types.js";
import {
  defineLogEvent,
  isSecretName,
  logEvents,
  reservedPropertyNames,
  type LogEventDefinition,
} from "../../../src/observability/logEvents.js";

const catalogue = Object.values(logEvents) as LogEventDefinition[];

/** Names the logger adds to every event. */
const correlationNames: readonly string[] = reservedPropertyNames;

describe("the log catalogue", () => {
  it("gives every event its own id and its own name", () => {
    // Arrange
    const ids = catalogue.map((event) => event.id);
    const names = catalogue.map((event) => event.name);

    // Act / Assert
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(names).size).toBe(names.length);
  });

  it("never names a log event like one of the CloudEvents the app publishes", () => {
    const cloudEventTypes: readonly string[] = pgProtectEventTypes;
    expect(
      catalogue.map((event) => event.name).filter((name) => cloudEventTypes.includes(name)),
    ).toEqual([]);
  });

  it("names every event PgProtect.<Area>.<Fact>", () => {
    for (const event of catalogue) {
      expect(event.name).toMatch(/^PgProtect\.[A-Z][A-Za-z]+\.[A-Z][A-Za-z]+$/);
    }
  });

  it("fills every placeholder of a message from a declared property or the correlation", () => {
    for (const event of catalogue) {
      const placeholders = [...event.message.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const known = [...Object.keys(event.properties), ...correlationNames];
      expect(
        placeholders.filter((name) => !known.includes(name ?? "")),
        event.name,
      ).toEqual([]);
    }
  });

  it("declares no property whose name names a secret", () => {
    const secretLike = catalogue.flatMap((event) =>
      Object.keys(event.properties)
        .filter(isSecretName)
        .map((name) => `${event.name}.${name}`),
    );
    expect(secretLike).toEqual([]);
  });

  it("declares no property under a name every event carries already (its id, the correlation)", () => {
    const reserved: readonly string[] = reservedPropertyNames;
    const clashing = catalogue.flatMap((event) =>
      Object.keys(event.properties)
        .filter((name) => reserved.includes(name))
        .map((name) => `${event.name}.${name}`),
    );
    expect(clashing).toEqual([]);
  });

  it("recognises the names of secrets, whatever their case", () => {
    expect(
      [
        "connectionString",
        "DATABASE_PASSWORD",
        "webhookUrl",
        "masterKey",
        "accessToken",
        "secretValue",
        "clientCredential",
      ].filter((name) => !isSecretName(name)),
    ).toEqual([]);
    expect(["operationId", "datasourceId", "eventType", "step"].filter(isSecretName)).toEqual([]);
  });

  it("refuses, when compiled, an event with a property named like a secret or reserved", () => {
    // Arrange / Act: each declaration below fails to compile (tsc checks the expectations).
    const declare = () => [
      defineLogEvent({
        id: 9_001,
        name: "PgProtect.Test.ConnectionString",
        level: "information",
        message: "x",
        // @ts-expect-error a connection string is a secret
        properties: { connectionString: "string" },
      }),
      defineLogEvent({
        id: 9_002,
        name: "PgProtect.Test.Webhook",
        level: "information",
        message: "x",
        // @ts-expect-error a webhook URL is a credential
        properties: { teamsWebhookUrl: "string" },
      }),
      defineLogEvent({
        id: 9_004,
        name: "PgProtect.Test.Reserved",
        level: "information",
        message: "x",
        // @ts-expect-error every event carries its catalogue id as eventId already
        properties: { eventId: "string" },
      }),
      defineLogEvent({
        id: 9_003,
        name: "PgProtect.Test.Key",
        level: "information",
        message: "x",
        // @ts-expect-error a key is a secret
        properties: { functionKey: "string?" },
      }),
    ];

    // Assert: at run time they are plain data; the refusal is the compiler's.
    expect(declare()).toHaveLength(4);
  });
});
