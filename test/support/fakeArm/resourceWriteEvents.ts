/**
 * `Microsoft.Resources.ResourceWriteSuccess` events as the subscription's system topic delivers
 * them for a written PostgreSQL Flexible Server, in the Event Grid schema and in CloudEvents 1.0
 * (learn.microsoft.com/azure/event-grid/event-schema-subscriptions; the payload carries no tags).
 */
import { randomUUID } from "node:crypto";
import { FAKE_SUBSCRIPTION_ID } from "./index.js";

/** The tenant the events name (any GUID: the app does not read it). */
const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** The event in the Event Grid schema. */
export function resourceWriteEventGridEvent(serverId: string, id = randomUUID()) {
  return {
    topic: `/subscriptions/${FAKE_SUBSCRIPTION_ID}`,
    subject: serverId,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: new Date().toISOString(),
    id,
    data: resourceWriteData(serverId),
    dataVersion: "2",
    metadataVersion: "1",
  };
}

/** The same event in the CloudEvents 1.0 schema. */
export function resourceWriteCloudEvent(serverId: string, id = randomUUID()) {
  return {
    source: `/subscriptions/${FAKE_SUBSCRIPTION_ID}`,
    subject: serverId,
    type: "Microsoft.Resources.ResourceWriteSuccess",
    time: new Date().toISOString(),
    id,
    data: resourceWriteData(serverId),
    specversion: "1.0",
  };
}

function resourceWriteData(serverId: string) {
  return {
    authorization: {
      scope: serverId,
      action: "Microsoft.DBforPostgreSQL/flexibleServers/write",
      evidence: { role: "Contributor" },
    },
    claims: {},
    correlationId: randomUUID(),
    resourceProvider: "Microsoft.DBforPostgreSQL",
    resourceUri: serverId,
    operationName: "Microsoft.DBforPostgreSQL/flexibleServers/write",
    status: "Succeeded",
    subscriptionId: FAKE_SUBSCRIPTION_ID,
    tenantId: TENANT_ID,
  };
}
