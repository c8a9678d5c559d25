/**
 * What every Azure client of the app takes from the one resolved cloud (`AZURE_CLOUD`, derived in
 * `config.ts` from the cloud or the Resource Manager endpoint, see `domain/cloud.ts`): the
 * Microsoft Entra authority its credential signs in at, and the storage suffix host storage
 * endpoints are built on. One place, so that no client is left asking the public cloud for tokens
 * in a sovereign one.
 *
 * @remarks Loads no Azure library: local runs read it too. The credential is in `cloudCredential.ts`.
 */
import { clouds, type CloudName, type CloudProfile } from "../domain/cloud.js";

/** The resolved cloud, as the settings carry it; absent for an endpoint of no known cloud. */
export interface CloudSetting {
  readonly AZURE_CLOUD?: CloudName | undefined;
}

/** Settings read from the environment, by name. */
export type SettingLookup = (name: string) => string | undefined;

const environment: SettingLookup = (name) => process.env[name];

/**
 * The cloud whose suffixes apply: the resolved one, else the public cloud (an endpoint of no known
 * cloud, such as a test double, keeps the public cloud's storage and login as it always did).
 */
export function cloudProfileOf(config: CloudSetting): CloudProfile {
  return clouds[config.AZURE_CLOUD ?? "AzurePublicCloud"];
}

/** The storage endpoint suffix of the cloud (`core.usgovcloudapi.net`), without a leading dot. */
export function storageSuffixOf(config: CloudSetting): string {
  return cloudProfileOf(config).storageSuffix;
}

/**
 * The authority host a credential is given: the cloud's, unless `AZURE_AUTHORITY_HOST` is set
 * (Azure Identity reads that itself, and an explicit option would override it) or the cloud is
 * unknown (Azure Identity's default then applies, as before).
 */
export function authorityHostOf(
  config: CloudSetting,
  lookup: SettingLookup = environment,
): string | undefined {
  if (lookup("AZURE_AUTHORITY_HOST")) return undefined;
  return config.AZURE_CLOUD ? clouds[config.AZURE_CLOUD].authorityHost : undefined;
}
