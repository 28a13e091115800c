#!/bin/sh
# One RabbitMQ user per role (docs/architecture.md §12), with the configure/write/read regexes of
# permissions.json beside this file, through the management API. Idempotent: run on every `docker compose
# up` (the `rabbitmq-users` service). Kubernetes declares the same users and permissions as
# Messaging Topology Operator resources (deploy/k8s/overlays/production/rabbitmq-users.yaml).
# Needs: MANAGEMENT_URL (http://rabbitmq:15672), ADMIN_USER, ADMIN_PASS and <ROLE>_AMQP_PASSWORD for
# INTEGRATION, GATEWAY, STACK_TRIGGER and RUNNER.
set -eu
here=$(dirname "$0")
api() {
  curl -fsS -u "$ADMIN_USER:$ADMIN_PASS" -H 'content-type: application/json' -X PUT "$MANAGEMENT_URL/api/$1" -d "$2"
}
for role in integration gateway stack-trigger runner; do
  var=$(echo "$role" | tr 'a-z-' 'A-Z_')_AMQP_PASSWORD
  password=$(eval "printf %s \"\${$var:?$var is required}\"")
  # The role's permissions object, extracted without jq (one role per top-level key, one line each).
  permissions=$(sed -n "/^  \"$role\": {/,/^  }/p" "$here/permissions.json" | sed '1s/.*/{/;$s/.*/}/' | tr -d '\n')
  api "users/$role" "{\"password\":\"$password\",\"tags\":\"\"}"
  api "permissions/%2F/$role" "$permissions"
  echo "rabbitmq user $role: $permissions"
done
