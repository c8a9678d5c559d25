import * as df from "durable-functions";
import { jobWatcher } from "../orchestrations/jobWatcher.js";
import { orchestrationNames } from "../orchestrations/names.js";

/** The `jobWatcher` orchestration (see `orchestrations/jobWatcher.ts`). */
export const jobWatcherOrchestrator = jobWatcher;

df.app.orchestration(orchestrationNames.jobWatcher, jobWatcherOrchestrator);
