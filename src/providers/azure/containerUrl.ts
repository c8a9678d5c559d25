/** What the app reads from a blob container's URL. */

/**
 * The container's name: the last segment of its URL, in the account style
 * (`https://{account}.blob.core.windows.net/{container}`) and the path style the emulator serves
 * (`http://127.0.0.1:10000/{account}/{container}`), a trailing slash ignored.
 */
export function containerNameOf(containerUrl: string): string {
  return new URL(containerUrl).pathname.split("/").filter(Boolean).at(-1) ?? "";
}
