import { afterEach, describe, expect, it } from "vitest";
import { startAzuriteService, type AzuriteService } from "../../support/azurite.js";
import { freePort, listenOn } from "../../support/ports.js";

describe("Azurite for tests", () => {
  const started: AzuriteService[] = [];

  afterEach(async () => {
    await Promise.all(started.splice(0).map((service) => service.stop()));
  });

  it.each(["table", "blob"] as const)(
    "starts its %s service on another port when the first one found is taken meanwhile",
    async (kind) => {
      // Arrange: the first port offered is held by another listener, as a racing process would.
      const taken = await freePort();
      const holder = await listenOn(taken);
      const offered = [taken];
      const nextPort = async () => offered.shift() ?? freePort();

      try {
        // Act
        const service = await startAzuriteService(kind, nextPort);
        started.push(service);

        // Assert
        const answer = await fetch(service.endpoint);
        expect(service.port).not.toBe(taken);
        expect(answer.headers.get("server")).toMatch(new RegExp(`^Azurite-${kind}/`, "i"));
        expect(service.connectionString).toContain(`=${service.endpoint};`);
      } finally {
        await new Promise<void>((resolve) => holder.close(() => resolve()));
      }
    },
    60_000,
  );
});
