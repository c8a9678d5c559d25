/**
 * The `x-ms-client-principal` header as App Service authentication sets it for a caller signed in
 * with Microsoft Entra ID: base64 JSON with the token's claims, app roles as claims of type
 * `roles`.
 */

/** A caller's app roles as the platform would present them. */
export function clientPrincipalHeader(
  roles: readonly string[],
  name = "someone@contoso.example",
): string {
  const principal = {
    auth_typ: "aad",
    name_typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    role_typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    claims: [
      { typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", val: name },
      { typ: "name", val: name },
      ...roles.map((role) => ({ typ: "roles", val: role })),
    ],
  };
  return Buffer.from(JSON.stringify(principal), "utf8").toString("base64");
}
