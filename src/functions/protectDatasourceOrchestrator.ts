import * as df from "durable-functions";
import { orchestrationNames } from "../orchestrations/names.js";
import { protectDatasource } from "../orchestrations/protectDatasource.js";

/** The `protectDatasource` orchestration (see `orchestrations/protectDatasource.ts`). */
export const protectDatasourceOrchestrator = protectDatasource;

df.app.orchestration(orchestrationNames.protectDatasource, protectDatasourceOrchestrator);
