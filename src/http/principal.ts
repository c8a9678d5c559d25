/**
 * Who is calling, when Azure App Service authentication is on: the `x-ms-client-principal`
 * header the platform sets (base64 JSON), and what their app roles allow.
 */
import type { HttpRequest } from "@azure/functions";
import { AppError } from "../domain/errors.js";

/**
 * App roles pgprotect defines; an Operator can do everything a Reader can. `Backup.AlertSender`
 * is the role assigned to Azure Monitor's secure webhook (the "AzNS AAD Webhook" service
 * principal): it may post alerts and nothing else.
 */
export type AppRole = "Backup.Reader" | "Backup.Operator" | "Backup.AlertSender";

/** The caller as App Service describes them. */
export interface ClientPrincipal {
  readonly name?: string;
  readonly roles: readonly string[];
}

interface EasyAuthClaim {
  readonly typ: string;
  readonly val: string;
}

const roleClaimTypes = new Set([
  "roles",
  "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
]);

/** The strings of a JSON array; anything else has none. */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The well-formed claims of a JSON array: a claim with anything but text in it is no claim. */
function claimsOf(value: unknown): EasyAuthClaim[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (claim: unknown): claim is EasyAuthClaim =>
      typeof claim === "object" &&
      claim !== null &&
      typeof (claim as EasyAuthClaim).typ === "string" &&
      typeof (claim as EasyAuthClaim).val === "string",
  );
}

/**
 * Decodes `x-ms-client-principal`.
 *
 * @remarks Only the platform sets the header, but the app must not trust its shape: roles and
 * names are taken only where they are text, so a malformed principal holds no role rather than
 * odd ones (a string of roles is not a list of its letters).
 * @returns the principal, or undefined when the header is absent or unreadable.
 */
export function readClientPrincipal(request: HttpRequest): ClientPrincipal | undefined {
  const header = request.headers.get("x-ms-client-principal");
  if (!header) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) return undefined;
  const fields = decoded as Record<string, unknown>;
  const claims = claimsOf(fields["claims"]);
  const roleType = typeof fields["role_typ"] === "string" ? fields["role_typ"] : undefined;
  const nameType = typeof fields["name_typ"] === "string" ? fields["name_typ"] : undefined;
  const roles = [
    ...strings(fields["userRoles"]),
    ...claims.filter((c) => c.typ === roleType || roleClaimTypes.has(c.typ)).map((c) => c.val),
  ];
  const userDetails = typeof fields["userDetails"] === "string" ? fields["userDetails"] : undefined;
  const name = userDetails ?? claims.find((c) => c.typ === nameType)?.val;
  return { roles: [...new Set(roles)], ...(name ? { name } : {}) };
}

/**
 * Checks that the caller may do something that needs `role`.
 *
 * @param authEnabled - whether App Service authentication fronts the app (`WEBSITE_AUTH_ENABLED`).
 * Without it, function keys alone protect the API and every caller with a key may act.
 * @returns the caller's name, for audit trails.
 * @throws AppError 401 without a principal, 403 without the role.
 */
export function authorize(
  request: HttpRequest,
  role: AppRole,
  authEnabled: boolean,
): string | undefined {
  if (!authEnabled) return undefined;
  const principal = readClientPrincipal(request);
  if (!principal) {
    throw new AppError(
      "UNAUTHENTICATED",
      "Sign in first: the request carries no client principal",
      { httpStatus: 401 },
    );
  }
  const allowed =
    role === "Backup.Reader"
      ? ["Backup.Reader", "Backup.Operator"]
      : role === "Backup.AlertSender"
        ? ["Backup.AlertSender", "Backup.Operator"]
        : ["Backup.Operator"];
  if (!principal.roles.some((r) => allowed.includes(r))) {
    throw new AppError(
      "FORBIDDEN",
      `This needs the ${role} app role; the caller has ${principal.roles.join(", ") || "no role"}`,
      {
        httpStatus: 403,
        recommendedAction: `Ask an administrator to assign the ${role} role of this app to you`,
      },
    );
  }
  return principal.name;
}
