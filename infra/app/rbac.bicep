// Every role assignment the deployment makes, in one place.
//
// App identity (user-assigned):
//   - host storage: blob, queue and table data roles (Durable Functions uses queues and tables; notification
//     delivery state is a table every instance shares, so a redelivered event notifies no one twice);
//   - Application Insights: Monitoring Metrics Publisher (local auth is off);
//   - Key Vault: Key Vault Secrets User (Key Vault references);
//   - custom topic: EventGrid Data Sender (publishing CloudEvents);
//   - Communication Services: Communication and Email Service Owner (sending email), when enabled;
//   - each Backup vault's resource group: Backup Contributor (backup instances, policies, ad-hoc backups, jobs);
//   - the subscription: Reader (Resource Graph queries, server tags, existing role assignments);
//   - the subscription, only with auto-grant: a role-assignment role constrained to the two vault roles on
//     servers and, for the Backup vaults' identities the deployment names only, Storage Blob Data Contributor;
//   - the drill container, when drills are on: Storage Blob Data Contributor (reads a drill's dump,
//     deletes its blobs, lists leftovers).
// Backup vault identity (system-assigned), for servers in the listed resource groups:
//   - PostgreSQL Flexible Server Long Term Retention Backup Role and Reader;
//   - the drill storage account, when drills are on: Storage Blob Data Contributor (restore as files).
// Deployer: Key Vault Secrets Officer, to store the Teams webhook URL.
//
// Assignments outside this resource group go through rbac-resource-group.bicep and
// rbac-subscription.bicep, which name them the same way: guid(scope id, principal id, role id).

param storageAccountName string
param appInsightsName string
param keyVaultName string
param eventGridTopicName string
@description('Communication Services resource in this resource group; empty when email is off.')
param communicationServiceName string = ''

@description('Principal id of the app\'s user-assigned identity.')
param managedIdentityPrincipalId string
@description('Principal id of the deploying user or principal; empty to skip its assignment.')
param userIdentityPrincipalId string = ''
@allowed([
  'User'
  'ServicePrincipal'
])
param userIdentityPrincipalType string = 'User'

param enableBlob bool = true
param enableQueue bool = true
param enableTable bool = true

@description('A Backup vault lives in this resource group.')
param backupVaultInThisResourceGroup bool = false
@description('Resource groups of existing Backup vaults: objects with subscriptionId and resourceGroupName.')
param existingBackupVaultScopes array = []
@description('Principal id of the new Backup vault\'s system-assigned identity; empty when no vault is created.')
param backupVaultPrincipalId string = ''
@description('Principal ids of the existing Backup vaults\' system-assigned identities, to which auto-grant may give Storage Blob Data Contributor (restores as files).')
param existingBackupVaultPrincipalIds array = []
@description('Resource groups in this subscription that hold PostgreSQL flexible servers to protect.')
param postgresResourceGroupNames array = []

@description('Storage account of the restore drills\' container (drills.bicep); empty when drills are off.')
param drillStorageAccountName string = ''
@description('The restore drills\' blob container in that account.')
param drillContainerName string = ''

param enableAutoGrant bool = false
@allowed([
  'RoleBasedAccessControlAdministrator'
  'UserAccessAdministrator'
])
param autoGrantRole string = 'RoleBasedAccessControlAdministrator'

// Built-in role definitions
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
var storageBlobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer
var eventGridDataSenderRoleId = 'd5a91429-5739-47e2-a06b-3470a27159e7' // EventGrid Data Sender
var communicationEmailServiceOwnerRoleId = '09976791-48a7-449e-bb21-39d1a415f350' // Communication and Email Service Owner
var backupContributorRoleId = '5e467623-bb1f-42f4-a55d-6e525e11384b' // Backup Contributor
var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader
var postgresLtrBackupRoleId = 'c088a766-074b-43ba-90d4-1fb21feae531' // PostgreSQL Flexible Server Long Term Retention Backup Role
var rbacAdministratorRoleId = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168' // Role Based Access Control Administrator
var userAccessAdministratorRoleId = '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9' // User Access Administrator

var autoGrantRoleId = autoGrantRole == 'UserAccessAdministrator' ? userAccessAdministratorRoleId : rbacAdministratorRoleId

// The app may create or delete only assignments of the two roles a vault identity needs on a
// server, and only for service principals (vault identities are)...
var assignableRoleIds = '${postgresLtrBackupRoleId}, ${readerRoleId}'
// ...and of Storage Blob Data Contributor, which a restore as files needs where it writes (and the
// app checks the vault's identity holds there, src/providers/azure/vaultAccess.ts
// autoGrantAllowance), but only for the Backup vaults' identities named here: a role that reads
// and writes blobs is never the app's to hand to any other principal.
var vaultRestoreRoleIds = storageBlobDataContributorRoleId
var autoGrantVaultPrincipalIds = union(empty(backupVaultPrincipalId) ? [] : [backupVaultPrincipalId], existingBackupVaultPrincipalIds)
var autoGrantVaultPrincipalIdList = join(autoGrantVaultPrincipalIds, ', ')
// No vault named, no clause: an empty GuidEquals set is not a valid condition.
var autoGrantWriteVaultClause = empty(autoGrantVaultPrincipalIds) ? '' : ' OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${vaultRestoreRoleIds}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {${autoGrantVaultPrincipalIdList}})'
var autoGrantDeleteVaultClause = empty(autoGrantVaultPrincipalIds) ? '' : ' OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${vaultRestoreRoleIds}} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {${autoGrantVaultPrincipalIdList}})'
var autoGrantCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${assignableRoleIds}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'})${autoGrantWriteVaultClause}) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${assignableRoleIds}} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'})${autoGrantDeleteVaultClause})'

resource storageAccount 'Microsoft.Storage/storageAccounts@2022-09-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource eventGridTopic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: eventGridTopicName
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = if (!empty(communicationServiceName)) {
  name: !empty(communicationServiceName) ? communicationServiceName : 'none'
}

var drillsOn = !empty(drillStorageAccountName)

resource drillStorageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = if (drillsOn) {
  name: drillsOn ? drillStorageAccountName : 'none'
}

resource drillBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = if (drillsOn) {
  parent: drillStorageAccount
  name: 'default'
}

resource drillContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = if (drillsOn) {
  parent: drillBlobService
  name: !empty(drillContainerName) ? drillContainerName : 'none'
}

// ---------------------------------------------------------------------------------------------
// App identity: host storage and telemetry
// ---------------------------------------------------------------------------------------------

resource storageBlobRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableBlob) {
  name: guid(storageAccount.id, managedIdentityPrincipalId, storageBlobDataOwnerRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource storageQueueRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableQueue) {
  name: guid(storageAccount.id, managedIdentityPrincipalId, storageQueueDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Tables: Durable Functions history and instances, and the notification delivery state table
// (<task hub>Notifications), which the app creates at first use.
resource storageTableRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableTable) {
  name: guid(storageAccount.id, managedIdentityPrincipalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pgprotect: Durable Functions tables and the notification delivery state table'
  }
}

resource appInsightsRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, managedIdentityPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// App identity: secrets, events, email
// ---------------------------------------------------------------------------------------------

resource keyVaultSecretsUserRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, managedIdentityPrincipalId, keyVaultSecretsUserRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource eventGridSenderRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventGridTopic.id, managedIdentityPrincipalId, eventGridDataSenderRoleId)
  scope: eventGridTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSenderRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource emailRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(communicationServiceName)) {
  name: guid(communicationService.id, managedIdentityPrincipalId, communicationEmailServiceOwnerRoleId)
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', communicationEmailServiceOwnerRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// App identity: Azure Backup and discovery
// ---------------------------------------------------------------------------------------------

resource backupContributorRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (backupVaultInThisResourceGroup) {
  name: guid(resourceGroup().id, managedIdentityPrincipalId, backupContributorRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', backupContributorRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pgprotect: manage backup instances, policies and backups in this resource group\'s Backup vaults'
  }
}

module existingVaultBackupContributor 'rbac-resource-group.bicep' = [for (vaultScope, i) in existingBackupVaultScopes: {
  name: take('rbac-vault-${i}-${uniqueString(vaultScope.subscriptionId, vaultScope.resourceGroupName)}', 64)
  scope: resourceGroup(vaultScope.subscriptionId, vaultScope.resourceGroupName)
  params: {
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: backupContributorRoleId
    assignmentDescription: 'pgprotect: manage backup instances, policies and backups in this resource group\'s Backup vaults'
  }
}]

module subscriptionReader 'rbac-subscription.bicep' = {
  name: 'rbac-subscription-reader'
  scope: subscription()
  params: {
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: readerRoleId
    assignmentDescription: 'pgprotect: Resource Graph queries across vaults, server tags, role assignment checks'
  }
}

module autoGrant 'rbac-subscription.bicep' = if (enableAutoGrant) {
  name: 'rbac-subscription-auto-grant'
  scope: subscription()
  params: {
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: autoGrantRoleId
    assignmentDescription: 'pgprotect: grant Backup vault identities their roles on PostgreSQL servers and restore storage (constrained)'
    condition: autoGrantCondition
  }
}

// ---------------------------------------------------------------------------------------------
// Backup vault identity: the servers it backs up
// ---------------------------------------------------------------------------------------------

module vaultPostgresLtrBackup 'rbac-resource-group.bicep' = [for (postgresResourceGroupName, i) in postgresResourceGroupNames: if (!empty(backupVaultPrincipalId)) {
  name: take('rbac-pg-ltr-${i}-${uniqueString(postgresResourceGroupName)}', 64)
  scope: resourceGroup(postgresResourceGroupName)
  params: {
    principalId: backupVaultPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: postgresLtrBackupRoleId
    assignmentDescription: 'pgprotect: Backup vault reads PostgreSQL flexible servers for long-term retention backups'
  }
}]

module vaultPostgresReader 'rbac-resource-group.bicep' = [for (postgresResourceGroupName, i) in postgresResourceGroupNames: if (!empty(backupVaultPrincipalId)) {
  name: take('rbac-pg-reader-${i}-${uniqueString(postgresResourceGroupName)}', 64)
  scope: resourceGroup(postgresResourceGroupName)
  params: {
    principalId: backupVaultPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: readerRoleId
    assignmentDescription: 'pgprotect: Backup vault reads the resource group of the PostgreSQL flexible servers it protects'
  }
}]

// Single Server databases: the vault reads their connection strings from the template's Key Vault
// when they are kept there. Granted here because the app's own auto-grant is limited by its
// condition to the two server roles, and a wider condition would let it open any key vault.
resource vaultKeyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(backupVaultPrincipalId)) {
  name: guid(keyVault.id, backupVaultPrincipalId, keyVaultSecretsUserRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: backupVaultPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pgprotect: Backup vault reads the connection strings of the Single Server databases it protects'
  }
}

// ---------------------------------------------------------------------------------------------
// Restore drills: the drill container (drills.bicep)
// ---------------------------------------------------------------------------------------------

// The vault writes a drill's restore as files. Azure Backup documents the role on the target
// storage account, and the app checks it there (DRILL_STORAGE_ACCOUNT_ID); the account holds
// nothing but the drill container.
resource vaultDrillStorageBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (drillsOn && !empty(backupVaultPrincipalId)) {
  name: guid(drillStorageAccount.id, backupVaultPrincipalId, storageBlobDataContributorRoleId)
  scope: drillStorageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: backupVaultPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pgprotect: Backup vault restores recovery points as files into the restore drills\' container'
  }
}

// The app downloads a drill's dump, deletes the drill's blobs and lists leftovers: on the container only.
resource appDrillContainerBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (drillsOn) {
  name: guid(drillContainer.id, managedIdentityPrincipalId, storageBlobDataContributorRoleId)
  scope: drillContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pgprotect: reads restore drills\' dumps and deletes their blobs'
  }
}

// ---------------------------------------------------------------------------------------------
// Deployer
// ---------------------------------------------------------------------------------------------

resource keyVaultSecretsOfficerUserRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userIdentityPrincipalId)) {
  name: guid(keyVault.id, userIdentityPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: userIdentityPrincipalId
    principalType: userIdentityPrincipalType
  }
}
