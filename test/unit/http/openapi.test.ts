import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../../src/http/openapi.js";

/** Every `$ref` in a JSON value, in document order. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === "$ref" && typeof inner === "string" ? [inner] : refsIn(inner),
  );
}

/** What a local reference (`#/components/...`) points at, if anything. */
function resolve(document: unknown, ref: string): unknown {
  return ref
    .replace(/^#\//, "")
    .split("/")
    .reduce<unknown>(
      (node, key) =>
        typeof node === "object" && node !== null
          ? (node as Record<string, unknown>)[key]
          : undefined,
      document,
    );
}

describe("the OpenAPI document", () => {
  it("points every reference at something it defines", () => {
    const document = openApiDocument();

    const dangling = refsIn(document).filter((ref) => resolve(document, ref) === undefined);

    expect(refsIn(document).length).toBeGreaterThan(50);
    expect(dangling).toEqual([]);
  });

  it("takes the paging parameters of jobs and drills from one shared definition", () => {
    const document = openApiDocument() as {
      paths: Record<string, { get: { parameters: unknown[] } }>;
      components: { parameters: Record<string, { name: string }> };
    };

    const shared = (route: string) =>
      refsIn(document.paths[route]?.get.parameters).map(
        (ref) => (resolve(document, ref) as { name: string }).name,
      );

    expect(shared("/jobs")).toEqual(["vault", "instance", "top", "continuationToken"]);
    expect(shared("/drills")).toEqual(["instance", "top", "continuationToken"]);
  });
});
