/**
 * Registers every activity. Activities come from one factory over the app's dependencies, so
 * they are registered together here rather than one file each.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { createActivities, type Activities } from "../activities/createActivities.js";
import { activityNames, openActivityInput } from "../activities/names.js";
import { appDependencies } from "../composition.js";
import type { EventLogger } from "../observability/eventLogger.js";
import { activityLogger } from "../observability/functionsLogger.js";

let activities: Promise<Activities> | undefined;

/** The activities over this process's dependencies, built on first use. */
export function processActivities(): Promise<Activities> {
  activities ??= appDependencies().then((deps) =>
    createActivities({
      ...deps,
      autoGrantRoleAssignments: deps.config.AUTO_GRANT_ROLE_ASSIGNMENTS,
    }),
  );
  return activities;
}

for (const name of Object.values(activityNames)) {
  df.app.activity(name, {
    handler: async (sent: unknown, context: InvocationContext) => {
      // The input may come wrapped with the starting request's correlation (callActivity).
      const { input, correlation } = openActivityInput(sent);
      const all = await processActivities();
      const run = all[name] as (value: unknown, log: EventLogger) => Promise<unknown>;
      return run(input, activityLogger(context, correlation));
    },
  });
}
