/**
 * The tags of a backup instance's datasource, as the backup plans and the drill schedules select
 * instances by them.
 */
import { isAppError } from "../domain/errors.js";
import type { BackupInstance } from "../domain/protection/types.js";
import type { Provider } from "../providers/ports.js";

/** The datasource's tags; none for a datasource that is gone. */
export async function datasourceTags(
  directory: Provider["directory"],
  instance: BackupInstance,
): Promise<Readonly<Record<string, string>>> {
  try {
    return await directory.getTags(instance.dataSourceInfo.resourceId);
  } catch (error) {
    // A datasource that is gone has no tags to select it by.
    if (isAppError(error) && error.httpStatus === 404) return {};
    throw error;
  }
}
