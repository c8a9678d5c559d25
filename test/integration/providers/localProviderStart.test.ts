import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startLocalProvider } from "../../../src/providers/local/index.js";

describe("starting the local provider with no server configured", () => {
  const folders: string[] = [];

  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it("starts a private cluster under the state folder, serves it as server 'local' and stops it on close", async () => {
    // Arrange
    const stateDir = await mkdtemp(path.join(tmpdir(), "pgs-"));
    folders.push(stateDir);
    // As a project folder would be: open to the server's user, who runs it when tests run as root.
    await chmod(stateDir, 0o755);

    // Act
    const started = await startLocalProvider({
      PGPROTECT_STATE_DIR: stateDir,
      DATABASE_URL: undefined,
      LOCAL_POSTGRES_SERVERS: undefined,
    });
    const servers = await started.provider.directory.listServers();
    const databases = await started.provider.directory.listDatabases();
    const url = started.cluster!.connectionUrl();
    await started.close();

    // Assert
    expect(started.cluster?.dataDir).toBe(path.join(stateDir, "postgres", "data"));
    expect(servers.map((s) => s.name)).toEqual(["local"]);
    expect(databases.map((d) => d.name)).toEqual(["postgres"]);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    client.on("error", () => undefined);
    await expect(client.connect()).rejects.toThrow();
  });

  it("fails with the folder to fix when the state folder is closed to the server's user", async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), "pgs-"));
    folders.push(stateDir);

    const attempt = startLocalProvider({
      PGPROTECT_STATE_DIR: stateDir,
      DATABASE_URL: undefined,
      LOCAL_POSTGRES_SERVERS: undefined,
    });

    if (process.getuid?.() === 0) {
      await expect(attempt).rejects.toMatchObject({
        code: "LOCAL_POSTGRES_FOLDER_UNREACHABLE",
        message: expect.stringContaining(stateDir),
      });
    } else {
      // Not root: the server runs as this user, who owns the folder.
      await (await attempt).close();
    }
  });

  it("serves the servers of LOCAL_POSTGRES_SERVERS without starting a cluster", async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), "pgs-"));
    folders.push(stateDir);

    const started = await startLocalProvider({
      PGPROTECT_STATE_DIR: stateDir,
      DATABASE_URL: undefined,
      LOCAL_POSTGRES_SERVERS:
        "sales=postgresql://u@127.0.0.1:1/postgres, big:flexible=postgresql://u@127.0.0.1:2/postgres",
    });
    const servers = await started.provider.directory.listServers();
    await started.close();

    expect(started.cluster).toBeUndefined();
    expect(servers.map((s) => [s.name, s.kind])).toEqual([
      ["sales", "servers"],
      ["big", "flexibleServers"],
    ]);
  });
});
