import * as df from "durable-functions";
import { orchestrationNames } from "../orchestrations/names.js";
import { protectionLifecycle } from "../orchestrations/protectionLifecycle.js";

/** The `protectionLifecycle` orchestration (see `orchestrations/protectionLifecycle.ts`). */
export const protectionLifecycleOrchestrator = protectionLifecycle;

df.app.orchestration(orchestrationNames.protectionLifecycle, protectionLifecycleOrchestrator);
