/**
 * The payload conversions the Durable extension and the Functions host apply between
 * durable-functions and history events. They are quirky on purpose: they copy production.
 */
import type { RpcTypedData } from "../contracts.js";

/** `TaskScheduled.Input`: the action's input wrapped in a one-element JSON array. */
export function taskScheduledInput(input: unknown): string {
  return JSON.stringify([input ?? null]);
}

/**
 * The typed data an activity receives for a `TaskScheduled.Input`.
 *
 * @remarks The extension unwraps the array and converts the value with `GetInput(typeof(string))`:
 * a JSON string gives its raw text (durable-functions already encoded strings once more), an
 * object or array its compact JSON, a number its text, a boolean `True`/`False` (the .NET
 * spelling), and null no data at all.
 */
export function activityInputTypedData(scheduledInput: string): RpcTypedData {
  const parsed: unknown = JSON.parse(scheduledInput);
  const value = Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
  if (value === null || value === undefined) return {};
  if (typeof value === "string") return { string: value };
  if (typeof value === "boolean") return { string: value ? "True" : "False" };
  if (typeof value === "number") return { string: String(value) };
  return { string: JSON.stringify(value) };
}

/** `TaskCompleted.Result` (and an orchestration's output) from a function's return value. */
export function resultFromReturnValue(returnValue: RpcTypedData | undefined): string | null {
  if (!returnValue) return null;
  if (returnValue.string !== undefined) return JSON.stringify(returnValue.string);
  if (returnValue.json !== undefined) return returnValue.json;
  if (returnValue.int !== undefined) return String(returnValue.int);
  if (returnValue.double !== undefined) return String(returnValue.double);
  if (returnValue.bytes !== undefined)
    return JSON.stringify(Buffer.from(returnValue.bytes).toString("base64"));
  return null;
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** `TaskFailed.Details`: the serialized exception, as the extension records it. */
export function failureDetails(error: unknown): string {
  const message = messageOf(error);
  return JSON.stringify({
    $type: "System.Exception, System.Private.CoreLib",
    ClassName: "System.Exception",
    Message: message,
    StackTrace: error instanceof Error && error.stack ? error.stack : null,
  });
}

/** The label after which an orchestrator failure carries its state (`OrchestrationFailureError`). */
export const outOfProcDataLabel = "$OutOfProcData$:";

/** The state JSON embedded in an orchestrator's failure message, if there is one. */
export function extractOutOfProcState(message: string): unknown {
  const at = message.indexOf(outOfProcDataLabel);
  if (at < 0) return undefined;
  try {
    return JSON.parse(message.slice(at + outOfProcDataLabel.length));
  } catch {
    return undefined;
  }
}

/** Parses JSON text, keeping text that is not JSON as a string (`ParseToJToken`). */
export function parseJsonLenient(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A .NET `TimeSpan` in its constant ("c") format, e.g. `3.00:00:00`. */
export function toTimeSpan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const millis = ms % 1000;
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = `${pad(hours)}:${pad(minutes)}:${pad(seconds)}${millis ? `.${String(millis).padStart(3, "0")}` : ""}`;
  return days > 0 ? `${days}.${clock}` : clock;
}
