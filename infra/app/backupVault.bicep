// A Backup vault (Azure Backup, Data Protection) for PostgreSQL flexible servers.
// Its system-assigned identity is what reads the servers: rbac.bicep grants it the
// PostgreSQL LTR backup role and Reader where the servers live.

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Redundancy of the VaultStore datastore, where PostgreSQL backups are kept.')
@allowed([
  'LocallyRedundant'
  'GeoRedundant'
  'ZoneRedundant'
])
param redundancy string = 'LocallyRedundant'

resource vault 'Microsoft.DataProtection/backupVaults@2024-04-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    storageSettings: [
      {
        datastoreType: 'VaultStore'
        type: redundancy
      }
    ]
    monitoringSettings: {
      azureMonitorAlertSettings: {
        alertsForAllJobFailures: 'Enabled'
      }
    }
  }
}

output id string = vault.id
output name string = vault.name
output principalId string = vault.identity.principalId
