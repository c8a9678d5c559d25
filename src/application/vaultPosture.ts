/**
 * The vault posture user story: each vault the app covers, its security settings as its provider
 * reads them, and the warnings where they fall short of the recommended baseline
 * (`domain/vault/posture.ts`, the one home of that judgement).
 */
import { AppError, isAppError, NotFoundError, toAppError } from "../domain/errors.js";
import type { ErrorCode } from "../domain/errorCodes.js";
import { parseVaultId } from "../domain/protection/ids.js";
import {
  assessVaultPosture,
  type PostureWarning,
  type VaultSecuritySettings,
} from "../domain/vault/posture.js";
import type { ApplicationDependencies } from "./dependencies.js";
import { coveredVaultIds, existingVaultId } from "./vaults.js";

/** What the posture reads: the vault rules' dependencies and which provider backs the app. */
export type VaultPostureDependencies = Pick<ApplicationDependencies, "provider" | "vaults"> & {
  readonly config: Pick<ApplicationDependencies["config"], "PGPROTECT_PROVIDER">;
};

/** One vault's posture, as `GET /api/vaults` and `GET /api/vaults/{name}` answer it. */
export interface VaultPostureView {
  readonly name: string;
  /** The vault's ARM id. */
  readonly id: string;
  readonly resourceGroup: string;
  /** Which provider keeps the vault: an Azure Backup vault, or the local provider's folder. */
  readonly provider: "azure" | "local";
  /** The settings as read; null only when the vault could not be read (see `error`). */
  readonly settings: VaultSecuritySettings | null;
  /** True when no warning stands (nothing unknown either). */
  readonly meetsBaseline: boolean;
  /** The warnings, the most severe first. */
  readonly warnings: readonly PostureWarning[];
  /** Why the vault could not be read (in a listing only; a single vault answers a problem). */
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

async function postureOf(
  deps: VaultPostureDependencies,
  vaultId: string,
): Promise<VaultPostureView> {
  const port = deps.provider.vaultSettings;
  if (!port)
    throw new AppError("PROVIDER_UNAVAILABLE", "This provider does not read vault settings", {
      httpStatus: 503,
    });
  const ref = parseVaultId(vaultId);
  const local = deps.config.PGPROTECT_PROVIDER === "local";
  let settings: VaultSecuritySettings;
  try {
    settings = await port.readVaultSettings(vaultId);
  } catch (error) {
    if (!isAppError(error) || error.httpStatus !== 404) throw error;
    throw new NotFoundError("VAULT_NOT_FOUND", `There is no vault '${ref.vaultName}'`, {
      cause: error,
      recommendedAction: `Check BACKUP_VAULT_IDS: the vault ${vaultId} does not exist, or the app's identity cannot see it`,
    });
  }
  const posture = assessVaultPosture(settings, {
    vaultName: ref.vaultName,
    resourceGroup: ref.resourceGroup,
    local,
  });
  return {
    name: ref.vaultName,
    id: vaultId,
    resourceGroup: ref.resourceGroup,
    provider: local ? "local" : "azure",
    settings: posture.settings,
    meetsBaseline: posture.meetsBaseline,
    warnings: posture.warnings,
  };
}

/**
 * The posture of every vault the app covers, by name. A vault that cannot be read is listed with
 * its error rather than failing the others.
 */
export async function listVaultPostures(
  deps: VaultPostureDependencies,
): Promise<VaultPostureView[]> {
  const ids = await coveredVaultIds(deps);
  const views = await Promise.all(
    ids.map(async (id): Promise<VaultPostureView> => {
      try {
        return await postureOf(deps, id);
      } catch (thrown) {
        const error = toAppError(thrown);
        // A fault of the app's own is a failure of the request, not of one vault.
        if (error.code === "INTERNAL" || error.code === "PROVIDER_UNAVAILABLE") throw error;
        const ref = parseVaultId(id);
        return {
          name: ref.vaultName,
          id,
          resourceGroup: ref.resourceGroup,
          provider: deps.config.PGPROTECT_PROVIDER === "local" ? "local" : "azure",
          settings: null,
          meetsBaseline: false,
          warnings: [],
          error: { code: error.code, message: error.message },
        };
      }
    }),
  );
  return views.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * One vault's posture.
 *
 * @throws InvalidInputError `VAULT_NAME_INVALID`; NotFoundError `VAULT_NOT_FOUND` for a vault the
 * app does not cover or that does not exist.
 */
export async function getVaultPosture(
  deps: VaultPostureDependencies,
  vaultName: string,
): Promise<VaultPostureView> {
  return postureOf(deps, await existingVaultId(deps, vaultName, "path.name"));
}
