/**
 * Where the Azure provider's events go when the app gives it no logger of its own.
 */
import { createEventLogger, type EventLogger } from "../../observability/eventLogger.js";
import { logger } from "./dataProtection/logger.js";

/**
 * The provider's events written to the Azure SDK's log, as the client's own lines are (shown
 * when `AZURE_LOG_LEVEL` asks for them): named events with their properties either way, and a
 * provider built without a logger (tests, scripts) stays as quiet as the SDK.
 */
export const azureSdkEventLogger: EventLogger = createEventLogger((record) => {
  if (record.level === "error") logger.error(record.line);
  else if (record.level === "warning") logger.warning(record.line);
  else if (record.level === "information") logger.info(record.line);
  else logger.verbose(record.line);
});
