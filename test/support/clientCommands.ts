/** The client commands run in this process, against a loopback API the test file serves. */
import { createServer, type RequestListener, type Server } from "node:http";
import { tmpdir } from "node:os";
import { afterAll, beforeAll } from "vitest";
import { createApiClient, type ApiClient } from "../../src/cli/client/apiClient.js";
import { runClientCommand } from "../../src/cli/client/clientCli.js";
import type { ProgressView } from "../../src/cli/client/progress.js";
import { capturedIo } from "./cliHarness.js";

/** What one client command came to: its exit code and what it printed. */
export interface ClientCommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a client command (`pgprotect <args>`) in this process with captured streams and an empty
 * environment, so that nothing of the machine's own settings picks the API or its key.
 */
export async function runClient(args: readonly string[]): Promise<ClientCommandRun> {
  const io = capturedIo(tmpdir());
  const code = await runClientCommand(args, io, { env: {} });
  return { code, ...io.printed() };
}

/** A loopback API served for the calling test file. */
export interface LoopbackApi {
  /** The API's base URL (`http://127.0.0.1:<port>/api`), as `--api` takes it. */
  readonly url: string;
}

/** Serves `handler` on a free loopback port from the file's first test to its last. */
export function useLoopbackApi(handler: RequestListener): LoopbackApi {
  let server: Server | undefined;
  let url: string | undefined;

  beforeAll(async () => {
    const started = createServer(handler);
    await new Promise<void>((resolve) => started.listen(0, "127.0.0.1", resolve));
    server = started;
    url = `http://127.0.0.1:${(started.address() as { port: number }).port}/api`;
  });

  afterAll(async () => {
    const started = server;
    if (started) await new Promise((resolve) => started.close(resolve));
  });

  return {
    get url(): string {
      if (!url) throw new Error("the loopback API is not started yet");
      return url;
    },
  };
}

/** The client's API client of a loopback API, with no key and no token. */
export function loopbackClient(api: LoopbackApi): ApiClient {
  return createApiClient({
    baseUrl: api.url,
    source: "--api",
    functionKey: undefined,
    keySource: undefined,
    entraScope: undefined,
    localHost: undefined,
  });
}

/** A progress view that keeps what it was shown: each picture (spinner `⠋`) and each line. */
export interface RecordingView extends ProgressView {
  readonly pictures: string[];
  readonly lines: string[];
  readonly closed: boolean;
}

/** A progress view that records instead of drawing; `onShow` runs after each picture is kept. */
export function recordingView(onShow: () => void = () => {}): RecordingView {
  const pictures: string[] = [];
  const lines: string[] = [];
  let closed = false;
  return {
    pictures,
    lines,
    get closed() {
      return closed;
    },
    show(picture, shown) {
      pictures.push(picture("⠋"));
      lines.push(...shown);
      onShow();
    },
    close() {
      closed = true;
    },
  };
}
