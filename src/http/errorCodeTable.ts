/**
 * The catalogue of error codes as the README's table: one row per code with its HTTP status,
 * the service's code it stands for, and its meaning. `scripts/error-codes-table.mjs` prints it
 * and a test holds the README to it.
 */
import { errorCatalogue, type ErrorCode, type ErrorCodeEntry } from "../domain/errorCodes.js";

/** The heading of the README section that holds the table. */
export const errorCodeSectionHeading = "## Error codes";

/** A Markdown table cell: pipes escaped, so a meaning cannot end its cell. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** The table, in the catalogue's order, as Markdown lines (header first). */
export function errorCodeTable(): string[] {
  const rows = (Object.entries(errorCatalogue) as [ErrorCode, ErrorCodeEntry][]).map(
    ([code, entry]) => {
      const service = [entry.serviceCode, ...(entry.otherServiceCodes ?? [])]
        .filter((value): value is string => value !== undefined)
        .map((value) => `\`${value}\``)
        .join(", ");
      const status = entry.httpStatus === undefined ? "" : String(entry.httpStatus);
      return `| \`${code}\` | ${status} | ${service} | ${cell(entry.meaning)} |`;
    },
  );
  return ["| Code | HTTP | Service's code | Meaning |", "| --- | --- | --- | --- |", ...rows];
}
