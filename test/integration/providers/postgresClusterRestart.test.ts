import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  startPostgresCluster,
  type PostgresCluster,
} from "../../../src/providers/local/postgresCluster.js";
import {
  backupNow,
  protectDatabase,
  startPrivateClusterProvider,
} from "../../support/localProvider.js";
import { listenOn } from "../../support/ports.js";
import { canConnect } from "../../support/postgres.js";

/** The PID of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("the private cluster across restarts", () => {
  const folders: string[] = [];
  const running: PostgresCluster[] = [];

  async function newFolder(): Promise<string> {
    // Short path: the server's Unix socket lives in this folder.
    const folder = await mkdtemp(path.join(tmpdir(), "pgr-"));
    await chmod(folder, 0o755);
    folders.push(folder);
    return folder;
  }

  async function start(folder: string, port?: number): Promise<PostgresCluster> {
    const cluster = await startPostgresCluster({ folder, ...(port ? { port } : {}) });
    running.push(cluster);
    return cluster;
  }

  afterAll(async () => {
    for (const cluster of running) await cluster.stop().catch(() => undefined);
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it("keeps its port across a stop and a start, so a connection string written once still connects", async () => {
    const folder = await newFolder();
    const first = await start(folder);
    const written = first.connectionUrl();
    await first.stop();

    const second = await start(folder);

    expect(second.port).toBe(first.port);
    expect(await canConnect(written)).toBe(true);
    await second.stop();
  });

  it("takes the port of a folder made by an earlier version from the last run's postmaster.opts", async () => {
    const folder = await newFolder();
    const first = await start(folder);
    await first.stop();
    // Earlier versions recorded no port of their own.
    await rm(path.join(folder, "port"));

    const second = await start(folder);

    expect(second.port).toBe(first.port);
    await second.stop();
  });

  it("fails in one line that says what to do when another program holds its port", async () => {
    const folder = await newFolder();
    const first = await start(folder);
    await first.stop();
    const squatter = await listenOn(first.port);

    try {
      const attempt = startPostgresCluster({ folder });

      await expect(attempt).rejects.toMatchObject({
        code: "LOCAL_POSTGRES_PORT_TAKEN",
        message: expect.stringContaining(`Port ${first.port}`),
        recommendedAction: expect.stringContaining("LOCAL_POSTGRES_PORT"),
      });
      await expect(attempt).rejects.toThrow(/^[^\n]+$/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("starts on the port it is given (LOCAL_POSTGRES_PORT) and keeps that one afterwards", async () => {
    const folder = await newFolder();
    const first = await start(folder);
    await first.stop();
    const probe = await listenOn(0);
    const chosen = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));

    const moved = await start(folder, chosen);
    await moved.stop();
    const again = await start(folder);

    expect(moved.port).toBe(chosen);
    expect(again.port).toBe(chosen);
    await again.stop();
  });

  it("leaves a server alone, running, while the process that started it still runs", async () => {
    const folder = await newFolder();
    const cluster = await start(folder);
    const owner = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      stdio: "ignore",
    });
    try {
      await writeFile(path.join(folder, "owner.json"), JSON.stringify({ pid: owner.pid }));

      const attempt = startPostgresCluster({ folder });

      await expect(attempt).rejects.toMatchObject({
        code: "LOCAL_POSTGRES_IN_USE",
        message: expect.stringContaining(String(owner.pid)),
      });
      expect(await canConnect(cluster.connectionUrl())).toBe(true);
    } finally {
      owner.kill("SIGKILL");
    }
  });

  it("stops and starts again a server whose starter is gone, on the same port", async () => {
    const folder = await newFolder();
    const orphan = await start(folder);
    await writeFile(path.join(folder, "owner.json"), JSON.stringify({ pid: deadPid() }));

    const cluster = await start(folder);

    expect(cluster.port).toBe(orphan.port);
    expect(await canConnect(cluster.connectionUrl())).toBe(true);
    expect(JSON.parse(await readFile(path.join(folder, "owner.json"), "utf8"))).toMatchObject({
      pid: process.pid,
    });
    await cluster.stop();
  });
});

describe("a secret naming the private cluster at an older port", () => {
  it("still connects: an ad-hoc backup through it completes", async () => {
    // Arrange
    const started = await startPrivateClusterProvider();
    const cluster = started.cluster!;
    const admin = new pg.Client({ connectionString: cluster.connectionUrl() });
    await admin.connect();
    await admin.query("CREATE DATABASE moved");
    await admin.end();
    const vaultId = started.provider.backup.vaultId("vault1");
    const { instance, secretUri } = await protectDatabase(
      started.provider,
      vaultId,
      cluster,
      "moved",
    );
    // As an earlier version wrote it: the cluster's own credentials at the port of an earlier run.
    const oldPort = cluster.port === 65535 ? 1024 : cluster.port + 1;
    const old = new URL(cluster.connectionUrl("moved"));
    old.port = String(oldPort);
    await started.provider.secrets.setSecret(secretUri.split("/").pop()!, old.toString());

    // Act
    const params = await started.provider.secrets.getConnectionParams(secretUri);
    const job = await backupNow(started.provider, vaultId, instance.name);

    // Assert
    expect(params.port).toBe(cluster.port);
    expect(job.status).toBe("Completed");
  });

  it("leaves a connection string naming another server or user as written", async () => {
    const started = await startPrivateClusterProvider();
    const uri = await started.provider.secrets.setSecret(
      "elsewhere",
      "postgresql://app:other@127.0.0.1:1/appdb",
    );

    const params = await started.provider.secrets.getConnectionParams(uri);

    expect(params.port).toBe(1);
  });
});
