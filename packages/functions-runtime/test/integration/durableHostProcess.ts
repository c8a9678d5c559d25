/**
 * A local host in its own process, for the kill-and-restart test: it prints one `READY {json}`
 * line with its URL and worker pid, then serves until it is killed.
 */
import { startHost } from "../../src/host.js";

const appDir = process.env.DURABLE_TEST_APP_DIR;
const stateDir = process.env.DURABLE_TEST_STATE_DIR;
if (!appDir || !stateDir)
  throw new Error("DURABLE_TEST_APP_DIR and DURABLE_TEST_STATE_DIR are required");

const host = await startHost({
  appDir,
  stateDir,
  port: 0,
  banner: false,
  timers: false,
  log: () => undefined,
});
process.stdout.write(`READY ${JSON.stringify({ url: host.url, workerPid: host.workerPid })}\n`);
