targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the environment. Used to derive a short unique token that every resource name carries.')
param environmentName string

@minLength(1)
@description('Region for every regional resource. Pick one that offers the Flex Consumption plan and holds the PostgreSQL flexible servers to protect: a Backup vault protects servers in its own region only.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or principal. It gets Key Vault Secrets Officer on the new key vault so it can store the Teams webhook URL. Leave empty to skip.')
param principalId string = ''

@description('Kind of principal that principalId names.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

// ---------------------------------------------------------------------------------------------
// Name overrides: leave empty for the generated names
// ---------------------------------------------------------------------------------------------

param resourceGroupName string = ''
param apiServiceName string = ''
param apiUserAssignedIdentityName string = ''
param appServicePlanName string = ''
param storageAccountName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''
param keyVaultName string = ''
param eventGridTopicName string = ''
param subscriptionSystemTopicName string = ''
param backupVaultName string = ''
param communicationServiceName string = ''
param emailServiceName string = ''
param drillStorageAccountName string = ''

// ---------------------------------------------------------------------------------------------
// Application
// ---------------------------------------------------------------------------------------------

@minLength(3)
@maxLength(45)
@description('Durable Functions task hub name (app setting TASKHUB_NAME): 3-45 letters or digits, starting with a letter.')
param taskHubName string = 'pgprotect'

@description('Create a Backup vault (Microsoft.DataProtection/backupVaults) for the app in its resource group.')
param createBackupVault bool = true

@description('Storage redundancy of the new Backup vault\'s VaultStore. GeoRedundant (the baseline) keeps a copy in the paired region and turns on cross-region restore; it cannot change once the vault protects data.')
@allowed([
  'LocallyRedundant'
  'GeoRedundant'
  'ZoneRedundant'
])
param backupVaultRedundancy string = 'GeoRedundant'

@description('Soft delete of the new Backup vault: On (the baseline) or AlwaysOn, which cannot be turned off again.')
@allowed([
  'On'
  'AlwaysOn'
])
param backupVaultSoftDeleteState string = 'On'

@description('Days the new Backup vault keeps soft-deleted backups, 14 to 180.')
@minValue(14)
@maxValue(180)
param backupVaultSoftDeleteRetentionDays int = 14

@description('Immutability of the new Backup vault: Unlocked (the baseline) or Locked, which cannot be undone.')
@allowed([
  'Unlocked'
  'Locked'
])
param backupVaultImmutabilityState string = 'Unlocked'

@description('Restores from the new Backup vault into other subscriptions: Disabled (the baseline), Enabled, or PermanentlyDisabled.')
@allowed([
  'Disabled'
  'Enabled'
  'PermanentlyDisabled'
])
param backupVaultCrossSubscriptionRestoreState string = 'Disabled'

@description('Comma-separated resource ids of existing Backup vaults the app should also use. The app identity gets Backup Contributor on each vault\'s resource group.')
param existingBackupVaultIds string = ''

@description('Comma-separated principal ids of the existing Backup vaults\' system-assigned identities (az dataprotection backup-vault show --query identity.principalId). With enableAutoGrant, the app may give these identities, and the new vault\'s, Storage Blob Data Contributor where a restore as files writes; no other principal.')
param existingBackupVaultPrincipalIds string = ''

@description('Comma-separated names of resource groups in this subscription that hold PostgreSQL flexible servers. The new vault\'s identity gets the PostgreSQL LTR backup role and Reader on each, so servers there need no per-server grant.')
param postgresResourceGroupNames string = ''

@description('Let the app grant the vault identity its roles on a server when it onboards one, and Storage Blob Data Contributor where a restore as files writes. Gives the app identity a role-assignment role on the subscription, constrained by a condition to the two server roles for service principals and to Storage Blob Data Contributor for the Backup vaults\' identities only (the new vault\'s and existingBackupVaultPrincipalIds).')
param enableAutoGrant bool = false

@description('Role that carries the auto-grant permission. Both are constrained by the same condition.')
@allowed([
  'RoleBasedAccessControlAdministrator'
  'UserAccessAdministrator'
])
param autoGrantRole string = 'RoleBasedAccessControlAdministrator'

@description('Create what tag-driven auto-protection needs: the subscription system topic (unless an existing one is named) whose ResourceWriteSuccess events the post-deploy script routes to the app.')
param enableAutoProtect bool = true

@description('Name of an existing Microsoft.Resources.Subscriptions system topic for this subscription. A subscription can have only one; name it here if it exists already.')
param existingSubscriptionSystemTopicName string = ''

@description('Resource group of the existing system topic named by existingSubscriptionSystemTopicName.')
param existingSubscriptionSystemTopicResourceGroup string = ''

@description('Create Azure Communication Services with an Azure-managed email domain for email notifications.')
param enableEmail bool = false

@description('Data location of the Communication Services resources.')
param emailDataLocation string = 'United States'

@description('Name of the key vault secret that holds the Teams Workflows webhook URL. Empty leaves TEAMS_WEBHOOK_URL unset; create the secret first, then set this and provision again. Notification channels name the setting in notifications.json (webhookUrlSetting).')
param teamsWebhookSecretName string = ''

@description('Put App Service authentication with Microsoft Entra ID in front of the API and create its app registration with the app roles Backup.Reader and Backup.Operator. Needs the right to register applications in the tenant. Off leaves function keys as the only door.')
param enableAuthentication bool = true

@description('Send Azure Backup\'s alerts of the vaults (job failures, security alerts such as soft delete disabled or backup data deleted) to the app through an action group and an alert processing rule; the app routes them to Teams and email.')
param enableMonitorAlerts bool = true

@description('Provision Azure restore drills: a storage account with a drill container (a lifecycle rule deletes its blobs after drillBlobRetentionDays), Storage Blob Data Contributor for the new Backup vault\'s identity on that account and for the app\'s identity on the container, and the drill settings (DRILL_CONTAINER_URL, DRILL_STORAGE_ACCOUNT_ID, DRILL_SERVER_SECRET_URI, DRILL_MAX_CONCURRENT). Create the scratch server\'s secret (drillServerSecretName) in the template\'s Key Vault.')
param enableDrills bool = false

@description('Name of the secret in the template\'s Key Vault that holds the scratch server\'s connection string (a user that may create and drop databases); the app reads it with its identity (Key Vault Secrets User on the vault). Used when enableDrills is on.')
param drillServerSecretName string = 'drill-scratch-server'

@description('Days after its last change that a blob of the drill container is deleted: a safety net behind the app, which deletes each drill\'s blobs itself.')
@minValue(1)
@maxValue(30)
param drillBlobRetentionDays int = 3

@description('Restore drills that run at a time (DRILL_MAX_CONCURRENT), 1 to 64. Used when enableDrills is on.')
@minValue(1)
@maxValue(64)
param drillMaxConcurrent int = 2

@description('Restore drill schedules (DRILL_SCHEDULES), as the JSON list the app reads; empty for drills on demand only. Used when enableDrills is on.')
param drillSchedules string = ''

@description('Display name of the app registration. Empty uses pgprotect-<environment name>.')
param appRegistrationName string = ''

@description('Resource Manager endpoint for the app. Empty uses the endpoint of the cloud being deployed to.')
param resourceManagerEndpoint string = ''

@description('Token audience for Resource Manager calls. Empty uses the Resource Manager endpoint of the cloud being deployed to.')
param tokenAudience string = ''

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = !empty(apiServiceName) ? apiServiceName : '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
var createSubscriptionSystemTopic = enableAutoProtect && empty(existingSubscriptionSystemTopicName)
var generatedSystemTopicName = !empty(subscriptionSystemTopicName) ? subscriptionSystemTopicName : '${abbrs.eventGridSystemTopics}subscription-${resourceToken}'

// environment().resourceManager ends with a slash; the app's settings take the bare origin.
var cloudResourceManager = environment().resourceManager
var cloudResourceManagerOrigin = endsWith(cloudResourceManager, '/') ? substring(cloudResourceManager, 0, length(cloudResourceManager) - 1) : cloudResourceManager
var resourceManagerEndpointValue = !empty(resourceManagerEndpoint) ? resourceManagerEndpoint : cloudResourceManagerOrigin
var tokenAudienceValue = !empty(tokenAudience) ? tokenAudience : resourceManagerEndpointValue

// Existing vault ids look like /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DataProtection/backupVaults/{name}.
// Comma-separated lists from the azd environment: blanks around names and empty entries (a
// trailing comma) are dropped, so that a stray comma cannot make an invalid id or condition.
var existingBackupVaultIdList = filter(map(empty(existingBackupVaultIds) ? [] : split(existingBackupVaultIds, ','), id => trim(id)), id => !empty(id))
var postgresResourceGroupNameList = filter(map(empty(postgresResourceGroupNames) ? [] : split(postgresResourceGroupNames, ','), name => trim(name)), name => !empty(name))
var existingBackupVaultPrincipalIdList = filter(map(empty(existingBackupVaultPrincipalIds) ? [] : split(existingBackupVaultPrincipalIds, ','), id => trim(id)), id => !empty(id))
var existingBackupVaultScopeList = [for id in existingBackupVaultIdList: {
  subscriptionId: split(id, '/')[2]
  resourceGroupName: split(id, '/')[4]
}]
// union() with an empty array drops duplicates: two vaults in one resource group need one assignment.
var existingBackupVaultScopes = union(existingBackupVaultScopeList, [])

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The app's one identity: host storage, App Insights, ARM calls, Event Grid, email, Key Vault references.
module apiUserAssignedIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'apiUserAssignedIdentity'
  scope: rg
  params: {
    location: location
    tags: tags
    name: !empty(apiUserAssignedIdentityName) ? apiUserAssignedIdentityName : '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
  }
}

module appServicePlan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'appserviceplan'
  scope: rg
  params: {
    name: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
    sku: {
      name: 'FC1'
      tier: 'FlexConsumption'
    }
    reserved: true
    location: location
    tags: tags
  }
}

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identity-based access only
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containers: [
        {
          name: deploymentStorageContainerName
        }
      ]
    }
    minimumTlsVersion: 'TLS1_2'
    location: location
    tags: tags
  }
}

// Which storage services the host uses; each turns on an endpoint setting and a data role.
var storageEndpointConfig = {
  enableBlob: true // deployment package, host locks, timer schedules
  enableQueue: true // required for Durable Functions (Azure Storage backend)
  enableTable: true // required for Durable Functions (Azure Storage backend) and for notification delivery state, shared by all instances
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
  }
}

module keyVault 'app/keyVault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: !empty(keyVaultName) ? keyVaultName : '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
  }
}

module eventGrid 'app/eventGrid.bicep' = {
  name: 'eventGrid'
  scope: rg
  params: {
    topicName: !empty(eventGridTopicName) ? eventGridTopicName : '${abbrs.eventGridDomainsTopics}${resourceToken}'
    location: location
    tags: tags
    createSubscriptionSystemTopic: createSubscriptionSystemTopic
    subscriptionSystemTopicName: generatedSystemTopicName
  }
}

module backupVault 'app/backupVault.bicep' = if (createBackupVault) {
  name: 'backupVault'
  scope: rg
  params: {
    name: !empty(backupVaultName) ? backupVaultName : '${abbrs.dataProtectionBackupVaults}${resourceToken}'
    location: location
    tags: tags
    redundancy: backupVaultRedundancy
    softDeleteState: backupVaultSoftDeleteState
    softDeleteRetentionDays: backupVaultSoftDeleteRetentionDays
    immutabilityState: backupVaultImmutabilityState
    crossSubscriptionRestoreState: backupVaultCrossSubscriptionRestoreState
  }
}

module drills 'app/drills.bicep' = if (enableDrills) {
  name: 'drills'
  scope: rg
  params: {
    storageAccountName: !empty(drillStorageAccountName) ? drillStorageAccountName : '${abbrs.storageStorageAccounts}drill${resourceToken}'
    location: location
    tags: tags
    containerName: 'drills'
    blobRetentionDays: drillBlobRetentionDays
  }
}

module email 'app/email.bicep' = if (enableEmail) {
  name: 'email'
  scope: rg
  params: {
    communicationServiceName: !empty(communicationServiceName) ? communicationServiceName : '${abbrs.communicationCommunicationServices}${resourceToken}'
    emailServiceName: !empty(emailServiceName) ? emailServiceName : '${abbrs.communicationEmailServices}${resourceToken}'
    dataLocation: emailDataLocation
    tags: tags
  }
}

// ---------------------------------------------------------------------------------------------
// App settings the app reads (see src/config.ts); the host's own settings are added in api.bicep
// ---------------------------------------------------------------------------------------------

var backupVaultIds = concat(createBackupVault ? [backupVault.outputs.id] : [], existingBackupVaultIdList)

var pgprotectAppSettings = {
  PGPROTECT_PROVIDER: 'azure'
  TASKHUB_NAME: taskHubName
  AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
  AZURE_RESOURCE_MANAGER_ENDPOINT: resourceManagerEndpointValue
  AZURE_TOKEN_AUDIENCE: tokenAudienceValue
  AZURE_CLIENT_ID: apiUserAssignedIdentity.outputs.clientId
  EVENTGRID_TOPIC_ENDPOINT: eventGrid.outputs.topicEndpoint
  BACKUP_VAULT_IDS: join(backupVaultIds, ',')
  AUTO_GRANT_ROLE_ASSIGNMENTS: enableAutoGrant ? 'true' : 'false'
  // Routing rules and channels for notifications, as compact JSON; edit notifications.json.
  NOTIFICATION_SETTINGS: string(loadJsonContent('notifications.json'))
}

var emailAppSettings = enableEmail ? {
  ACS_ENDPOINT: email.outputs.endpoint
  EMAIL_SENDER_ADDRESS: email.outputs.senderAddress
} : {}


// The handlers check callers' app roles (src/http/principal.ts) only when this says App Service
// authentication fronts the app; set here as well as by the platform so the two cannot disagree.
var authAppSettings = enableAuthentication ? {
  WEBSITE_AUTH_ENABLED: 'true'
} : {}

// Restore drills in Azure: the container to restore into, its account (the restore's target), and
// the scratch server's secret, which the app reads itself (a URI, not a Key Vault reference).
var drillAppSettings = enableDrills ? {
  DRILL_CONTAINER_URL: drills.outputs.containerUrl
  DRILL_STORAGE_ACCOUNT_ID: drills.outputs.storageAccountId
  DRILL_SERVER_SECRET_URI: '${keyVault.outputs.endpoint}secrets/${drillServerSecretName}'
  DRILL_MAX_CONCURRENT: string(drillMaxConcurrent)
} : {}

var drillScheduleAppSettings = enableDrills && !empty(drillSchedules) ? {
  DRILL_SCHEDULES: drillSchedules
} : {}

// A Key Vault reference, resolved by the platform with the app's identity.
var teamsAppSettings = !empty(teamsWebhookSecretName) ? {
  TEAMS_WEBHOOK_URL: '@Microsoft.KeyVault(VaultName=${keyVault.outputs.name};SecretName=${teamsWebhookSecretName})'
} : {}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appServicePlanId: appServicePlan.outputs.resourceId
    runtimeName: 'node'
    runtimeVersion: '22'
    storageAccountName: storage.outputs.name
    enableBlob: storageEndpointConfig.enableBlob
    enableQueue: storageEndpointConfig.enableQueue
    enableTable: storageEndpointConfig.enableTable
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: apiUserAssignedIdentity.outputs.resourceId
    identityClientId: apiUserAssignedIdentity.outputs.clientId
    appSettings: union(pgprotectAppSettings, emailAppSettings, teamsAppSettings, authAppSettings, drillAppSettings, drillScheduleAppSettings)
  }
}

// Who may call the API: an app registration with the app roles, and App Service authentication
// that accepts only its tokens. Assign the roles to users, groups or service principals afterwards
// (README, "Security").
module appRegistration 'app/appRegistration.bicep' = if (enableAuthentication) {
  name: 'appRegistration'
  scope: rg
  params: {
    uniqueName: 'pgprotect-api-${resourceToken}'
    displayName: !empty(appRegistrationName) ? appRegistrationName : 'pgprotect-${environmentName}'
    functionAppHostName: api.outputs.SERVICE_API_DEFAULT_HOSTNAME
  }
}

module authentication 'app/authentication.bicep' = if (enableAuthentication) {
  name: 'authentication'
  scope: rg
  params: {
    functionAppName: api.outputs.SERVICE_API_NAME
    clientId: appRegistration.outputs.appId
    identifierUri: appRegistration.outputs.identifierUri
  }
}

// Azure Backup's alerts of the vaults, posted to the app (POST /api/alerts) and routed by it.
module alerts 'app/alerts.bicep' = if (enableMonitorAlerts && (createBackupVault || !empty(existingBackupVaultIdList))) {
  name: 'alerts'
  scope: rg
  params: {
    tags: tags
    actionGroupName: 'ag-pgprotect-${resourceToken}'
    alertProcessingRuleName: 'apr-backup-alerts-${resourceToken}'
    functionAppName: api.outputs.SERVICE_API_NAME
    backupVaultIds: backupVaultIds
    useAadAuth: enableAuthentication
    appObjectId: enableAuthentication ? appRegistration.outputs.objectId : ''
    identifierUri: enableAuthentication ? appRegistration.outputs.identifierUri : ''
  }
}

// Every role assignment, for the app identity, the vault identity and the deployer.
module rbac 'app/rbac.bicep' = {
  name: 'rbacAssignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    eventGridTopicName: eventGrid.outputs.topicName
    communicationServiceName: enableEmail ? email.outputs.communicationServiceName : ''
    managedIdentityPrincipalId: apiUserAssignedIdentity.outputs.principalId
    userIdentityPrincipalId: principalId
    userIdentityPrincipalType: principalType
    enableBlob: storageEndpointConfig.enableBlob
    enableQueue: storageEndpointConfig.enableQueue
    enableTable: storageEndpointConfig.enableTable
    backupVaultInThisResourceGroup: createBackupVault
    existingBackupVaultScopes: existingBackupVaultScopes
    backupVaultPrincipalId: createBackupVault ? backupVault.outputs.principalId : ''
    existingBackupVaultPrincipalIds: existingBackupVaultPrincipalIdList
    postgresResourceGroupNames: postgresResourceGroupNameList
    enableAutoGrant: enableAutoGrant
    autoGrantRole: autoGrantRole
    drillStorageAccountName: enableDrills ? drills.outputs.storageAccountName : ''
    drillContainerName: enableDrills ? drills.outputs.containerName : ''
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment; the post-deploy scripts read them)
// ---------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.SERVICE_API_NAME
output AZURE_FUNCTION_APP_NAME string = api.outputs.SERVICE_API_NAME
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
output API_IDENTITY_CLIENT_ID string = apiUserAssignedIdentity.outputs.clientId
output API_IDENTITY_PRINCIPAL_ID string = apiUserAssignedIdentity.outputs.principalId
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.endpoint
output EVENTGRID_TOPIC_NAME string = eventGrid.outputs.topicName
output EVENTGRID_TOPIC_ID string = eventGrid.outputs.topicId
output EVENTGRID_TOPIC_ENDPOINT string = eventGrid.outputs.topicEndpoint
output AUTO_PROTECT_ENABLED bool = enableAutoProtect
output SUBSCRIPTION_SYSTEM_TOPIC_NAME string = createSubscriptionSystemTopic ? eventGrid.outputs.subscriptionSystemTopicName : (enableAutoProtect ? existingSubscriptionSystemTopicName : '')
output SUBSCRIPTION_SYSTEM_TOPIC_RESOURCE_GROUP string = createSubscriptionSystemTopic ? rg.name : (enableAutoProtect ? existingSubscriptionSystemTopicResourceGroup : '')
output BACKUP_VAULT_IDS string = join(backupVaultIds, ',')
output BACKUP_VAULT_NAME string = createBackupVault ? backupVault.outputs.name : ''
output BACKUP_VAULT_PRINCIPAL_ID string = createBackupVault ? backupVault.outputs.principalId : ''
output DRILL_CONTAINER_URL string = enableDrills ? drills.outputs.containerUrl : ''
output DRILL_STORAGE_ACCOUNT_ID string = enableDrills ? drills.outputs.storageAccountId : ''
output ACS_ENDPOINT string = enableEmail ? email.outputs.endpoint : ''
output EMAIL_SENDER_ADDRESS string = enableEmail ? email.outputs.senderAddress : ''
output API_AUTH_ENABLED bool = enableAuthentication
output API_APP_CLIENT_ID string = enableAuthentication ? appRegistration.outputs.appId : ''
output API_APP_ID_URI string = enableAuthentication ? appRegistration.outputs.identifierUri : ''
output API_APP_SERVICE_PRINCIPAL_ID string = enableAuthentication ? appRegistration.outputs.servicePrincipalId : ''
