/** Text helpers shared by the renderers. */

/** The result of {@link clip}. */
export interface Clipped {
  readonly text: string;
  /** Characters (code points) of the original. */
  readonly originalLength: number;
  readonly truncated: boolean;
}

/**
 * Shortens text to at most `max` characters, counting code points so an emoji or a CJK
 * character is never cut in half, and marks the cut with an ellipsis.
 */
export function clip(text: string, max: number): Clipped {
  const chars = Array.from(text);
  if (chars.length <= max) return { text, originalLength: chars.length, truncated: false };
  const kept = Math.max(0, max - 1);
  return {
    text: `${chars.slice(0, kept).join("")}…`,
    originalLength: chars.length,
    truncated: true,
  };
}

/** Clips and returns only the text. */
export function clipText(text: string, max: number): string {
  return clip(text, max).text;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** One line with no control characters: safe for a mail header or a card title. */
export function singleLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim();
}

/** A number with thousands separators, independent of the host's locale. */
export function formatCount(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * `orders (vault-prod)`: a datasource with its vault. A vault-wide alert's datasource is the vault
 * itself, so its name is said once.
 */
export function datasourceAndVault(datasourceName: string, vaultName: string): string {
  return datasourceName.toLowerCase() === vaultName.toLowerCase()
    ? datasourceName
    : `${datasourceName} (${vaultName})`;
}
