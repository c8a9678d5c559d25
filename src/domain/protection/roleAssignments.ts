/**
 * How a role assignment is made by hand, for the messages that say what a Backup vault's
 * identity lacks: one command a user can run as someone who may assign roles at the scope.
 */

/** The Azure CLI command that grants a role to a managed identity (a service principal) at a scope. */
export function roleAssignmentCommand(
  principalId: string,
  roleName: string,
  scope: string,
): string {
  return `az role assignment create --assignee-object-id ${principalId} --assignee-principal-type ServicePrincipal --role "${roleName}" --scope ${scope}`;
}
