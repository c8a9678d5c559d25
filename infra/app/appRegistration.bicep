// The Microsoft Entra app registration that fronts the API: the audience of callers' tokens and
// the home of the app roles the handlers check (src/http/principal.ts). Created with the Microsoft
// Graph Bicep extension (infra/bicepconfig.json), so the deploying principal needs the right to
// register applications in the tenant (Application Developer, or users' default right to do so).

extension microsoftGraphV1

@description('Stable key of the app registration in the tenant; a second deployment with the same key updates it.')
param uniqueName string

@description('Name shown in Microsoft Entra ID (App registrations, Enterprise applications).')
param displayName string

@description('Host name of the function app, for the sign-in redirect URI of App Service authentication.')
param functionAppHostName string

@description('Whether only users, groups and applications assigned an app role can get a token for the API.')
param appRoleAssignmentRequired bool = true

// Application ID URI: the tenant-qualified form is accepted whatever the tenant's URI policy.
var identifierUri = 'api://${tenant().tenantId}/${uniqueName}'

// App role ids must be stable across deployments, or assignments would point at removed roles.
var appRoles = [
  {
    value: 'Backup.Reader'
    displayName: 'Backup Reader'
    description: 'Read policies, protections, backup instances and jobs, and simulate or compile policies.'
  }
  {
    value: 'Backup.Operator'
    displayName: 'Backup Operator'
    description: 'Everything a Backup Reader can do, and protect databases, write policies, start backups and restores.'
  }
  {
    value: 'Backup.AlertSender'
    displayName: 'Backup Alert Sender'
    description: 'Post Azure Monitor alerts to the app (POST /api/alerts), and nothing else. Held by Azure Monitor\'s secure webhook.'
  }
]

resource application 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    identifierUri
  ]
  api: {
    // v2 access tokens: audience is the client id, issuer login.microsoftonline.com/{tenant}/v2.0.
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: guid(uniqueName, 'user_impersonation')
        value: 'user_impersonation'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Access pgprotect'
        adminConsentDescription: 'Lets the signed-in user call the pgprotect API with the app roles assigned to them.'
        userConsentDisplayName: 'Access pgprotect'
        userConsentDescription: 'Lets you call the pgprotect API with the app roles assigned to you.'
      }
    ]
  }
  appRoles: [for role in appRoles: {
    id: guid(uniqueName, role.value)
    value: role.value
    displayName: role.displayName
    description: role.description
    // Users and groups sign in; automation (a service principal or managed identity) gets the role as an application.
    allowedMemberTypes: [
      'User'
      'Application'
    ]
    isEnabled: true
  }]
  web: {
    redirectUris: [
      'https://${functionAppHostName}/.auth/login/aad/callback'
    ]
    implicitGrantSettings: {
      enableIdTokenIssuance: true
    }
  }
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: application.appId
  appRoleAssignmentRequired: appRoleAssignmentRequired
}

// Azure Monitor's secure webhooks call with tokens of its own application ("AzNS AAD Webhook",
// the same appId in every tenant); its service principal is created in the tenant if missing and
// given Backup.AlertSender, so the alerts it posts pass App Service authentication and the
// handler's role check (infra/app/alerts.bicep).
var azureMonitorWebhookAppId = '461e8683-5575-4561-ac7f-899cc907d62a' // AzNS AAD Webhook

resource azureMonitorWebhook 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: azureMonitorWebhookAppId
}

resource alertSenderAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = {
  appRoleId: guid(uniqueName, 'Backup.AlertSender')
  principalId: azureMonitorWebhook.id
  resourceId: servicePrincipal.id
}

output appId string = application.appId
output objectId string = application.id
output identifierUri string = identifierUri
output servicePrincipalId string = servicePrincipal.id
