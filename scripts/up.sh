#!/usr/bin/env bash
# make up (docs/architecture.md §10): every role as its own process in the background, logs and pids in
# ./.run/, on the embedded store and loopback RabbitMQ/Redis. ROLES limits which roles start; a role whose pid
# is alive is left alone, so `make up ROLES=trigger` restarts only a role that died.
set -euo pipefail
cd "$(dirname "$0")/.."
# RUN_DIR (pids, logs, dev.env) and DATA_DIR (the embedded store) may be moved, e.g. by the end-to-end
# test that runs this script beside a developer's own `make up`.
RUN_DIR="${RUN_DIR:-.run}"
DATA_DIR="${DATA_DIR:-./data}"
mkdir -p "$RUN_DIR" "$DATA_DIR"

# First run: development secrets, generated once, kept in .run/ (git-ignored) and printed once. A dev.env
# from before a token existed gets the missing ones appended.
generate() {
  case "$1" in
    MASTER_KEY | SESSION_ENCRYPTION_KEY) openssl rand -base64 32 ;;
    *) openssl rand -hex 24 ;;
  esac
}
umask 077
touch "$RUN_DIR/dev.env"
added=()
for name in ADMIN_TOKEN INTERNAL_TOKEN MASTER_KEY RUNNER_TOKEN GATEWAY_TOKEN SESSION_ENCRYPTION_KEY; do
  if ! grep -q "^$name=" "$RUN_DIR/dev.env"; then
    echo "$name=$(generate "$name")" >>"$RUN_DIR/dev.env"
    added+=("$name")
  fi
done
if [ ${#added[@]} -gt 0 ]; then
  echo "make up: generated development credentials in $RUN_DIR/dev.env (${added[*]}; shown once):"
  sed 's/^/  /' "$RUN_DIR/dev.env"
fi
umask 022
# Values already in the environment win over the generated ones (every variable of docs/architecture.md §2).
# (split on the first '=' only: base64 values end in '='). Secrets are read, not exported: each role
# gets only its own below (docs/architecture.md §12).
while IFS= read -r line; do
  name=${line%%=*}
  [ -n "$name" ] && [ -z "${!name:-}" ] && declare "$name=${line#*=}"
done <"$RUN_DIR/dev.env"
# stack-trigger accepts the local runner's token (and any RUNNER_TOKENS given).
RUNNER_TOKENS="${RUNNER_TOKENS:-$RUNNER_TOKEN}"

# Every secret, and which roles hold which: a role starts with none of the others' (docs/architecture.md §12).
SECRETS="ADMIN_TOKEN INTERNAL_TOKEN GATEWAY_TOKEN RUNNER_TOKEN RUNNER_TOKENS MASTER_KEY PREVIOUS_MASTER_KEYS SESSION_ENCRYPTION_KEY"
declare -A ROLE_SECRETS=(
  [integration]="ADMIN_TOKEN INTERNAL_TOKEN GATEWAY_TOKEN MASTER_KEY PREVIOUS_MASTER_KEYS"
  [stack-trigger]="ADMIN_TOKEN INTERNAL_TOKEN RUNNER_TOKENS"
  [gateway]="GATEWAY_TOKEN"
  [trigger]="INTERNAL_TOKEN"
  [reporter]="INTERNAL_TOKEN"
  [reconciler]="INTERNAL_TOKEN"
  [runner]="RUNNER_TOKEN"
  [console]="ADMIN_TOKEN INTERNAL_TOKEN SESSION_ENCRYPTION_KEY"
)
# Connections a role does not use are not handed to it either.
declare -A ROLE_UNSET=(
  [integration]="REDIS_URL"
  [gateway]="STORE_URL"
  [runner]="REDIS_URL STORE_URL"
  [console]="STORE_URL RABBITMQ_URL"
)

export STORE_URL="${STORE_URL:-sqlite:$DATA_DIR/stacklink.db}"
export RABBITMQ_URL="${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export INTEGRATION_URL="${INTEGRATION_URL:-http://127.0.0.1:${INTEGRATION_PORT:-8081}}"
export STACK_TRIGGER_URL="${STACK_TRIGGER_URL:-http://127.0.0.1:${STACK_TRIGGER_PORT:-8082}}"
export PUBLIC_WEBHOOK_BASE_URL="${PUBLIC_WEBHOOK_BASE_URL:-http://127.0.0.1:${GATEWAY_PORT:-8080}}"
# Commit statuses link to the console's run pages (docs/architecture.md §15).
export PUBLIC_UI_URL="${PUBLIC_UI_URL:-http://127.0.0.1:${CONSOLE_PORT:-8083}}"
RUNNER_ENABLED="${RUNNER_ENABLED:-true}"

# role | entry point | port answering /readyz
declare -A ENTRY=(
  [integration]=services/integration/dist/src/roles/integration.js
  [stack-trigger]=services/stack-trigger/dist/src/roles/api.js
  [gateway]=services/webhook-gateway/dist/src/roles/gateway.js
  [trigger]=services/stack-trigger/dist/src/roles/trigger.js
  [reporter]=services/stack-trigger/dist/src/roles/reporter.js
  [reconciler]=services/stack-trigger/dist/src/roles/reconciler.js
  [runner]=services/runner/dist/src/roles/runner.js
  [console]=services/console/dist/src/roles/console.js
)
declare -A RPORT=(
  [integration]=${INTEGRATION_PORT:-8081}
  [stack-trigger]=${STACK_TRIGGER_PORT:-8082}
  [gateway]=${GATEWAY_PORT:-8080}
  [trigger]=${TRIGGER_METRICS_PORT:-9101}
  [reporter]=${REPORTER_METRICS_PORT:-9102}
  [reconciler]=${RECONCILER_METRICS_PORT:-9104}
  [runner]=${RUNNER_METRICS_PORT:-9103}
  [console]=${CONSOLE_PORT:-8083}
)
ALL="integration stack-trigger gateway trigger reporter reconciler runner console"
ROLES="${ROLES:-$ALL}"

# shellcheck source=scripts/proc.sh
. scripts/proc.sh
alive() { [ -f "$RUN_DIR/$1.pid" ] && pid_running "$(cat "$RUN_DIR/$1.pid")"; }

started=()
for role in ${ROLES//,/ }; do
  if [ -z "${ENTRY[$role]:-}" ]; then
    echo "make up: unknown role '$role' (roles: $ALL)" >&2
    exit 2
  fi
  if [ "$role" = runner ] && [ "$RUNNER_ENABLED" = false ]; then
    echo "make up: runner disabled (RUNNER_ENABLED=false): runs stay queued for an external runner"
    continue
  fi
  if alive "$role"; then
    echo "make up: $role already running (pid $(cat "$RUN_DIR/$role.pid"))"
    continue
  fi
  entry=${ENTRY[$role]}
  if [ ! -f "$entry" ]; then
    echo "make up: $role is not built yet ($entry missing) — run 'make install'; skipping" >&2
    continue
  fi
  role_env=()
  for name in $SECRETS ${ROLE_UNSET[$role]:-}; do role_env+=(-u "$name"); done
  for name in ${ROLE_SECRETS[$role]}; do
    [ -n "${!name:-}" ] && role_env+=("$name=${!name}")
  done
  env "${role_env[@]}" PORT="${RPORT[$role]}" nohup node --enable-source-maps "$entry" \
    >>"$RUN_DIR/$role.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$role.pid"
  started+=("$role")
  echo "make up: started $role (pid $!, port ${RPORT[$role]}, log $RUN_DIR/$role.log)"
done

# Return only once every started process answers /readyz; show the log tail of one that does not.
deadline=$((SECONDS + ${UP_TIMEOUT_SECONDS:-60}))
for role in "${started[@]}"; do
  until curl -fsS -o /dev/null "http://127.0.0.1:${RPORT[$role]}/readyz" 2>/dev/null; do
    if ! alive "$role" || ((SECONDS > deadline)); then
      echo "make up: $role did not become ready; last lines of $RUN_DIR/$role.log:" >&2
      tail -n 30 "$RUN_DIR/$role.log" >&2 || true
      exit 1
    fi
    sleep 0.3
  done
  echo "make up: $role ready on http://127.0.0.1:${RPORT[$role]}"
done
if [[ " ${ROLES//,/ } " == *" console "* ]]; then
  echo "make up: console on http://127.0.0.1:${RPORT[console]} (sign in with ADMIN_TOKEN from $RUN_DIR/dev.env)"
fi
echo "make up: done. Credentials: $RUN_DIR/dev.env; stop with 'make down'."
