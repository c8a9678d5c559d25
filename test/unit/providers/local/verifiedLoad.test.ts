import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { CopyRows } from "../../../../src/providers/local/verifiedLoad.js";

/** Passes `chunks` through a row counter; what came out and the rows counted. */
async function through(chunks: readonly string[]): Promise<{ output: string; rows: number }> {
  const rows = new CopyRows();
  const out: Buffer[] = [];
  rows.on("data", (chunk: Buffer) => out.push(chunk));
  await new Promise<void>((resolve, reject) => {
    rows.on("end", resolve).on("error", reject);
    Readable.from(chunks.map((c) => Buffer.from(c))).pipe(rows);
  });
  return { output: Buffer.concat(out).toString(), rows: rows.rows };
}

describe("a table's data on their way to COPY", () => {
  it("counts every row and passes them on without the end marker and what follows it", async () => {
    const result = await through(["1\tone\n2\ttwo\n", "3\tthree\n\\.\n\n\n"]);

    expect(result).toEqual({ output: "1\tone\n2\ttwo\n3\tthree\n", rows: 3 });
  });

  it("finds the end marker split across reads, at any place", async () => {
    const data = "10\tx\n20\ty\n\\.\n\n\n";
    for (let cut = 1; cut < data.length; cut += 1) {
      const result = await through([data.slice(0, cut), data.slice(cut)]);
      expect(result, `cut at ${cut}`).toEqual({ output: "10\tx\n20\ty\n", rows: 2 });
    }
  });

  it("passes on an escaped backslash-dot value as a row, not as the marker", async () => {
    const result = await through(["\\\\.\n", "a\\.b\n\\.\n"]);

    expect(result).toEqual({ output: "\\\\.\na\\.b\n", rows: 2 });
  });

  it("counts a row longer than a read once, with its bytes in order", async () => {
    const long = "x".repeat(70_000);
    const result = await through(["1\t", long.slice(0, 30_000), long.slice(30_000), "\n\\.\n"]);

    expect(result).toEqual({ output: `1\t${long}\n`, rows: 1 });
  });
});
