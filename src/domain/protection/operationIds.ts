/**
 * The ids of the app's durable orchestration instances, in one place: every start that must
 * happen once derives its id here (see `application/orchestrationPort.ts` for the start policy).
 *
 * The ids of the durable operations that protect a datasource or every database of a server: the
 * same target always maps to the same id (so asking twice reaches one operation), and distinct
 * targets to distinct ids, whatever their case or characters.
 *
 * @remarks An id is a readable part (the server and database names, folded to `[a-z0-9-]` and
 * shortened) and a hash of the exact resource id in its {@link resourceIdKey} form: the readable
 * part alone collides (`Demo` and `demo`, `sales-eu` and `sales_eu`), the hash does not. Earlier
 * versions used the readable part of the whole id alone; {@link legacyProtectionInstanceId} gives
 * those ids, so that an operation started under one is still found, after checking it is for the
 * same target, since such an id is shared by targets that differ only in case or characters.
 */
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";
import { parseResourceId, resourceIdKey } from "./ids.js";

/** Hex digits of the hash in an id: 64 bits, far beyond any fleet's count of databases. */
const hashLength = 16;
/** Characters of the readable part, so that an id stays well under Durable's 100-character limit. */
const readableLength = 60;

/** Lower-cased, every run of characters outside `[a-z0-9]` one '-', trimmed and shortened. */
function readable(text: string): string {
  const folded = text
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return folded.slice(0, readableLength).replace(/-+$/, "") || "x";
}

/** The names in a resource id after the provider, joined: `local-sales` for a database. */
function namesOf(resourceId: string): string {
  try {
    return parseResourceId(resourceId)
      .segments.map((segment) => segment.name)
      .join("-");
  } catch {
    return resourceId;
  }
}

/** The hash of what a resource id names, exactly. */
export function resourceIdHash(resourceId: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(resourceIdKey(resourceId)))).slice(
    0,
    hashLength,
  );
}

/**
 * The durable instance id that protects a datasource (a database or a whole Flexible Server):
 * `protect-<server>-<db>-<hash>`.
 */
export function protectionInstanceId(datasourceId: string): string {
  return `protect-${readable(namesOf(datasourceId))}-${resourceIdHash(datasourceId)}`;
}

/**
 * The durable instance id that protects every database of a server one by one:
 * `protect-server-<server>-<hash>`. The `server-` infix keeps it apart from the instance that
 * protects a Flexible Server whole.
 */
export function serverProtectionInstanceId(serverId: string): string {
  return `protect-server-${readable(namesOf(serverId))}-${resourceIdHash(serverId)}`;
}

/** The id earlier versions gave: the whole id lower-cased, other characters as '-'. */
function legacyForm(resourceId: string): string {
  return resourceId
    .toLowerCase()
    .replace(/^\/+/, "")
    .replace(/[^a-z0-9.-]+/g, "-");
}

/**
 * The instance id earlier versions gave the protection of a datasource. It is shared by every
 * datasource whose id differs only in case or in characters outside `[a-z0-9.-]`: an operation
 * found under it answers for a datasource only when its input names that very datasource.
 */
export function legacyProtectionInstanceId(datasourceId: string): string {
  return `protect-${legacyForm(datasourceId)}`;
}

/** The instance id earlier versions gave the protection of every database of a server. */
export function legacyServerProtectionInstanceId(serverId: string): string {
  return `protect-server-${legacyForm(serverId)}`;
}

/** The durable instance id that follows an ad-hoc backup job: `adhoc-<job>`. */
export function adhocBackupInstanceId(jobName: string): string {
  return `adhoc-${jobName.toLowerCase()}`;
}

/**
 * The orchestration instance id of one plan occurrence for one backup instance: the same plan,
 * instance and occurrence always give the same id, so a timer that fires again starts nothing new.
 */
export function planRunInstanceId(
  planName: string,
  backupInstanceName: string,
  occurrence: Date,
): string {
  const at = occurrence
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  return `plan-${planName}-${backupInstanceName}-${at}`.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
}

/** The one instance id every pass of the job watcher runs under. */
export const jobWatcherInstanceId = "pgprotect-job-watcher";
