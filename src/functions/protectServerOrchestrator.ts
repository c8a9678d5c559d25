import * as df from "durable-functions";
import { orchestrationNames } from "../orchestrations/names.js";
import { protectServer } from "../orchestrations/protectServer.js";

/** The `protectServer` orchestration (see `orchestrations/protectServer.ts`). */
export const protectServerOrchestrator = protectServer;

df.app.orchestration(orchestrationNames.protectServer, protectServerOrchestrator);
