/**
 * Registers every activity. Activities come from one factory over the app's dependencies, so
 * they are registered together here rather than one file each.
 */
import * as df from "durable-functions";
import { createActivities, type Activities } from "../activities/createActivities.js";
import { activityNames } from "../activities/names.js";
import { appDependencies } from "../composition.js";

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
    handler: async (input: unknown) => {
      const all = await processActivities();
      return (all[name] as (value: unknown) => Promise<unknown>)(input);
    },
  });
}
