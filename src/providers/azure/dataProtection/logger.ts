/**
 * The client's logger, in the Azure SDK's logging scheme (enable with `AZURE_LOG_LEVEL`).
 */
import { createClientLogger } from "@azure/logger";

/** Logger of the Data Protection client. */
export const logger = createClientLogger("pgprotect-dataprotection");
