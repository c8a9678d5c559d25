import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { HostStartError, startHost } from "../../src/host.js";
import { packageDir } from "../support/nodeModules.js";
import { startFixtureHost } from "./runtimeHost.js";

describe("the host as a library", () => {
  test("attaches the project's Durable extension by default and binds its client to durableClient inputs", async () => {
    const testHost = await startFixtureHost({ durable: undefined });
    try {
      const response = await fetch(`${testHost.host.url}/api/client-binding`);
      const { client } = (await response.json()) as {
        client: { taskHubName: string; baseUrl: string };
      };

      expect(testHost.host.durable).toBeDefined();
      expect(client.taskHubName).toBe(testHost.host.taskHub);
      expect(client.baseUrl).toBe(`${testHost.host.url}/runtime/webhooks/durabletask`);
    } finally {
      await testHost.close();
    }
  });

  test("without a Durable extension, durabletask webhooks are 404", async () => {
    const testHost = await startFixtureHost({ durable: false });
    try {
      const response = await fetch(`${testHost.host.url}/runtime/webhooks/durabletask/instances/x`);

      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    } finally {
      await testHost.close();
    }
  });

  test("restarts the language worker after the app crashes it, and keeps serving", async () => {
    const testHost = await startFixtureHost();
    try {
      const firstPid = testHost.host.workerPid;

      const crash = await fetch(`${testHost.host.url}/api/crash`, { method: "POST" });
      await testHost.waitForLog(/Language worker restarted/);
      const after = await fetch(`${testHost.host.url}/api/hello?name=again`);

      expect(crash.status).toBe(202);
      expect(await after.text()).toBe("Hello, again!");
      expect(testHost.host.workerPid).not.toBe(firstPid);
      expect(testHost.logLines.join("\n")).toMatch(/exited unexpectedly; restarting it/);
    } finally {
      await testHost.close();
    }
  });

  test("an app whose entry file throws at load does not start, and the error names the file", async () => {
    const appDir = mkdtempSync(path.join(os.tmpdir(), "pgprotect-broken-app-"));
    writeFileSync(
      path.join(appDir, "package.json"),
      JSON.stringify({ type: "module", main: "index.js" }),
    );
    writeFileSync(path.join(appDir, "index.js"), 'throw new Error("cannot load this app");\n');
    try {
      const started = startHost({
        appDir,
        port: 0,
        durable: false,
        stateDir: path.join(appDir, "state"),
        log: () => undefined,
      });

      await expect(started).rejects.toBeInstanceOf(HostStartError);
      await expect(started).rejects.toThrow(
        /unable to load entry point ".*index\.js": cannot load this app/,
      );
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  });

  test("two hosts run side by side, each with its own worker and port", async () => {
    const [first, second] = await Promise.all([startFixtureHost(), startFixtureHost()]);
    try {
      await fetch(`${first.host.url}/api/received`, { method: "DELETE" });
      await fetch(`${first.host.url}/admin/functions/onEvent`, {
        method: "POST",
        headers: { "x-functions-key": first.host.keys.masterKey },
        body: JSON.stringify({ input: { id: "only-first", data: {} } }),
      });
      await first.waitForLog(/Executed 'Functions\.onEvent'/);

      const inFirst = (await (
        await fetch(`${first.host.url}/api/received?kind=event`)
      ).json()) as unknown[];
      const inSecond = (await (
        await fetch(`${second.host.url}/api/received?kind=event`)
      ).json()) as unknown[];

      expect(first.host.port).not.toBe(second.host.port);
      expect(first.host.workerPid).not.toBe(second.host.workerPid);
      expect(inFirst).toHaveLength(1);
      expect(inSecond).toHaveLength(0);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe("the host's log level", () => {
  test("at debug, shows the app's debug lines and the Executing line with its reason, but not trace", async () => {
    const testHost = await startFixtureHost({ logLevel: "debug" });
    try {
      await fetch(`${testHost.host.url}/api/log-levels`);

      await testHost.waitForLog(/\[Error\] \[logLevels\] an error line/);
      const lines = testHost.logLines.join("\n");
      expect(lines).toMatch(
        /\[Debug\] Executing 'Functions\.logLevels' \(Reason='This function was programmatically called via the host APIs\.', Id=[0-9a-f-]{36}\)/,
      );
      expect(lines).toMatch(/\[Debug\] \[logLevels\] a debug line/);
      expect(lines).not.toMatch(/a trace line/);
    } finally {
      await testHost.close();
    }
  });
});

describe("app settings", () => {
  test("local.settings.json Values reach the app, the environment wins over them, and WEBSITE_HOSTNAME names the host", async () => {
    // Inside the package, so the app resolves @azure/functions from the node_modules above it.
    mkdirSync(path.join(packageDir, ".functions-runtime"), { recursive: true });
    const appDir = mkdtempSync(path.join(packageDir, ".functions-runtime", "settings-app-"));
    writeFileSync(
      path.join(appDir, "package.json"),
      JSON.stringify({ type: "module", main: "app.js" }),
    );
    writeFileSync(
      path.join(appDir, "local.settings.json"),
      JSON.stringify({
        IsEncrypted: false,
        Values: { FROM_FILE: "file value", OVERRIDDEN: "file value" },
      }),
    );
    writeFileSync(
      path.join(appDir, "app.js"),
      [
        'import { app } from "@azure/functions";',
        'app.http("settings", { authLevel: "anonymous", handler: () => ({ jsonBody: {',
        "  fromFile: process.env.FROM_FILE, overridden: process.env.OVERRIDDEN, host: process.env.WEBSITE_HOSTNAME } }) });",
      ].join("\n"),
    );
    try {
      const host = await startHost({
        appDir,
        port: 0,
        durable: false,
        env: { OVERRIDDEN: "environment value" },
        log: () => undefined,
      });
      try {
        const response = await fetch(`${host.url}/api/settings`);

        expect(await response.json()).toEqual({
          fromFile: "file value",
          overridden: "environment value",
          host: new URL(host.url).host,
        });
      } finally {
        await host.stop();
      }
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  });
});

describe("the function timeout", () => {
  test("fails an invocation that runs too long with 500, recycles the worker and keeps serving", async () => {
    const testHost = await startFixtureHost({ functionTimeoutMs: 300 });
    try {
      const firstPid = testHost.host.workerPid;

      const hung = await fetch(`${testHost.host.url}/api/hang`);
      await testHost.waitForLog(/Language worker restarted/);
      const after = await fetch(`${testHost.host.url}/api/hello?name=later`);

      expect(hung.status).toBe(500);
      expect(testHost.logLines.join("\n")).toMatch(
        /Executed 'Functions\.hang' \(Failed, Id=[0-9a-f-]{36}, Duration=\d+ms\): Timeout value of 00:00:00\.300 exceeded by function 'Functions\.hang'\./,
      );
      expect(await after.text()).toBe("Hello, later!");
      expect(testHost.host.workerPid).not.toBe(firstPid);
    } finally {
      await testHost.close();
    }
  });
});
