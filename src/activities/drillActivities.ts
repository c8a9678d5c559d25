/**
 * The activities of a restore drill (see `orchestrations/restoreDrill.ts`), each one step of
 * `application/drillsSteps.ts`. They join the others in `createActivities`.
 */
import {
  beginDrill,
  finishDrill,
  planDrillLoads,
  removeScratchTarget,
  startScratchRestore,
  sweepScratchTargets,
  type BeginDrillInput,
  type BegunDrill,
  type DrillStepDependencies,
  type FinishDrillInput,
  type PlannedLoad,
  type ScratchRestoreInput,
} from "../application/drillsSteps.js";
import type { DrillRecord } from "../domain/drills/drill.js";
import type { EventLogger } from "../observability/eventLogger.js";
import type { ScratchRestoreStarted } from "../providers/ports.js";
import { logEvents } from "../observability/logEvents.js";
import { expected } from "./expectedFailures.js";
import { activityNames, type ActivityResult } from "./names.js";

/** The drill's activities over the app's dependencies. */
export function drillActivities(deps: DrillStepDependencies) {
  return {
    /** Picks the latest recovery point and records the drill as running (one per instance). */
    [activityNames.beginDrill]: (
      input: BeginDrillInput,
      _log: EventLogger,
    ): Promise<ActivityResult<BegunDrill>> => expected(() => beginDrill(deps, input)),

    /** Drops scratch targets that no running drill holds (left by a crash). */
    [activityNames.sweepDrillScratch]: async (
      _input: Record<string, never>,
      log: EventLogger,
    ): Promise<string[]> => {
      const removed = await sweepScratchTargets(deps);
      for (const scratchTarget of removed)
        log.emit(logEvents.drillLeftoverRemoved, { scratchTarget });
      return removed;
    },

    /** Starts the restore into the scratch target. */
    [activityNames.startDrillRestore]: (
      input: ScratchRestoreInput,
      _log: EventLogger,
    ): Promise<ActivityResult<ScratchRestoreStarted>> =>
      expected(() => startScratchRestore(deps, input)),

    /** A whole server's drill: the databases the restore wrote, each with its scratch database. */
    [activityNames.planDrillLoads]: (
      input: {
        readonly containerUrl: string;
        readonly filePrefix: string;
        readonly scratchTarget: string;
      },
      _log: EventLogger,
    ): Promise<ActivityResult<PlannedLoad[]>> => expected(() => planDrillLoads(deps, input)),

    /** Removes the drill's scratch target. */
    [activityNames.removeDrillScratch]: (
      input: { readonly scratchTarget: string },
      _log: EventLogger,
    ): Promise<{ removed: boolean }> => removeScratchTarget(deps, input.scratchTarget),

    /** Records the verdict and publishes the drill's event. */
    [activityNames.finishDrill]: async (
      input: FinishDrillInput,
      log: EventLogger,
    ): Promise<DrillRecord> => {
      const drill = await finishDrill(deps, input);
      log.emit(logEvents.drillEnded, {
        drillId: drill.id,
        backupInstanceName: drill.backupInstanceName,
        verdict: drill.verdict,
        timeToRestoreMs: drill.timeToRestoreMs,
        errorCode: drill.error?.code,
      });
      return drill;
    },
  };
}
