#!/bin/sh
# Creates the Event Grid subscriptions that deliver events to the app's Event Grid trigger functions.
#
# Runs as the azd postdeploy hook (azure.yaml), after the code is deployed: the webhook URL carries
# the function app's eventgrid_extension system key, which exists only once the app has started.
# azd passes its environment (the outputs of infra/main.bicep) as environment variables.
# Needs the Azure CLI, signed in to the same tenant (az login). Safe to run again: each
# subscription is created or updated in place.
set -eu

# ---------------------------------------------------------------------------------------------
# The app's Event Grid trigger functions, by the names they are registered under.
# ---------------------------------------------------------------------------------------------
NOTIFICATIONS_FUNCTION_NAME="${PGPROTECT_NOTIFICATIONS_FUNCTION_NAME:-eventGridRouteNotifications}"
AUTO_PROTECT_FUNCTION_NAME="${PGPROTECT_AUTO_PROTECT_FUNCTION_NAME:-eventGridAutoProtect}"

# Event subscription names.
NOTIFICATIONS_SUBSCRIPTION_NAME="pgprotect-notifications"
AUTO_PROTECT_SUBSCRIPTION_NAME="pgprotect-auto-protect"

# Both functions receive CloudEvents 1.0. The custom topic accepts nothing else; events of the
# subscription system topic are converted on delivery.
DELIVERY_SCHEMA="cloudeventschemav1_0"

# Auto-protection hears about writes to PostgreSQL flexible servers and to their tags only.
AUTO_PROTECT_EVENT_TYPES="Microsoft.Resources.ResourceWriteSuccess"
AUTO_PROTECT_OPERATIONS="Microsoft.DBforPostgreSQL/flexibleServers/write Microsoft.Resources/tags/write"
AUTO_PROTECT_SUBJECT_CONTAINS="/providers/Microsoft.DBforPostgreSQL/flexibleServers/"

# The system key appears a little after deployment, when the host first starts.
KEY_ATTEMPTS="${PGPROTECT_KEY_ATTEMPTS:-20}"
KEY_WAIT_SECONDS="${PGPROTECT_KEY_WAIT_SECONDS:-15}"

# ---------------------------------------------------------------------------------------------

fail() {
  echo "post-deploy: $*" >&2
  exit 1
}

command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is required; see docs/deployment.md"

: "${AZURE_RESOURCE_GROUP:?AZURE_RESOURCE_GROUP is not set; run azd provision first}"
: "${AZURE_FUNCTION_APP_NAME:?AZURE_FUNCTION_APP_NAME is not set; run azd provision first}"
: "${EVENTGRID_TOPIC_ID:?EVENTGRID_TOPIC_ID is not set; run azd provision first}"
AUTO_PROTECT_ENABLED="${AUTO_PROTECT_ENABLED:-false}"
SUBSCRIPTION_SYSTEM_TOPIC_NAME="${SUBSCRIPTION_SYSTEM_TOPIC_NAME:-}"
SUBSCRIPTION_SYSTEM_TOPIC_RESOURCE_GROUP="${SUBSCRIPTION_SYSTEM_TOPIC_RESOURCE_GROUP:-}"

if [ -n "${AZURE_SUBSCRIPTION_ID:-}" ]; then
  az account set --subscription "$AZURE_SUBSCRIPTION_ID" >/dev/null ||
    fail "cannot select subscription $AZURE_SUBSCRIPTION_ID; run az login"
fi

host_name=$(az functionapp show --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
  --query defaultHostName --output tsv) || fail "cannot read function app $AZURE_FUNCTION_APP_NAME"

system_key=""
attempt=1
while [ "$attempt" -le "$KEY_ATTEMPTS" ]; do
  system_key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.eventgrid_extension" --output tsv 2>/dev/null || true)
  [ -n "$system_key" ] && break
  echo "post-deploy: waiting for the eventgrid_extension system key (attempt $attempt of $KEY_ATTEMPTS)"
  sleep "$KEY_WAIT_SECONDS"
  attempt=$((attempt + 1))
done
[ -n "$system_key" ] || fail "the eventgrid_extension system key did not appear; is an Event Grid trigger deployed?"

# Succeeds when the deployed app has a function of that name.
function_exists() {
  az functionapp function show --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --function-name "$1" --query name --output tsv >/dev/null 2>&1
}

endpoint_for() {
  echo "https://${host_name}/runtime/webhooks/eventgrid?functionName=$1&code=${system_key}"
}

# Custom topic -> notifications.
if function_exists "$NOTIFICATIONS_FUNCTION_NAME"; then
  echo "post-deploy: subscribing $NOTIFICATIONS_FUNCTION_NAME to the app's topic"
  az eventgrid event-subscription create \
    --name "$NOTIFICATIONS_SUBSCRIPTION_NAME" \
    --source-resource-id "$EVENTGRID_TOPIC_ID" \
    --endpoint-type webhook \
    --endpoint "$(endpoint_for "$NOTIFICATIONS_FUNCTION_NAME")" \
    --event-delivery-schema "$DELIVERY_SCHEMA" \
    --output none
else
  echo "post-deploy: function $NOTIFICATIONS_FUNCTION_NAME is not deployed; skipping $NOTIFICATIONS_SUBSCRIPTION_NAME" >&2
fi

# Subscription system topic -> auto-protection.
if [ "$AUTO_PROTECT_ENABLED" != "true" ] && [ "$AUTO_PROTECT_ENABLED" != "True" ]; then
  echo "post-deploy: auto-protection is off; skipping $AUTO_PROTECT_SUBSCRIPTION_NAME"
elif [ -z "$SUBSCRIPTION_SYSTEM_TOPIC_NAME" ] || [ -z "$SUBSCRIPTION_SYSTEM_TOPIC_RESOURCE_GROUP" ]; then
  echo "post-deploy: no subscription system topic is named; skipping $AUTO_PROTECT_SUBSCRIPTION_NAME" >&2
elif function_exists "$AUTO_PROTECT_FUNCTION_NAME"; then
  echo "post-deploy: subscribing $AUTO_PROTECT_FUNCTION_NAME to $SUBSCRIPTION_SYSTEM_TOPIC_NAME"
  # The operations list is split into words on purpose: one argument per value.
  # shellcheck disable=SC2086
  az eventgrid system-topic event-subscription create \
    --name "$AUTO_PROTECT_SUBSCRIPTION_NAME" \
    --resource-group "$SUBSCRIPTION_SYSTEM_TOPIC_RESOURCE_GROUP" \
    --system-topic-name "$SUBSCRIPTION_SYSTEM_TOPIC_NAME" \
    --endpoint-type webhook \
    --endpoint "$(endpoint_for "$AUTO_PROTECT_FUNCTION_NAME")" \
    --event-delivery-schema "$DELIVERY_SCHEMA" \
    --included-event-types $AUTO_PROTECT_EVENT_TYPES \
    --advanced-filter data.operationName StringIn $AUTO_PROTECT_OPERATIONS \
    --advanced-filter subject StringContains "$AUTO_PROTECT_SUBJECT_CONTAINS" \
    --output none
else
  echo "post-deploy: function $AUTO_PROTECT_FUNCTION_NAME is not deployed; skipping $AUTO_PROTECT_SUBSCRIPTION_NAME" >&2
fi

echo "post-deploy: done"
