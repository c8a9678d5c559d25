/**
 * Which vaults the app covers, and finding one of them by name: the one home of that rule for
 * the listings, the look-ups, protection and the timers.
 */
import { isAppError, NotFoundError } from "../domain/errors.js";
import { parseVaultId, sameResourceId } from "../domain/protection/ids.js";
import { assertName, vaultNameRule } from "../domain/protection/names.js";
import type { ApplicationDependencies } from "./dependencies.js";

/** What the vault rules read: the configured vaults and the provider's own list of vaults. */
export type VaultDependencies = Pick<ApplicationDependencies, "provider" | "vaults">;

/**
 * Every vault the app covers: the configured ones (`BACKUP_VAULT_IDS`); without any, the default
 * vault and every vault the provider lists (the local provider's vaults on disk). Empty when no
 * vault is configured and the provider has no default.
 */
export async function coveredVaultIds(deps: VaultDependencies): Promise<string[]> {
  const ids = configuredVaultIds(deps.vaults);
  if (deps.vaults.ids.length > 0) return ids;
  for (const name of (await deps.provider.backup.listVaultNames?.()) ?? []) {
    const id = deps.vaults.resolve(name);
    if (!ids.some((known) => sameResourceId(known, id))) ids.push(id);
  }
  return ids;
}

/**
 * The vaults the settings name: the configured ones, or the default vault; empty when there is
 * neither. {@link coveredVaultIds} adds the vaults the provider lists.
 */
export function configuredVaultIds(vaults: VaultDependencies["vaults"]): string[] {
  if (vaults.ids.length > 0) return [...vaults.ids];
  try {
    return [vaults.resolve()];
  } catch (error) {
    if (isAppError(error) && error.httpStatus === 404) return [];
    throw error;
  }
}

/**
 * The vaults a request covers: the one it names, or every vault the app covers.
 *
 * @throws InvalidInputError `VAULT_NAME_INVALID`; NotFoundError `VAULT_NOT_FOUND` or
 * `VAULT_NOT_CONFIGURED` for a vault that is not one of the app's (or none at all).
 */
export async function vaultsToSearch(
  deps: VaultDependencies,
  vaultName?: string,
): Promise<string[]> {
  if (vaultName) return [await existingVaultId(deps, vaultName)];
  const covered = await coveredVaultIds(deps);
  // None at all: the directory says why (no vault named, none configured).
  return covered.length > 0 ? covered : [deps.vaults.resolve()];
}

/**
 * The id of a vault the app covers, by name, as the vault spells it: Azure names ignore case, so
 * `PGPROTECT-VAULT` is the vault `pgprotect-vault`, never a second one. Without a name, the
 * default vault.
 *
 * @param path - where the name is in the request, for a refused name.
 * @param remedy - the recommended action for a vault that does not exist, when the caller has a
 * better one than the default.
 * @throws InvalidInputError `VAULT_NAME_INVALID`; NotFoundError `VAULT_NOT_FOUND` (or
 * `VAULT_NOT_CONFIGURED`) for a vault the app does not have.
 */
export async function existingVaultId(
  deps: VaultDependencies,
  vaultName?: string,
  path = "path.vault",
  remedy?: (vaultName: string) => string,
): Promise<string> {
  if (vaultName !== undefined) assertName(vaultNameRule, vaultName, path);
  const asked = deps.vaults.resolve(vaultName);
  const known = (await coveredVaultIds(deps)).find((id) => sameResourceId(id, asked));
  if (known) return known;
  const name = vaultName ?? parseVaultId(asked).vaultName;
  throw new NotFoundError("VAULT_NOT_FOUND", `There is no vault '${name}'`, {
    recommendedAction: remedy
      ? remedy(name)
      : deps.vaults.ids.length > 0
        ? `Use one of ${deps.vaults.ids.map((id) => parseVaultId(id).vaultName).join(", ")}, or add the vault to BACKUP_VAULT_IDS`
        : `Use the default vault ${parseVaultId(deps.vaults.resolve()).vaultName}, or create this one first: pgprotect local vault create ${name}`,
  });
}
