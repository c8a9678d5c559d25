// Log Analytics workspace and workspace-based Application Insights, with local auth disabled.

param location string = resourceGroup().location
param tags object = {}
param logAnalyticsName string
param applicationInsightsName string

@description('Days Log Analytics keeps data.')
param dataRetention int = 30

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: '${uniqueString(deployment().name, location)}-loganalytics'
  params: {
    name: logAnalyticsName
    location: location
    tags: tags
    dataRetention: dataRetention
  }
}

// disableLocalAuth: telemetry is sent with the app's identity (Monitoring Metrics Publisher).
module applicationInsights 'br/public:avm/res/insights/component:0.6.0' = {
  name: '${uniqueString(deployment().name, location)}-appinsights'
  params: {
    name: applicationInsightsName
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

output logAnalyticsWorkspaceId string = logAnalytics.outputs.resourceId
output applicationInsightsName string = applicationInsights.outputs.name
output applicationInsightsConnectionString string = applicationInsights.outputs.connectionString
