// Azure Backup's alerts sent to the app: an action group whose webhook posts each alert in the
// common alert schema to the app's POST /api/alerts, and an alert processing rule that adds the
// action group to every alert Azure Monitor raises on the app's Backup vaults (job failures,
// which the vault's monitoringSettings turn on, and the security alerts, which are always on).
// The app routes them through the notification rules to Teams and email (README, "Azure Monitor
// alerts").

param tags object = {}

@description('Name of the action group.')
param actionGroupName string

@description('Name of the alert processing rule.')
param alertProcessingRuleName string

@description('Name of the function app that receives the alerts.')
param functionAppName string

@description('Resource ids of the Backup vaults whose alerts go to the app.')
param backupVaultIds array

@description('Send with Microsoft Entra ID (a secure webhook) rather than a function key: App Service authentication fronts the app and requires a token on /api/alerts.')
param useAadAuth bool = false

@description('Object id of the app registration the secure webhook gets its token for (with useAadAuth).')
param appObjectId string = ''

@description('Application ID URI of that app registration (with useAadAuth).')
param identifierUri string = ''

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

var alertsUrl = 'https://${functionApp.properties.defaultHostName}/api/alerts'
// Without App Service authentication the function key is the door, in the URL as Azure Monitor
// allows (a webhook receiver sets no headers). With it, the secure webhook's token is: its
// principal ("AzNS AAD Webhook") holds the Backup.AlertSender app role (appRegistration.bicep),
// and no key is put in the URL. ARM evaluates only the branch taken, so listKeys runs only when
// the key is used.
var serviceUri = useAadAuth
  ? alertsUrl
  : '${alertsUrl}?code=${listKeys('${functionApp.id}/host/default', '2024-04-01').functionKeys.default}'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    // At most 12 characters; shown as the sender of SMS and email notifications.
    groupShortName: 'pgprotect'
    enabled: true
    webhookReceivers: [
      {
        name: 'pgprotect-alerts'
        serviceUri: serviceUri
        useCommonAlertSchema: true
        useAadAuth: useAadAuth
        objectId: useAadAuth ? appObjectId : null
        identifierUri: useAadAuth ? identifierUri : null
        tenantId: useAadAuth ? tenant().tenantId : null
      }
    ]
  }
}

resource alertProcessingRule 'Microsoft.AlertsManagement/actionRules@2021-08-08' = {
  name: alertProcessingRuleName
  location: 'Global'
  tags: tags
  properties: {
    description: 'Sends Azure Backup\'s alerts of the pgprotect Backup vaults to the app (POST /api/alerts).'
    enabled: true
    scopes: backupVaultIds
    conditions: [
      {
        field: 'TargetResourceType'
        operator: 'Equals'
        values: [
          'microsoft.dataprotection/backupvaults'
        ]
      }
    ]
    actions: [
      {
        actionType: 'AddActionGroups'
        actionGroupIds: [
          actionGroup.id
        ]
      }
    ]
  }
}

output actionGroupId string = actionGroup.id
output alertProcessingRuleId string = alertProcessingRule.id
