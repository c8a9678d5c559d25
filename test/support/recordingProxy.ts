/**
 * A forward proxy on the loopback that records which hosts a client asked for and lets none
 * through: set as `HTTPS_PROXY`, it shows where an Azure client would have gone (the login
 * authority, a storage account) without any request leaving the machine.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** A running recording proxy. */
export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`, for `HTTPS_PROXY`. */
  readonly url: string;
  /** The hosts asked for, in order (`CONNECT` targets without the port, plain requests' hosts). */
  readonly hosts: string[];
  close(): Promise<void>;
}

/** Starts a recording proxy that refuses every tunnel and request with 403. */
export async function startRecordingProxy(): Promise<RecordingProxy> {
  const hosts: string[] = [];
  const server = http.createServer((request, response) => {
    hosts.push(URL.parse(request.url ?? "")?.hostname ?? request.headers.host ?? "");
    response.writeHead(403).end();
  });
  server.on("connect", (request: http.IncomingMessage, socket) => {
    hosts.push((request.url ?? "").replace(/:\d+$/, ""));
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hosts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
