/**
 * The fake Resource Manager's Resource Graph answer about storage accounts: the query pgprotect
 * sends to find a restore container's storage account by its name
 * (`resources | where type =~ 'microsoft.storage/storageaccounts' and name =~ '<name>' | ...`),
 * over the storage accounts the test registered with the fake's restores.
 */

/** The start of the storage account query; the fake refuses queries it does not know. */
export const storageAccountsQuery = "resources | where type =~ 'microsoft.storage/storageaccounts'";

/** Whether a Resource Graph query is the storage account query. */
export function isStorageAccountsQuery(query: string): boolean {
  return query.startsWith(storageAccountsQuery);
}

/**
 * The rows of a storage account query: the registered accounts in the queried subscriptions
 * whose name the query's `name =~ '<name>'` names (every account without that filter).
 */
export function storageAccountRows(
  query: string,
  subscriptions: readonly string[],
  accounts: readonly { readonly id: string }[],
): { id: string; name: string; type: string }[] {
  const name = /\bname =~ '([^']*)'/.exec(query)?.[1]?.toLowerCase();
  const visible = new Set(subscriptions.map((s) => s.toLowerCase()));
  return accounts
    .map((account) => ({
      id: account.id,
      name: account.id.split("/").pop() ?? "",
      subscription: /^\/subscriptions\/([^/]+)/i.exec(account.id)?.[1]?.toLowerCase() ?? "",
    }))
    .filter((account) => visible.has(account.subscription))
    .filter((account) => name === undefined || account.name.toLowerCase() === name)
    .sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()))
    .map((account) => ({
      id: account.id,
      name: account.name,
      type: "microsoft.storage/storageaccounts",
    }));
}
