import * as df from "durable-functions";
import { orchestrationNames } from "../orchestrations/names.js";
import { restoreToServer } from "../orchestrations/restoreToServer.js";

/** The `restoreToServer` orchestration (see `orchestrations/restoreToServer.ts`). */
export const restoreToServerOrchestrator = restoreToServer;

df.app.orchestration(orchestrationNames.restoreToServer, restoreToServerOrchestrator);
