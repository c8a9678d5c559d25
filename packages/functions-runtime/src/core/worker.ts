/**
 * The language worker: a child process of the host that provides `@azure/functions-core`,
 * loads the app and runs invocations on request, like the Azure Functions Node worker.
 *
 * @remarks The core module is installed at the top of this file, before the app (and with it
 * @azure/functions) is imported; nothing else in this process loads @azure/functions first.
 */
import { FunctionRegistry, installFunctionsCoreModule } from "./functionsCore.js";
import { InProcessInvoker, type WorkerLogRecord } from "./invoker.js";
import { loadFunctionApp } from "./appLoader.js";
import {
  eachMessage,
  serializeError,
  type HostToWorkerMessage,
  type WorkerToHostMessage,
} from "./workerProtocol.js";

/** The Functions host version this runtime reports to the app. */
export const reportedHostVersion = "4.1040.0";

/** Results and log lines not yet sent: they leave together at the end of this turn of the loop. */
let outbox: WorkerToHostMessage[] = [];

function flushOutbox(): void {
  const messages = outbox;
  outbox = [];
  if (messages.length === 0 || !process.send || !process.connected) return;
  process.send(messages.length === 1 ? messages[0] : { type: "batch", messages });
}

/** Queues a message for the host (results and logs are batched; see `BatchMessage`). */
function send(message: WorkerToHostMessage): void {
  if (outbox.length === 0) setImmediate(flushOutbox);
  outbox.push(message);
}

/** Sends at once, after everything queued before it. */
function sendNow(message: WorkerToHostMessage, then?: () => void): void {
  flushOutbox();
  if (!process.send || !process.connected) return;
  process.send(message, undefined, undefined, () => then?.());
}

const registry = new FunctionRegistry();
installFunctionsCoreModule(registry.createCoreApi(reportedHostVersion));
const invoker = new InProcessInvoker(registry, {}, (record: WorkerLogRecord) =>
  send({ type: "log", record }),
);

process.on("unhandledRejection", (reason) => {
  invoker.log({
    level: "error",
    category: "system",
    message: `Unhandled rejection in the app: ${String(reason)}`,
  });
});

// The host owns this process: when it goes, so does the worker.
process.on("disconnect", () => process.exit(0));
// Ctrl+C reaches the whole process group; the worker waits for the host's terminate message so
// the appTerminate hooks still run.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);

process.on("message", (raw: HostToWorkerMessage) => {
  eachMessage(raw, (message) => void handle(message));
});

async function handle(message: HostToWorkerMessage): Promise<void> {
  switch (message.type) {
    case "load":
      try {
        const loaded = await loadFunctionApp(message.appDir, registry, invoker);
        sendNow({
          type: "loaded",
          functions: invoker.list(),
          capabilities: loaded.capabilities,
          entryFiles: loaded.entryFiles,
        });
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        const detail = serializeError(error);
        sendNow({
          type: "loadFailed",
          error: cause instanceof Error && cause.stack ? { ...detail, stack: cause.stack } : detail,
        });
      }
      return;
    case "invoke":
      try {
        let returnedNothing = false;
        const result = await invoker.invoke(message.functionName, message.request, {
          invocationId: message.invocationId,
          ...(message.retryContext ? { retryContext: message.retryContext } : {}),
          observeResult: (value) => {
            returnedNothing = value === undefined || value === null;
          },
        });
        send({ type: "result", callId: message.callId, result, returnedNothing });
      } catch (error) {
        send({ type: "failed", callId: message.callId, error: serializeError(error) });
      }
      return;
    case "terminate":
      try {
        await invoker.runAppTerminateHooks();
      } catch (error) {
        invoker.log({
          level: "error",
          category: "system",
          message: `An appTerminate hook failed: ${String(error)}`,
        });
      }
      sendNow({ type: "terminated" }, () => process.exit(0));
      return;
  }
}
