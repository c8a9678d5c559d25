/**
 * The activity that checks databases of a server against the service's limits before the server's
 * protection starts theirs (see `orchestrations/protectServer.ts`). It joins the others in
 * `createActivities`.
 */
import {
  databaseLimitRefusal,
  type DatabaseLimitRefusal,
} from "../application/protectionChecks.js";
import type { ServiceLimitFactsPort } from "../providers/ports.js";
import { expected } from "./expectedFailures.js";
import { activityNames, type ActivityResult, type DatabaseLimitsInput } from "./names.js";

/** The limit activities over the provider's limit facts. */
export function limitActivities(limits: ServiceLimitFactsPort | undefined) {
  return {
    /**
     * Reads each database of a batch (all at once: a batch is bounded) and answers those that
     * break a limit, with the reason; the others may be protected.
     */
    [activityNames.checkDatabaseLimits]: (
      input: DatabaseLimitsInput,
    ): Promise<ActivityResult<DatabaseLimitRefusal[]>> =>
      expected(async () => {
        const answers = await Promise.all(
          input.databases.map((database) =>
            databaseLimitRefusal(limits, database, input.secretUri),
          ),
        );
        return answers.filter((answer): answer is DatabaseLimitRefusal => answer !== undefined);
      }),
  };
}
