/**
 * A fake Azure Key Vault (secrets only) on HTTPS loopback, with the service's challenge-based
 * authentication: a request without a token is answered 401 with a `WWW-Authenticate` challenge
 * naming the resource, the client then retries with a token for it.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { loopbackCertificate } from "../loopbackCertificate.js";

interface StoredSecret {
  readonly version: string;
  readonly value: string;
  readonly enabled: boolean;
}

/** The fake Key Vault. */
export class FakeKeyVault {
  readonly url: string;
  readonly ca: string;
  /** Paths requested, with or without a token, in order. */
  readonly requests: string[] = [];
  /** Paths requested with a token, in order. */
  readonly authorizedRequests: string[] = [];
  private readonly secrets = new Map<string, StoredSecret[]>();
  private readonly forbidden = new Set<string>();

  private constructor(
    private readonly server: Server,
    ca: string,
    private readonly token: string,
  ) {
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.ca = ca;
  }

  /** Starts a fake vault on a free loopback port. */
  static async start(token = "fake-kv-token"): Promise<FakeKeyVault> {
    // A CA certificate with a subject of its own, so that a worker process can trust it beside
    // the fake Resource Manager's through NODE_EXTRA_CA_CERTS (issuers are looked up by subject).
    const pems = await loopbackCertificate("pgprotect fake Key Vault");
    const server = createServer({ key: pems.key, cert: pems.cert });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const vault = new FakeKeyVault(server, pems.cert, token);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => vault.handle(req, res));
    return vault;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Stores a new version of a secret; returns its URI. */
  setSecret(name: string, value: string, enabled = true): string {
    const versions = this.secrets.get(name) ?? [];
    versions.push({ version: randomUUID().replace(/-/g, ""), value, enabled });
    this.secrets.set(name, versions);
    return `${this.url}/secrets/${name}`;
  }

  /** Makes reads of a secret fail as when the caller lacks a role. */
  forbid(name: string): void {
    this.forbidden.add(name);
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(url.pathname);
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.send(
        res,
        401,
        {
          error: {
            code: "Unauthorized",
            message: "AKV10000: Request is missing a Bearer or PoP token.",
          },
        },
        {
          "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"`,
        },
      );
    }
    this.authorizedRequests.push(url.pathname);
    const [, collection, name, rest] = url.pathname.split("/");
    if (collection !== "secrets" || !name || !url.searchParams.get("api-version")) {
      return this.send(res, 400, {
        error: { code: "BadParameter", message: "Unsupported request" },
      });
    }
    if (this.forbidden.has(name)) {
      return this.send(res, 403, {
        error: {
          code: "Forbidden",
          message: `Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'`,
          innererror: { code: "ForbiddenByRbac" },
        },
      });
    }
    const versions = this.secrets.get(name);
    if (!versions || versions.length === 0) {
      return this.send(res, 404, {
        error: {
          code: "SecretNotFound",
          message: `A secret with (name/id) ${name} was not found in this key vault.`,
        },
      });
    }
    const attributes = (s: StoredSecret) => ({
      enabled: s.enabled,
      created: 1_764_000_000,
      updated: 1_764_000_000,
      recoveryLevel: "Recoverable+Purgeable",
    });
    if (rest === "versions") {
      return this.send(res, 200, {
        value: versions.map((s) => ({
          id: `${this.url}/secrets/${name}/${s.version}`,
          attributes: attributes(s),
        })),
        nextLink: null,
      });
    }
    const secret = rest ? versions.find((s) => s.version === rest) : versions.at(-1);
    if (!secret)
      return this.send(res, 404, {
        error: { code: "SecretNotFound", message: `Version ${rest} not found.` },
      });
    if (!secret.enabled) {
      return this.send(res, 403, {
        error: {
          code: "Forbidden",
          message: "Operation get is not allowed on a disabled secret.",
          innererror: { code: "SecretDisabled" },
        },
      });
    }
    return this.send(res, 200, {
      value: secret.value,
      id: `${this.url}/secrets/${name}/${secret.version}`,
      attributes: attributes(secret),
    });
  }
}
