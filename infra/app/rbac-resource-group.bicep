// One role assignment on the resource group this module is deployed to.
// rbac.bicep uses it for scopes outside the app's resource group; the role itself is chosen there.

param principalId string
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'ServicePrincipal'
@description('Role definition GUID (not the full resource id).')
param roleDefinitionId string
param assignmentDescription string = ''

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleDefinitionId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
    principalId: principalId
    principalType: principalType
    description: assignmentDescription
  }
}
