import * as df from "durable-functions";
import { orchestrationNames } from "../orchestrations/names.js";
import { restoreDrill } from "../orchestrations/restoreDrill.js";

/** The `restoreDrill` orchestration (see `orchestrations/restoreDrill.ts`). */
export const restoreDrillOrchestrator = restoreDrill;

df.app.orchestration(orchestrationNames.restoreDrill, restoreDrillOrchestrator);
