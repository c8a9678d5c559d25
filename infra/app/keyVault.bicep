// Key vault for the app's secrets (the Teams Workflows webhook URL), in RBAC mode.

param name string
param location string = resourceGroup().location
param tags object = {}

@minValue(7)
@maxValue(90)
@description('Days a deleted secret or vault stays recoverable.')
param softDeleteRetentionInDays int = 7

// Purge protection stays off so that `azd down --purge` can remove the vault.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output id string = vault.id
output endpoint string = vault.properties.vaultUri
