// What Azure restore drills restore into: a storage account of their own with one blob container.
// A drill restores the recovery point as files into the container under its scratch name, loads
// the dump into the scratch server and deletes its blobs itself; the lifecycle rule here deletes
// whatever a drill cut off by a crash left and the app's own sweep missed.
// rbac.bicep grants the Backup vault's identity Storage Blob Data Contributor on this account (the
// service's documented role for restore as files, on the target storage account: an account that
// holds nothing but the drill container) and the app's identity the same role on the container.

param storageAccountName string
param location string = resourceGroup().location
param tags object = {}

@description('The blob container drills restore into.')
param containerName string = 'drills'

@description('Days after its last change that the lifecycle rule deletes a blob of the drill container.')
@minValue(1)
@maxValue(30)
param blobRetentionDays int = 3

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // the vault and the app reach it with their identities only
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

// A safety net only: a drill deletes its blobs when it ends, and the drill timer sweeps leftovers.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-old-drill-blobs'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
                'appendBlob'
              ]
              prefixMatch: [
                '${containerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: blobRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

output storageAccountName string = account.name
output storageAccountId string = account.id
output containerName string = container.name
output containerUrl string = '${account.properties.primaryEndpoints.blob}${container.name}'
