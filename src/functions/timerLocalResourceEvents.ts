/**
 * `timerLocalResourceEvents` (local provider only): publishes the local resource directory's
 * changes as the subscription system topic would (see `application/localResourceEvents.ts`).
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import {
  localResourceEventsSchedule,
  localResourcesTopicName,
  ResourceEventPoll,
} from "../application/localResourceEvents.js";
import { appDependencies, localTopicPublisher } from "../composition.js";
import { loadConfig } from "../config.js";
import { invocationLogger } from "../observability/functionsLogger.js";
import { logEvents } from "../observability/logEvents.js";

function isLocalProvider(): boolean {
  try {
    return loadConfig().PGPROTECT_PROVIDER === "local";
  } catch {
    // Bad settings fail the host at start (index.ts); registering changes nothing then.
    return false;
  }
}

// In Azure the subscription's system topic sends these events; the timer exists only locally.
if (isLocalProvider()) {
  const poll = new ResourceEventPoll();
  app.timer("timerLocalResourceEvents", {
    schedule: localResourceEventsSchedule,
    handler: async (_timer: Timer, context: InvocationContext) => {
      const deps = await appDependencies();
      const count = await poll.run({
        stateDir: deps.config.PGPROTECT_STATE_DIR,
        directory: deps.provider.directory,
        publisher: localTopicPublisher(deps.config, localResourcesTopicName),
      });
      if (count > 0)
        invocationLogger(context).emit(logEvents.localResourcesPublished, {
          count,
          topic: localResourcesTopicName,
        });
    },
  });
}
