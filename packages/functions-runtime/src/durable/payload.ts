/**
 * The payload conversions the Durable extension and the Functions host apply between
 * durable-functions and history events. They are quirky on purpose: they copy production.
 */
import type { RpcTypedData } from "../contracts.js";
import type { HistoryEvent } from "./history.js";

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

/**
 * `JSON.stringify({ ...event, IsPlayed: true })`, remembered per frozen event. The store hands out
 * deep-frozen events and its history cache hands out the same objects episode after episode, so
 * each past event is serialized once rather than once per episode. A frozen event cannot change,
 * which is what makes remembering by identity safe; entries go away with the events.
 */
const playedJsonCache = new WeakMap<HistoryEvent, string>();

function playedEventJson(event: HistoryEvent): string {
  let json = playedJsonCache.get(event);
  if (json === undefined) {
    json = JSON.stringify({ ...event, IsPlayed: true });
    if (Object.isFrozen(event)) playedJsonCache.set(event, json);
  }
  return json;
}

/**
 * The orchestration trigger's binding JSON: byte for byte
 * `JSON.stringify({ history: [...past with IsPlayed true, ...newEvents], ...rest })`, the
 * extension's `history` first, then the other fields of `rest` in their order.
 *
 * @param past the execution's recorded events (their `IsPlayed` is ignored: they count as played)
 * @param newEvents this episode's new events, as they are
 * @param rest the binding's other fields; must not contain `history`
 */
export function orchestrationTriggerJson(
  past: readonly HistoryEvent[],
  newEvents: readonly HistoryEvent[],
  rest: Readonly<Record<string, unknown>>,
): string {
  const history: string[] = past.map(playedEventJson);
  for (const event of newEvents) history.push(JSON.stringify(event));
  const others = JSON.stringify(rest);
  return `{"history":[${history.join(",")}]${others === "{}" ? "}" : `,${others.slice(1)}`}`;
}
