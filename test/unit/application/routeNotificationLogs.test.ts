import { describe, expect, it } from "vitest";
import { routeNotifications } from "../../../src/application/routeNotification.js";
import { protectionFailedEvent } from "../../../src/domain/events/builders.js";
import { createEventLogger, type LogRecord } from "../../../src/observability/eventLogger.js";

describe("the logs of a routed notification", () => {
  it("name the failed protection's operation, so its notifications are found under it", async () => {
    // Arrange
    const records: LogRecord[] = [];
    const log = createEventLogger((record) => records.push(record), { invocationId: "eg-1" });
    const event = protectionFailedEvent(
      {
        datasourceId:
          "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/servers/pg1/databases/sales",
        vaultName: "vault1",
        operationId: "protect-pg1-sales-0123",
        error: { code: "SECRET_NOT_FOUND", message: "no secret" },
      },
      { source: "/pgprotect/test", time: "2026-11-24T08:00:00.000Z" },
    );
    const dispatcher = {
      dispatch: async () => [{ channelId: "ops-teams", result: "sent" as const }],
    };

    // Act
    await routeNotifications(JSON.parse(JSON.stringify(event)), log, async () => ({ dispatcher }));

    // Assert
    expect(records.map((r) => [r.event.name, r.properties["operationId"]])).toEqual([
      ["PgProtect.Notification.Routed", "protect-pg1-sales-0123"],
    ]);
    expect(records[0]?.properties["deliveries"]).toEqual(["ops-teams sent"]);
  });
});
