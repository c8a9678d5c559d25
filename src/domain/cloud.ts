/**
 * The Azure clouds pgprotect can work in, and what follows from choosing one: the Resource
 * Manager endpoint, the token audience, Key Vault's DNS suffix, the storage suffix and the
 * Microsoft Entra authority. One table, so that the settings cannot disagree by accident.
 *
 * @remarks Endpoints and suffixes are those of `az cloud show --name <cloud>` and
 * `@azure/identity`'s `AzureAuthorityHosts`. Resource Graph has no endpoint of its own: every
 * cloud serves it from its Resource Manager endpoint.
 */

/** The names `az cloud list` gives the clouds pgprotect knows. */
export const cloudNames = ["AzurePublicCloud", "AzureUSGovernment", "AzureChinaCloud"] as const;

/** One of {@link cloudNames}. */
export type CloudName = (typeof cloudNames)[number];

/** What a cloud's endpoints are. */
export interface CloudProfile {
  readonly name: CloudName;
  /** Resource Manager's origin, without a trailing slash; Resource Graph is served there too. */
  readonly resourceManager: string;
  /**
   * Audiences Resource Manager accepts tokens of in this cloud: its own origin first (what
   * pgprotect asks for), then the classic service-management one older tooling uses.
   */
  readonly tokenAudiences: readonly string[];
  /** Key Vault's DNS suffix, with its leading dot. */
  readonly keyVaultDnsSuffix: string;
  /** Storage's endpoint suffix (`<account>.blob.<suffix>`). */
  readonly storageSuffix: string;
  /** Microsoft Entra ID's authority host. */
  readonly authorityHost: string;
}

/** The clouds, by name. */
export const clouds: Readonly<Record<CloudName, CloudProfile>> = {
  AzurePublicCloud: {
    name: "AzurePublicCloud",
    resourceManager: "https://management.azure.com",
    tokenAudiences: ["https://management.azure.com", "https://management.core.windows.net"],
    keyVaultDnsSuffix: ".vault.azure.net",
    storageSuffix: "core.windows.net",
    authorityHost: "https://login.microsoftonline.com",
  },
  AzureUSGovernment: {
    name: "AzureUSGovernment",
    resourceManager: "https://management.usgovcloudapi.net",
    tokenAudiences: [
      "https://management.usgovcloudapi.net",
      "https://management.core.usgovcloudapi.net",
    ],
    keyVaultDnsSuffix: ".vault.usgovcloudapi.net",
    storageSuffix: "core.usgovcloudapi.net",
    authorityHost: "https://login.microsoftonline.us",
  },
  AzureChinaCloud: {
    name: "AzureChinaCloud",
    resourceManager: "https://management.chinacloudapi.cn",
    tokenAudiences: [
      "https://management.chinacloudapi.cn",
      "https://management.core.chinacloudapi.cn",
    ],
    keyVaultDnsSuffix: ".vault.azure.cn",
    storageSuffix: "core.chinacloudapi.cn",
    authorityHost: "https://login.chinacloudapi.cn",
  },
};

/** An origin compared without case or trailing slash; `undefined` for what is no URL. */
function originOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).origin.toLowerCase() : undefined;
}

/**
 * The cloud a Resource Manager endpoint or token audience belongs to; `undefined` for one of no
 * known cloud (Azure Stack Hub, a test double), which pgprotect takes as it is.
 */
export function cloudOfUrl(url: string): CloudProfile | undefined {
  const origin = originOf(url);
  if (origin === undefined) return undefined;
  return Object.values(clouds).find(
    (cloud) =>
      originOf(cloud.resourceManager) === origin ||
      cloud.tokenAudiences.some((audience) => originOf(audience) === origin),
  );
}

/** The cloud settings as given (each may be absent). */
export interface CloudSettingsInput {
  readonly cloud?: CloudName | undefined;
  readonly resourceManagerEndpoint?: string | undefined;
  readonly tokenAudience?: string | undefined;
}

/** The cloud settings once derived. */
export interface CloudSettings {
  /** The cloud, when known; absent for an endpoint of no known cloud. */
  readonly cloud?: CloudProfile;
  readonly resourceManagerEndpoint: string;
  readonly tokenAudience: string;
}

/** A disagreement between the cloud settings: the setting at fault and one readable sentence. */
export interface CloudSettingsConflict {
  readonly setting: "AZURE_RESOURCE_MANAGER_ENDPOINT" | "AZURE_TOKEN_AUDIENCE";
  readonly message: string;
}

/**
 * Derives the Resource Manager endpoint and the token audience: each from the other settings
 * unless set. The cloud is `AZURE_CLOUD`, else the endpoint's, else the public cloud; the endpoint
 * is the cloud's unless set; the audience is the endpoint's origin unless set.
 *
 * @returns the settings, or the conflicts: an endpoint of another cloud than `AZURE_CLOUD`, or an
 * audience of another cloud than the endpoint's (tokens for one cloud are refused by another).
 */
export function resolveCloudSettings(
  input: CloudSettingsInput,
):
  | { readonly ok: true; readonly value: CloudSettings }
  | { readonly ok: false; readonly conflicts: CloudSettingsConflict[] } {
  const conflicts: CloudSettingsConflict[] = [];
  const named = input.cloud ? clouds[input.cloud] : undefined;
  const endpointCloud =
    input.resourceManagerEndpoint !== undefined
      ? cloudOfUrl(input.resourceManagerEndpoint)
      : undefined;
  if (named && endpointCloud && named.name !== endpointCloud.name) {
    conflicts.push({
      setting: "AZURE_RESOURCE_MANAGER_ENDPOINT",
      message: `AZURE_RESOURCE_MANAGER_ENDPOINT ${input.resourceManagerEndpoint} is ${endpointCloud.name}'s, but AZURE_CLOUD is ${named.name}: leave the endpoint out (${named.name}'s is ${named.resourceManager}) or set AZURE_CLOUD=${endpointCloud.name}`,
    });
  }
  const cloud =
    named ??
    (input.resourceManagerEndpoint === undefined ? clouds.AzurePublicCloud : endpointCloud);
  const resourceManagerEndpoint = (
    input.resourceManagerEndpoint ?? (cloud ?? clouds.AzurePublicCloud).resourceManager
  ).replace(/\/+$/, "");
  const audienceCloud =
    input.tokenAudience !== undefined ? cloudOfUrl(input.tokenAudience) : undefined;
  const judgedBy = endpointCloud ?? named;
  if (judgedBy && audienceCloud && audienceCloud.name !== judgedBy.name) {
    conflicts.push({
      setting: "AZURE_TOKEN_AUDIENCE",
      message: `AZURE_TOKEN_AUDIENCE ${input.tokenAudience} is ${audienceCloud.name}'s, but Resource Manager (${resourceManagerEndpoint}) is ${judgedBy.name}'s, which refuses such tokens: leave AZURE_TOKEN_AUDIENCE out (it follows the endpoint) or set it to ${judgedBy.tokenAudiences[0]}`,
    });
  }
  if (conflicts.length > 0) return { ok: false, conflicts };
  const tokenAudience = (input.tokenAudience ?? resourceManagerEndpoint).replace(/\/+$/, "");
  return {
    ok: true,
    value: { ...(cloud ? { cloud } : {}), resourceManagerEndpoint, tokenAudience },
  };
}
