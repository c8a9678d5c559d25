import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { errorCatalogue } from "../../../src/domain/errorCodes.js";
import { errorCodeSectionHeading, errorCodeTable } from "../../../src/http/errorCodeTable.js";
import { openApiDocument } from "../../../src/http/openapi.js";

const codes = Object.keys(errorCatalogue);

type Schema = { enum?: string[]; oneOf?: { const: string; description?: string }[]; $ref?: string };

function schemasOf(document: Record<string, unknown>): Record<string, Record<string, unknown>> {
  return (document["components"] as { schemas: Record<string, Record<string, unknown>> }).schemas;
}

/** The lines of the README section under `heading`, up to the next heading of its level or above. */
function section(readme: string, heading: string): string[] {
  const lines = readme.split("\n");
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start === -1) return [];
  const level = heading.indexOf(" ");
  const end = lines.findIndex(
    (line, index) => index > start && /^#+ /.test(line) && line.indexOf(" ") <= level,
  );
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** The cells of a Markdown table's rows (delimiter row left out), however the columns are padded. */
function cellsOf(lines: readonly string[]): string[][] {
  return lines
    .filter((line) => line.startsWith("|") && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

describe("the error codes as part of the API", () => {
  it("lists every code of the catalogue, with its meaning, on the problem's code in the OpenAPI document", () => {
    const schemas = schemasOf(openApiDocument());
    const errorCode = schemas["ErrorCode"] as Schema;
    const problem = schemas["ProblemDetails"] as { properties: Record<string, Schema> };

    const described = (errorCode.oneOf ?? [])
      .filter((entry) => (entry.description ?? "").trim() !== "")
      .map((entry) => entry.const);

    expect(problem.properties["code"]).toEqual({ $ref: "#/components/schemas/ErrorCode" });
    expect(errorCode.enum).toEqual(codes);
    expect(described).toEqual(codes);
  });

  it(`lists every code of the catalogue in the README's table under '${errorCodeSectionHeading}', as the script prints it`, async () => {
    const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");

    const table = cellsOf(section(readme, errorCodeSectionHeading));
    const missing = codes.filter((code) => !table.some((row) => row[0] === `\`${code}\``));

    expect(missing).toEqual([]);
    expect(table).toEqual(cellsOf(errorCodeTable()));
  });
});
