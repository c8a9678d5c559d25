/**
 * One backup at a time per backup instance: the code a second request is refused with, shared by
 * the providers (which refuse) and the orchestrations (which skip a plan's backup on it).
 */

import { ErrorCodes } from "../errorCodes.js";

/**
 * A backup of the same backup instance is running; the refusal names the running job. The
 * catalogue's code (the service says `UserErrorBackupInProgress`).
 */
export const BACKUP_IN_PROGRESS_CODE = ErrorCodes.BACKUP_IN_PROGRESS;
