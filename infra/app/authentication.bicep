// App Service authentication (Easy Auth) in front of the function app, with Microsoft Entra ID:
// every request but the excluded paths needs a valid token for the app registration; the platform
// then passes the caller to the app in `x-ms-client-principal`, whose app roles the handlers check
// (src/http/principal.ts, enabled by the WEBSITE_AUTH_ENABLED app setting).

param functionAppName string

@description('Client id (appId) of the app registration whose tokens are accepted.')
param clientId string

@description('Application ID URI of the app registration; tokens for it or for the client id are accepted.')
param identifierUri string

// Paths that must answer without a token: Event Grid delivers with the eventgrid_extension system
// key (scripts/post-deploy.sh), and the anonymous health probe and OpenAPI document.
var excludedPaths = [
  '/runtime/webhooks/eventgrid'
  '/api/health'
  '/api/openapi.json'
]

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: true
      // An API answers 401; redirecting to a sign-in page helps no HTTP client.
      unauthenticatedClientAction: 'Return401'
      excludedPaths: excludedPaths
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        isAutoProvisioned: false
        registration: {
          clientId: clientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            clientId
            identifierUri
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}
