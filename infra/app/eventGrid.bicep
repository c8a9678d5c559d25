// The app's custom topic (CloudEvents 1.0, Entra authentication only) and, for auto-protection,
// the subscription system topic whose ResourceWriteSuccess events report changed servers.
// Event subscriptions to the app are created by scripts/post-deploy.* once the code is deployed:
// their webhook URL carries the function's system key, which exists only after deployment.

param topicName string
param location string = resourceGroup().location
param tags object = {}

@description('Create the Microsoft.Resources.Subscriptions system topic. A subscription can have only one.')
param createSubscriptionSystemTopic bool = true
param subscriptionSystemTopicName string

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  name: topicName
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    publicNetworkAccess: 'Enabled'
    disableLocalAuth: true // publishers use Entra ID (EventGrid Data Sender), never access keys
  }
}

// Subscription-level topics are global resources.
resource subscriptionSystemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = if (createSubscriptionSystemTopic) {
  name: subscriptionSystemTopicName
  location: 'global'
  tags: tags
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

output topicName string = topic.name
output topicId string = topic.id
output topicEndpoint string = topic.properties.endpoint
output subscriptionSystemTopicName string = createSubscriptionSystemTopic ? subscriptionSystemTopicName : ''
