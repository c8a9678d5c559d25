/** The log catalogue and its loggers (see `logEvents.ts`). */
export { logEvents, defineLogEvent, isSecretName } from "./logEvents.js";
export type { LogEventDefinition, LogLevel, PropertiesOf, PropertySpecs } from "./logEvents.js";
export {
  createEventLogger,
  maskSecrets,
  silentEventLogger,
  type Correlation,
  type EventLogger,
  type LogRecord,
  type LogSink,
  type RequestCorrelation,
} from "./eventLogger.js";
export { consoleEventLogger } from "./consoleLogger.js";
