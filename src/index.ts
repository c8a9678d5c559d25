/**
 * The function app's entry point. The host loads this file and every `functions/*.js` (see
 * `main` in package.json); each of those registers one trigger.
 */
import { app } from "@azure/functions";
import { closeAppDependencies } from "./composition.js";
import { loadConfig } from "./config.js";

app.setup({ enableHttpStream: true });

// A bad setting fails the host at start, not the first request that happens to read it.
app.hook.appStart(() => {
  loadConfig();
});

// Stops what the dependencies started, such as the local provider's private PostgreSQL.
app.hook.appTerminate(async () => {
  await closeAppDependencies();
});
