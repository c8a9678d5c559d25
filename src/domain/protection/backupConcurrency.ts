/**
 * One backup at a time per backup instance: the code a second request is refused with, shared by
 * the providers (which refuse) and the orchestrations (which skip a plan's backup on it).
 */

/** A backup of the same backup instance is running; the refusal names the running job. */
export const BACKUP_IN_PROGRESS_CODE = "UserErrorBackupInProgress";
