/**
 * The function app's entry point. The host loads this file and every `functions/*.js` (see
 * `main` in package.json); each of those registers one trigger.
 */
import { app } from "@azure/functions";
import { appDependencies, closeAppDependencies } from "./composition.js";
import { loadConfig } from "./config.js";
import { isAppError } from "./domain/errors.js";
import { consoleEventLogger } from "./observability/consoleLogger.js";
import { logEvents } from "./observability/logEvents.js";

app.setup({ enableHttpStream: true });

// A bad setting fails the host at start, not the first request that happens to read it.
app.hook.appStart(async () => {
  const config = loadConfig();
  if (config.PGPROTECT_PROVIDER !== "local") return;
  // Starting the embedded provider (and its private PostgreSQL) now shows a missing PostgreSQL
  // installation at start; the app keeps serving what needs no database, and retries on use.
  const log = consoleEventLogger();
  try {
    await appDependencies();
    log.emit(logEvents.localProviderReady, { stateDir: config.PGPROTECT_STATE_DIR });
  } catch (error) {
    log.emit(logEvents.localProviderUnavailable, {
      errorCode: isAppError(error) ? error.code : undefined,
      errorMessage: (error as Error).message,
      recommendedAction:
        (isAppError(error) ? error.recommendedAction : undefined) ??
        "Install PostgreSQL (apt-get install postgresql) or set DATABASE_URL",
    });
  }
});

// Stops what the dependencies started, such as the local provider's private PostgreSQL.
app.hook.appTerminate(async () => {
  await closeAppDependencies();
});
