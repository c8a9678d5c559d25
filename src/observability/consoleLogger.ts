/** A logger over the console, for code that runs outside an invocation (the app's start, the CLI). */
import { createEventLogger, type Correlation, type EventLogger } from "./eventLogger.js";

/**
 * Writes each event as one line on stdout, or stderr from `warning` up.
 *
 * @remarks In a Functions worker the console is the worker's log, which the host keeps too.
 */
export function consoleEventLogger(correlation: Correlation = {}): EventLogger {
  return createEventLogger((record) => {
    if (record.level === "warning" || record.level === "error") console.error(record.line);
    else console.log(record.line);
  }, correlation);
}
