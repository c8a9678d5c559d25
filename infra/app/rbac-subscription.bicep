// One role assignment on the subscription, optionally constrained by an ABAC condition.
// rbac.bicep uses it; the role itself is chosen there.

targetScope = 'subscription'

param principalId string
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'ServicePrincipal'
@description('Role definition GUID (not the full resource id).')
param roleDefinitionId string
param assignmentDescription string = ''
@description('ABAC condition (version 2.0) that narrows the assignment. Empty for none.')
param condition string = ''

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
    principalId: principalId
    principalType: principalType
    description: assignmentDescription
    condition: empty(condition) ? null : condition
    conditionVersion: empty(condition) ? null : '2.0'
  }
}
