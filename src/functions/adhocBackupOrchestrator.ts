import * as df from "durable-functions";
import { adhocBackup } from "../orchestrations/adhocBackup.js";
import { orchestrationNames } from "../orchestrations/names.js";

/** The `adhocBackup` orchestration (see `orchestrations/adhocBackup.ts`). */
export const adhocBackupOrchestrator = adhocBackup;

df.app.orchestration(orchestrationNames.adhocBackup, adhocBackupOrchestrator);
