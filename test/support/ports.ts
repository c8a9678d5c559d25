/** Loopback ports for tests: one known to be free, and one held so that something else finds it taken. */
import { createServer, type AddressInfo, type Server } from "node:net";

/**
 * A free loopback port, for an app that must know its own URL before it starts. Another process
 * could take it in between; whatever then fails to listen on it fails loudly.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Listens on `port` of 127.0.0.1 (to hold it taken) until the returned server is closed. */
export function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
