# Creates the Event Grid subscriptions that deliver events to the app's Event Grid trigger functions.
#
# Runs as the azd postdeploy hook (azure.yaml), after the code is deployed: the webhook URL carries
# the function app's eventgrid_extension system key, which exists only once the app has started.
# azd passes its environment (the outputs of infra/main.bicep) as environment variables.
# Needs the Azure CLI, signed in to the same tenant (az login). Safe to run again: each
# subscription is created or updated in place.
$ErrorActionPreference = 'Stop'

# ---------------------------------------------------------------------------------------------
# The app's Event Grid trigger functions, by the names they are registered under.
# ---------------------------------------------------------------------------------------------
$NotificationsFunctionName = if ($env:PGPROTECT_NOTIFICATIONS_FUNCTION_NAME) { $env:PGPROTECT_NOTIFICATIONS_FUNCTION_NAME } else { 'eventGridRouteNotifications' }
$AutoProtectFunctionName = if ($env:PGPROTECT_AUTO_PROTECT_FUNCTION_NAME) { $env:PGPROTECT_AUTO_PROTECT_FUNCTION_NAME } else { 'eventGridAutoProtect' }

# Event subscription names.
$NotificationsSubscriptionName = 'pgprotect-notifications'
$AutoProtectSubscriptionName = 'pgprotect-auto-protect'

# Both functions receive CloudEvents 1.0. The custom topic accepts nothing else; events of the
# subscription system topic are converted on delivery.
$DeliverySchema = 'cloudeventschemav1_0'

# Auto-protection hears about writes to PostgreSQL flexible servers and to their tags only.
$AutoProtectEventTypes = @('Microsoft.Resources.ResourceWriteSuccess')
$AutoProtectOperations = @('Microsoft.DBforPostgreSQL/flexibleServers/write', 'Microsoft.Resources/tags/write')
$AutoProtectSubjectContains = '/providers/Microsoft.DBforPostgreSQL/flexibleServers/'

# The system key appears a little after deployment, when the host first starts.
$KeyAttempts = if ($env:PGPROTECT_KEY_ATTEMPTS) { [int]$env:PGPROTECT_KEY_ATTEMPTS } else { 20 }
$KeyWaitSeconds = if ($env:PGPROTECT_KEY_WAIT_SECONDS) { [int]$env:PGPROTECT_KEY_WAIT_SECONDS } else { 15 }

# ---------------------------------------------------------------------------------------------

function Stop-PostDeploy([string]$Message) {
    [Console]::Error.WriteLine("post-deploy: $Message")
    exit 1
}

function Get-RequiredSetting([string]$Name) {
    $value = [Environment]::GetEnvironmentVariable($Name)
    if (-not $value) { Stop-PostDeploy "$Name is not set; run azd provision first" }
    return $value
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Stop-PostDeploy 'the Azure CLI (az) is required; see docs/deployment.md'
}

$ResourceGroup = Get-RequiredSetting 'AZURE_RESOURCE_GROUP'
$FunctionAppName = Get-RequiredSetting 'AZURE_FUNCTION_APP_NAME'
$TopicId = Get-RequiredSetting 'EVENTGRID_TOPIC_ID'
$AutoProtectEnabled = "$env:AUTO_PROTECT_ENABLED" -eq 'true'
$SystemTopicName = "$env:SUBSCRIPTION_SYSTEM_TOPIC_NAME"
$SystemTopicResourceGroup = "$env:SUBSCRIPTION_SYSTEM_TOPIC_RESOURCE_GROUP"

if ($env:AZURE_SUBSCRIPTION_ID) {
    az account set --subscription $env:AZURE_SUBSCRIPTION_ID | Out-Null
    if ($LASTEXITCODE -ne 0) { Stop-PostDeploy "cannot select subscription $($env:AZURE_SUBSCRIPTION_ID); run az login" }
}

$HostName = az functionapp show --resource-group $ResourceGroup --name $FunctionAppName --query defaultHostName --output tsv
if ($LASTEXITCODE -ne 0 -or -not $HostName) { Stop-PostDeploy "cannot read function app $FunctionAppName" }

$SystemKey = ''
for ($attempt = 1; $attempt -le $KeyAttempts; $attempt++) {
    $SystemKey = az functionapp keys list --resource-group $ResourceGroup --name $FunctionAppName `
        --query 'systemKeys.eventgrid_extension' --output tsv 2>$null
    if ($LASTEXITCODE -eq 0 -and $SystemKey) { break }
    $SystemKey = ''
    Write-Host "post-deploy: waiting for the eventgrid_extension system key (attempt $attempt of $KeyAttempts)"
    Start-Sleep -Seconds $KeyWaitSeconds
}
if (-not $SystemKey) { Stop-PostDeploy 'the eventgrid_extension system key did not appear; is an Event Grid trigger deployed?' }

# True when the deployed app has a function of that name.
function Test-FunctionExists([string]$Name) {
    az functionapp function show --resource-group $ResourceGroup --name $FunctionAppName `
        --function-name $Name --query name --output tsv 2>$null | Out-Null
    return $LASTEXITCODE -eq 0
}

function Get-Endpoint([string]$Name) {
    $url = "https://$HostName/runtime/webhooks/eventgrid?functionName=$Name&code=$SystemKey"
    # On Windows az is a .cmd script, and cmd.exe would take the '&' as a command separator.
    if ($IsWindows) { return '"' + $url + '"' }
    return $url
}

# Custom topic -> notifications.
if (Test-FunctionExists $NotificationsFunctionName) {
    Write-Host "post-deploy: subscribing $NotificationsFunctionName to the app's topic"
    az eventgrid event-subscription create `
        --name $NotificationsSubscriptionName `
        --source-resource-id $TopicId `
        --endpoint-type webhook `
        --endpoint (Get-Endpoint $NotificationsFunctionName) `
        --event-delivery-schema $DeliverySchema `
        --output none
    if ($LASTEXITCODE -ne 0) { Stop-PostDeploy "cannot create $NotificationsSubscriptionName" }
}
else {
    Write-Warning "post-deploy: function $NotificationsFunctionName is not deployed; skipping $NotificationsSubscriptionName"
}

# Subscription system topic -> auto-protection.
if (-not $AutoProtectEnabled) {
    Write-Host "post-deploy: auto-protection is off; skipping $AutoProtectSubscriptionName"
}
elseif (-not $SystemTopicName -or -not $SystemTopicResourceGroup) {
    Write-Warning "post-deploy: no subscription system topic is named; skipping $AutoProtectSubscriptionName"
}
elseif (Test-FunctionExists $AutoProtectFunctionName) {
    Write-Host "post-deploy: subscribing $AutoProtectFunctionName to $SystemTopicName"
    az eventgrid system-topic event-subscription create `
        --name $AutoProtectSubscriptionName `
        --resource-group $SystemTopicResourceGroup `
        --system-topic-name $SystemTopicName `
        --endpoint-type webhook `
        --endpoint (Get-Endpoint $AutoProtectFunctionName) `
        --event-delivery-schema $DeliverySchema `
        --included-event-types @AutoProtectEventTypes `
        --advanced-filter data.operationName StringIn @AutoProtectOperations `
        --advanced-filter subject StringContains $AutoProtectSubjectContains `
        --output none
    if ($LASTEXITCODE -ne 0) { Stop-PostDeploy "cannot create $AutoProtectSubscriptionName" }
}
else {
    Write-Warning "post-deploy: function $AutoProtectFunctionName is not deployed; skipping $AutoProtectSubscriptionName"
}

Write-Host 'post-deploy: done'
