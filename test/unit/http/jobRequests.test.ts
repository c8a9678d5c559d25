import { describe, expect, it } from "vitest";
import { parseJobQuery } from "../../../src/http/jobRequests.js";

const parse = (query: string, accept: string | null = null) =>
  parseJobQuery(new URLSearchParams(query), accept);

describe("parseJobQuery", () => {
  it("reads a window, an instance and the filters", () => {
    const query = parse(
      "from=2025-01-01T00:00:00Z&to=2025-02-01&instance=local/sales&status=failed&operation=Restore",
    );

    expect(query).toMatchObject({
      from: "2025-01-01T00:00:00.000Z",
      to: "2025-02-01T00:00:00.000Z",
      instance: "local/sales",
      filter: { status: ["Failed"], operation: ["Restore"] },
      format: "json",
    });
  });

  it("exports CSV when asked by format or by Accept, and JSON when Accept prefers it", () => {
    expect(parse("format=csv").format).toBe("csv");
    expect(parse("", "text/csv").format).toBe("csv");
    expect(parse("", "text/csv;q=0.9, */*").format).toBe("csv");
    expect(parse("", "application/json, text/csv").format).toBe("json");
    expect(parse("format=json", "text/csv").format).toBe("json");
  });

  it("names every bad parameter: a window ending before it starts, an unknown format", () => {
    let problems: unknown;
    try {
      parse("from=2025-02-01&to=2025-01-01&format=xml");
    } catch (error) {
      problems = (error as { problems?: unknown }).problems;
    }

    expect(problems).toEqual([
      expect.objectContaining({ path: "query.to", code: "JOBS_QUERY_INVALID" }),
      expect.objectContaining({ path: "query.format", code: "JOBS_QUERY_INVALID" }),
    ]);
  });
});
