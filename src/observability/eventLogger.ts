/**
 * The logger port: events of the catalogue, emitted with their properties and the correlation
 * that lets one operation be followed across invocations. Pure: no Node built-ins, so the
 * orchestrations' replay-safe logger can use it.
 */
import type {
  LogEventDefinition,
  LogLevel,
  LogValue,
  PropertiesOf,
  PropertySpecs,
} from "./logEvents.js";

/**
 * What ties a log event to the operation it belongs to.
 *
 * @remarks `operationId` is the Durable instance id the HTTP API answers with (`id`,
 * `GET /api/protections/{id}`), so every event of one protection shares it. `invocationId` and
 * `traceparent` are those of the Functions invocation that logged the event; `request*` are the
 * invocation that started the operation, carried in the orchestration's input.
 */
export interface Correlation {
  readonly operationId?: string | undefined;
  readonly invocationId?: string | undefined;
  /** W3C trace context (`00-<trace id>-<span id>-<flags>`), where the host gives one. */
  readonly traceparent?: string | undefined;
  readonly requestInvocationId?: string | undefined;
  readonly requestTraceparent?: string | undefined;
}

/** The correlation of the invocation that starts an operation, as its input carries it. */
export interface RequestCorrelation {
  readonly invocationId?: string | undefined;
  readonly traceparent?: string | undefined;
}

/** One emitted event, as a sink receives it. */
export interface LogRecord {
  readonly event: LogEventDefinition;
  readonly level: LogLevel;
  /** `<name>: <message> <properties as JSON>`: one line, what the host and Application Insights keep. */
  readonly line: string;
  /** The event's id and name, the correlation and the event's own properties, secrets masked. */
  readonly properties: Readonly<Record<string, LogValue | number>>;
}

/** Where records go: an invocation's log, the console, nowhere. */
export type LogSink = (record: LogRecord) => void;

/** Emits events of the catalogue. */
export interface EventLogger {
  /** The correlation every event of this logger carries. */
  readonly correlation: Correlation;
  /** Emits one event with its properties. */
  emit<S extends PropertySpecs>(event: LogEventDefinition<S>, properties: PropertiesOf<S>): void;
  /** A logger with the same sink and more correlation (later values win). */
  with(correlation: Correlation): EventLogger;
}

const masked = "***";

/**
 * Secrets that may hide inside a value that is not one (an error message quoting a URL or a
 * connection string): the password of a URL, `key=value` credentials, keys and signatures in a
 * URL's query, bearer tokens, and the webhook URLs of Teams and Power Automate, which are
 * credentials themselves.
 */
const secretPatterns: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /\bhttps?:\/\/[^\s"']*(?:webhook\.office\.com|logic\.azure\.com|powerplatform\.com)[^\s"']*/gi,
    "[webhook URL]",
  ],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']*):[^\s@/"']*@/gi, `$1:${masked}@`],
  [
    /\b(password|pwd|accountkey|sharedaccesskey|sharedaccesssignature|client_secret|access_token|apikey)=([^;&\s"']+)/gi,
    `$1=${masked}`,
  ],
  // A function key or a SAS signature in a URL's query.
  [/([?&](?:code|sig)=)[^&\s"']+/gi, `$1${masked}`],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, `Bearer ${masked}`],
];

/** A string with the secrets {@link secretPatterns} knows masked. */
export function maskSecrets(text: string): string {
  let result = text;
  for (const [pattern, replacement] of secretPatterns)
    result = result.replace(pattern, replacement);
  return result;
}

function maskValue(value: LogValue): LogValue {
  if (typeof value === "string") return maskSecrets(value);
  if (Array.isArray(value)) return value.map((item: string) => maskSecrets(item));
  return value;
}

function render(template: string, values: Readonly<Record<string, unknown>>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) return "(none)";
    return Array.isArray(value) ? value.join(", ") : String(value);
  });
}

/** The record of one event: properties masked, correlation first, the line rendered. */
export function recordOf(
  event: LogEventDefinition,
  correlation: Correlation,
  properties: Readonly<Record<string, LogValue>>,
): LogRecord {
  const all: Record<string, LogValue | number> = { eventId: event.id };
  for (const [name, value] of Object.entries({ ...correlation, ...properties })) {
    if (value !== undefined) all[name] = maskValue(value);
  }
  const line = `${event.name}: ${render(event.message, all)} ${JSON.stringify(all)}`;
  return { event, level: event.level, line, properties: all };
}

/**
 * A logger over a sink.
 *
 * @param sink - where records go.
 * @param correlation - what every event of the logger carries.
 */
export function createEventLogger(sink: LogSink, correlation: Correlation = {}): EventLogger {
  const own = withoutUndefined(correlation);
  return {
    correlation: own,
    emit(event, properties) {
      sink(recordOf(event as LogEventDefinition, own, properties as Record<string, LogValue>));
    },
    with(more) {
      return createEventLogger(sink, { ...own, ...withoutUndefined(more) });
    },
  };
}

function withoutUndefined(correlation: Correlation): Correlation {
  return Object.fromEntries(
    Object.entries(correlation).filter(([, value]) => value !== undefined && value !== ""),
  ) as Correlation;
}

/**
 * The correlation an operation started by this logger's invocation carries in its input; none
 * when the logger knows no invocation (a caller that was given no logger).
 */
export function startedFrom(log: EventLogger): RequestCorrelation | undefined {
  const { invocationId, traceparent } = log.correlation;
  if (!invocationId && !traceparent) return undefined;
  return {
    ...(invocationId ? { invocationId } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
}

/** A logger that drops everything (tests, and callers that were given none). */
export const silentEventLogger: EventLogger = createEventLogger(() => undefined);
