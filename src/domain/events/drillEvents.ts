/**
 * The builder of `PgProtect.Restore.DrillSucceeded` and `PgProtect.Restore.DrillFailed` from a
 * drill's record.
 */
import type { DrillRecord } from "../drills/drill.js";
import { InvalidInputError } from "../errors.js";
import type { EventOptions } from "./builders.js";
import { stableUuid } from "./stableId.js";
import {
  dataSchemaOf,
  EVENT_SCHEMA_VERSION,
  PgProtectEventTypes,
  type RestoreDrillData,
  type RestoreDrillEvent,
} from "./types.js";

/**
 * The event announcing how a drill ended.
 *
 * @remarks The id is derived from the drill's id alone: a drill notifies once, however often its
 * last step runs again (a replay, a retry after a lost answer).
 * @throws InvalidInputError `EVENT_INVALID` for a drill that has not ended.
 */
export function restoreDrillEvent(drill: DrillRecord, options: EventOptions): RestoreDrillEvent {
  if (drill.verdict === "InProgress" || drill.endTime === undefined) {
    throw new InvalidInputError("EVENT_INVALID", `The drill '${drill.id}' has not ended`, [
      { path: "verdict", code: "EVENT_INVALID", message: "a drill event is of an ended drill" },
    ]);
  }
  const type =
    drill.verdict === "Succeeded"
      ? PgProtectEventTypes.drillSucceeded
      : PgProtectEventTypes.drillFailed;
  const verification = drill.verification;
  const data: RestoreDrillData = {
    schemaVersion: EVENT_SCHEMA_VERSION,
    drillId: drill.id,
    verdict: drill.verdict,
    backupInstanceId: drill.backupInstanceId,
    backupInstanceName: drill.friendlyName,
    vaultName: drill.vaultName,
    datasourceId: drill.datasourceId,
    datasourceName: drill.datasourceName,
    ...(drill.schedule ? { schedule: drill.schedule } : {}),
    ...(drill.requestedBy ? { requestedBy: drill.requestedBy } : {}),
    ...(drill.recoveryPointId ? { recoveryPointId: drill.recoveryPointId } : {}),
    ...(drill.recoveryPointTime ? { recoveryPointTime: drill.recoveryPointTime } : {}),
    startTime: drill.startTime,
    endTime: drill.endTime,
    ...(drill.timeToRestoreMs === undefined
      ? {}
      : { timeToRestoreSeconds: Math.round(drill.timeToRestoreMs / 100) / 10 }),
    ...(drill.restoreJobId ? { restoreJobId: drill.restoreJobId } : {}),
    ...(verification
      ? {
          verification: {
            verified: verification.verified,
            tables: verification.tables,
            rows: verification.rows,
            largeObjects: verification.largeObjects,
            mismatches: verification.mismatches,
          },
        }
      : {}),
    ...(drill.error
      ? {
          error: {
            code: drill.error.code,
            message: drill.error.message,
            ...(drill.error.recommendedAction
              ? { recommendedAction: [drill.error.recommendedAction] }
              : {}),
          },
        }
      : {}),
    scratchRemoved: drill.scratchRemoved ?? false,
    ...(options.datasourceTags ? { datasourceTags: options.datasourceTags } : {}),
  };
  return {
    specversion: "1.0",
    id: stableUuid([type, drill.id]),
    source: options.source,
    type,
    subject: drill.datasourceId,
    time: drill.endTime,
    datacontenttype: "application/json",
    dataschema: dataSchemaOf(type),
    data,
  };
}
