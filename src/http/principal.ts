/**
 * Who is calling, when Azure App Service authentication is on: the `x-ms-client-principal`
 * header the platform sets (base64 JSON), and what their app roles allow.
 */
import type { HttpRequest } from "@azure/functions";
import { AppError } from "../domain/errors.js";

/** App roles pgprotect defines; an Operator can do everything a Reader can. */
export type AppRole = "Backup.Reader" | "Backup.Operator";

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

/**
 * Decodes `x-ms-client-principal`.
 *
 * @returns the principal, or undefined when the header is absent or unreadable.
 */
export function readClientPrincipal(request: HttpRequest): ClientPrincipal | undefined {
  const header = request.headers.get("x-ms-client-principal");
  if (!header) return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(header, "base64").toString("utf8")) as {
      claims?: EasyAuthClaim[];
      role_typ?: string;
      name_typ?: string;
      userRoles?: string[];
      userDetails?: string;
    };
    const roleType = decoded.role_typ;
    const roles = [
      ...(decoded.userRoles ?? []),
      ...(decoded.claims ?? [])
        .filter((c) => c.typ === roleType || roleClaimTypes.has(c.typ))
        .map((c) => c.val),
    ];
    const name =
      decoded.userDetails ?? decoded.claims?.find((c) => c.typ === decoded.name_typ)?.val;
    return { roles: [...new Set(roles)], ...(name ? { name } : {}) };
  } catch {
    return undefined;
  }
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
    role === "Backup.Reader" ? ["Backup.Reader", "Backup.Operator"] : ["Backup.Operator"];
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
