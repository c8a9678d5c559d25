import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConnectionString } from "../../../src/domain/protection/connectionString.js";
import { dumpDatabaseToFile } from "../../../src/providers/local/dumpFile.js";
import { verifyRestoredDatabase } from "../../../src/providers/local/restoreVerification.js";
import { usePostgresCluster } from "../../support/postgres.js";

describe("restore verification of rows longer than one read of the tool's output", () => {
  const pgFixture = usePostgresCluster();
  let scratch: string;
  let dumpPath: string;

  beforeAll(async () => {
    await pgFixture.query("postgres", "CREATE DATABASE wide");
    await pgFixture.query(
      "wide",
      `CREATE TABLE public.notes (id int PRIMARY KEY, body text);
       INSERT INTO public.notes VALUES
         (1, repeat('a', 3 * 1024 * 1024)), (2, 'short'), (3, repeat('é', 200000) || E'\\r\\n' || 'end');`,
    );
    scratch = await mkdtemp(path.join(tmpdir(), "pgprotect-longrows-"));
    dumpPath = path.join(scratch, "wide.dump");
    await dumpDatabaseToFile({
      binDir: pgFixture.cluster.binDir,
      params: parseConnectionString(pgFixture.cluster.connectionUrl()),
      database: "wide",
      file: dumpPath,
    });
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("verifies a database whose rows span many reads against its own dump", async () => {
    // Act
    const report = await verifyRestoredDatabase(
      pgFixture.cluster.binDir,
      dumpPath,
      parseConnectionString(pgFixture.cluster.connectionUrl()),
      "wide",
    );

    // Assert
    expect(report).toMatchObject({ verified: true, mismatches: [] });
    expect(report.tables).toEqual([
      expect.objectContaining({
        table: "public.notes",
        expectedRows: 3,
        actualRows: 3,
        matches: true,
      }),
    ]);
  });

  it("finds one changed byte at the end of a row of several megabytes", async () => {
    // Arrange
    await pgFixture.query(
      "wide",
      `UPDATE public.notes SET body = repeat('a', 3 * 1024 * 1024 - 1) || 'b' WHERE id = 1`,
    );

    // Act
    const report = await verifyRestoredDatabase(
      pgFixture.cluster.binDir,
      dumpPath,
      parseConnectionString(pgFixture.cluster.connectionUrl()),
      "wide",
    );

    // Assert
    expect(report.verified).toBe(false);
    expect(report.mismatches).toEqual(["public.notes: same row count (3) but different content"]);
  });
});
