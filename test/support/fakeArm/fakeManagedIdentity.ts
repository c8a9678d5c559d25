/**
 * A fake App Service managed identity endpoint (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), the
 * one `@azure/identity` calls inside Azure Functions. Plain http on loopback, as in Azure.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A token request the fake answered. */
export interface IdentityRequest {
  readonly resource: string | null;
  readonly clientId: string | null;
}

/** The fake identity endpoint. */
export class FakeManagedIdentity {
  readonly endpoint: string;
  readonly header = "fake-identity-header";
  readonly requests: IdentityRequest[] = [];

  private constructor(
    private readonly server: Server,
    private readonly token: string,
  ) {
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
  }

  /** Starts the endpoint on a free loopback port; it hands out `token`. */
  static async start(token: string): Promise<FakeManagedIdentity> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const identity = new FakeManagedIdentity(server, token);
    server.on("request", (req, res) => {
      const url = new URL(req.url ?? "/", identity.endpoint);
      if (
        req.headers["x-identity-header"] !== identity.header ||
        url.searchParams.get("api-version") !== "2019-08-01"
      ) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "invalid_request" }));
        return;
      }
      const resource = url.searchParams.get("resource");
      identity.requests.push({ resource, clientId: url.searchParams.get("client_id") });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          access_token: identity.token,
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          resource,
          token_type: "Bearer",
        }),
      );
    });
    return identity;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
