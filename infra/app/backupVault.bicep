// A Backup vault (Azure Backup, Data Protection) for PostgreSQL flexible servers, provisioned at
// pgprotect's recommended security baseline (GET /api/vaults reports against the same baseline):
// geo-redundant with cross-region restore, soft delete on, immutability enabled, restores kept in
// the subscription, built-in job-failure alerts on.
// Its system-assigned identity is what reads the servers: rbac.bicep grants it the
// PostgreSQL LTR backup role and Reader where the servers live.

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Redundancy of the VaultStore datastore, where PostgreSQL backups are kept. GeoRedundant survives the loss of the region (and turns on cross-region restore); it cannot be changed once the vault protects data.')
@allowed([
  'LocallyRedundant'
  'GeoRedundant'
  'ZoneRedundant'
])
param redundancy string = 'GeoRedundant'

@description('Soft delete: deleted backups are kept for undelete. AlwaysOn cannot be turned off again.')
@allowed([
  'On'
  'AlwaysOn'
])
param softDeleteState string = 'On'

@description('Days soft-deleted backups are kept (the service allows 14 to 180).')
@minValue(14)
@maxValue(180)
param softDeleteRetentionDays int = 14

@description('Immutability: recovery points cannot be deleted or shortened before they expire. Locked cannot be undone; lock once retention is settled.')
@allowed([
  'Unlocked'
  'Locked'
])
param immutabilityState string = 'Unlocked'

@description('Restores into other subscriptions. PermanentlyDisabled cannot be undone.')
@allowed([
  'Disabled'
  'Enabled'
  'PermanentlyDisabled'
])
param crossSubscriptionRestoreState string = 'Disabled'

// Cross-region restore needs geo-redundant storage; once enabled it cannot be disabled.
var crossRegionRestoreState = redundancy == 'GeoRedundant' ? 'Enabled' : 'Disabled'

resource vault 'Microsoft.DataProtection/backupVaults@2025-07-01' = {
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
    securitySettings: {
      softDeleteSettings: {
        state: softDeleteState
        retentionDurationInDays: softDeleteRetentionDays
      }
      immutabilitySettings: {
        state: immutabilityState
      }
    }
    featureSettings: {
      crossRegionRestoreSettings: {
        state: crossRegionRestoreState
      }
      crossSubscriptionRestoreSettings: {
        state: crossSubscriptionRestoreState
      }
    }
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
