import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatDatabaseId,
  formatServerId,
  LOCAL_SCOPE,
} from "../../../src/domain/protection/ids.js";
import { LocalResourceDirectory } from "../../../src/providers/local/resourceDirectory.js";
import { usePostgresCluster } from "../../support/postgres.js";

describe("local resource directory", () => {
  const pgFixture = usePostgresCluster();
  let stateDir: string;
  let directory: LocalResourceDirectory;
  const databaseId = (name: string) =>
    formatDatabaseId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local", databaseName: name });

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "pgprotect-dir-"));
    await pgFixture.query("postgres", "CREATE DATABASE sales");
    await pgFixture.query(
      "postgres",
      `COMMENT ON DATABASE sales IS '{"backup-policy": "gold", "owner": "Zoë"}'`,
    );
    directory = new LocalResourceDirectory({
      stateDir,
      servers: [
        {
          name: "local",
          connectionString: pgFixture.cluster.connectionUrl(),
          tags: { env: "dev" },
        },
      ],
    });
  });

  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it("lists the configured server and its databases with ARM-shaped ids", async () => {
    const servers = await directory.listServers();
    const databases = await directory.listDatabases(servers[0]!.id);

    expect(servers).toEqual([
      {
        id: formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local" }),
        name: "local",
        kind: "servers",
        location: "local",
        tags: { env: "dev" },
      },
    ]);
    expect(databases.map((d) => d.id)).toEqual([databaseId("postgres"), databaseId("sales")]);
  });

  it("reads tags a DBA wrote with COMMENT ON DATABASE, and none from a free-text comment", async () => {
    await pgFixture.query("postgres", "CREATE DATABASE notes");
    await pgFixture.query("postgres", "COMMENT ON DATABASE notes IS 'just a note for humans'");

    expect(await directory.getTags(databaseId("sales"))).toEqual({
      "backup-policy": "gold",
      owner: "Zoë",
    });
    expect(await directory.getTags(databaseId("notes"))).toEqual({});
    expect((await directory.resolveDatabase("local", "sales")).tags).toEqual({
      "backup-policy": "gold",
      owner: "Zoë",
    });
    await expect(directory.resolveDatabase("local", "missing")).rejects.toMatchObject({
      code: "RESOURCE_NOT_FOUND",
    });
    await expect(directory.resolveServer("elsewhere")).rejects.toMatchObject({
      code: "RESOURCE_NOT_FOUND",
    });
  });

  it("reports new databases and tag changes after a watermark as resource writes, once, across restarts", async () => {
    // Arrange
    const first = await directory.changesSince();
    await pgFixture.query("postgres", "CREATE DATABASE fresh");
    await directory.setDatabaseTags("local", "sales", { "backup-policy": "silver" });

    // Act
    const next = await directory.changesSince(first.watermark);
    const restarted = new LocalResourceDirectory({
      stateDir,
      servers: [
        {
          name: "local",
          connectionString: pgFixture.cluster.connectionUrl(),
          tags: { env: "dev" },
        },
      ],
    });
    const afterRestart = await restarted.changesSince(next.watermark);

    // Assert
    expect(first.changes.map((c) => [c.reason, c.resourceId])).toEqual(
      expect.arrayContaining([
        ["created", databaseId("sales")],
        ["created", formatServerId({ ...LOCAL_SCOPE, kind: "servers", serverName: "local" })],
      ]),
    );
    expect(
      next.changes.map((c) => ({
        reason: c.reason,
        id: c.resourceId,
        op: c.operationName,
        tags: c.tags,
        type: c.eventType,
      })),
    ).toEqual([
      {
        reason: "created",
        id: databaseId("fresh"),
        op: "Microsoft.DBforPostgreSQL/servers/databases/write",
        tags: {},
        type: "Microsoft.Resources.ResourceWriteSuccess",
      },
      {
        reason: "tagsChanged",
        id: databaseId("sales"),
        op: "Microsoft.DBforPostgreSQL/servers/databases/write",
        tags: { "backup-policy": "silver" },
        type: "Microsoft.Resources.ResourceWriteSuccess",
      },
    ]);
    expect(afterRestart.changes).toEqual([]);
    expect(afterRestart.watermark).toBe(next.watermark);
  });

  it("rejects a watermark it never issued", async () => {
    await expect(directory.changesSince("yesterday")).rejects.toMatchObject({
      code: "INVALID_WATERMARK",
    });
  });
});
