#!/usr/bin/env bash
# The README's newcomer walkthrough, run as a script (CI runs it through libs/system-tests): after
# `make install && make up`, with the Bitbucket simulator as Bitbucket: create an integration, register
# its webhook, create a stack, push a commit, and see the run finish and its commit status in Bitbucket.
# Stacklink is driven with the `stacklink` command (libs/cli, what `npx stacklink` runs), as the README does.
# Exits non-zero with a clear message on any failure; stops the simulator it started.
# Honours RUN_DIR, INTEGRATION_PORT, STACK_TRIGGER_PORT and SIM_PORT like scripts/up.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${RUN_DIR:-.run}"
SIM_PORT="${SIM_PORT:-7990}"
INTEGRATION="http://127.0.0.1:${INTEGRATION_PORT:-8081}"
STACK_TRIGGER="http://127.0.0.1:${STACK_TRIGGER_PORT:-8082}"
BITBUCKET="http://127.0.0.1:$SIM_PORT"
DEADLINE_SECONDS="${WALKTHROUGH_TIMEOUT_SECONDS:-60}"

fail() {
  echo "walkthrough: FAILED: $*" >&2
  exit 1
}
step() { echo "walkthrough: $*"; }
# json '<expression of v>' [args…]: evaluates it on the JSON read from stdin (node is there whenever
# Stacklink is; jq may not be). Extra arguments are `a[0]`, `a[1]`…
json() {
  node -e 'let s="";process.stdin.on("data",d=>(s+=d)).on("end",()=>{const v=JSON.parse(s),a=process.argv.slice(2);const r=eval(process.argv[1]);console.log(r===undefined?"":r)})' "$@"
}

[ -f "$RUN_DIR/dev.env" ] || fail "$RUN_DIR/dev.env is missing: run 'make up' first"
ADMIN_TOKEN=$(sed -n 's/^ADMIN_TOKEN=//p' "$RUN_DIR/dev.env")
[ -n "$ADMIN_TOKEN" ] || fail "no ADMIN_TOKEN in $RUN_DIR/dev.env"
INTERNAL_TOKEN=$(sed -n 's/^INTERNAL_TOKEN=//p' "$RUN_DIR/dev.env")
# The command's configuration (it reads ./.run/dev.env itself; RUN_DIR and the ports may differ here).
export STACKLINK_INTEGRATION_URL="$INTEGRATION" STACKLINK_API_URL="$STACK_TRIGGER"
export STACKLINK_TOKEN="$ADMIN_TOKEN" STACKLINK_INTERNAL_TOKEN="$INTERNAL_TOKEN"
stacklink() { node libs/cli/dist/src/main.js "$@"; }
for url in "$INTEGRATION" "$STACK_TRIGGER"; do
  curl -fsS -o /dev/null "$url/readyz" || fail "$url/readyz does not answer: is 'make up' running?"
done
step "stacklink status"
stacklink status || fail "stacklink status says a role is not ready"

# 1. A Bitbucket to talk to: the simulator, standalone, seeded with user admin and repository DEMO/infra.
step "starting the Bitbucket simulator on $BITBUCKET"
PORT=$SIM_PORT node libs/bitbucket-simulator/dist/src/main.js >"$RUN_DIR/simulator.log" 2>&1 &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$BITBUCKET/_sim/statuses" 2>/dev/null && break
  kill -0 "$SIM_PID" 2>/dev/null || fail "the simulator exited: $(cat "$RUN_DIR/simulator.log")"
  sleep 0.1
done
curl -fsS -o /dev/null "$BITBUCKET/_sim/statuses" || fail "the simulator does not answer on $BITBUCKET"

# 2. The integration: where Bitbucket is and the token Stacklink uses there.
step "creating the integration"
integration=$(echo demo-token-not-secret | stacklink integrations create --name "demo-$(date +%s)-$$" \
  --api-host "$BITBUCKET" --username admin --access-token-stdin --json) ||
  fail "stacklink integrations create was refused"
INTEGRATION_ID=$(echo "$integration" | json v.id)
ENDPOINT=$(echo "$integration" | json v.webhook.endpoint)
SECRET=$(echo "$integration" | json v.webhook.secret)
[ -n "$ENDPOINT" ] && [ -n "$SECRET" ] || fail "the integration has no webhook endpoint or secret: $integration"
step "integration $INTEGRATION_ID, webhook endpoint $ENDPOINT"

# 3. The webhook, registered on the repository with Bitbucket's REST API (repository admin; Bitbucket
#    wants X-Atlassian-Token on a POST with Basic authentication, its XSRF check).
step "registering the webhook on DEMO/infra"
curl -fsS -o /dev/null -X POST "$BITBUCKET/rest/api/latest/projects/DEMO/repos/infra/webhooks" \
  -u admin:demo-token-not-secret -H 'X-Atlassian-Token: no-check' -H 'Content-Type: application/json' \
  -d "{\"name\": \"stacklink\", \"url\": \"$ENDPOINT\", \"configuration\": {\"secret\": \"$SECRET\"},
       \"events\": [\"repo:refs_changed\", \"pr:opened\", \"pr:from_ref_updated\", \"pr:modified\",
                    \"pr:merged\", \"pr:declined\", \"pr:deleted\", \"pr:comment:added\"]}" ||
  fail "Bitbucket refused the webhook"

# 4. A stack: the network stack of DEMO/infra, tracking main under stacks/network.
step "creating the stack"
stack=$(stacklink stacks create --name "network-$(date +%s)-$$" --integration "$INTEGRATION_ID" \
  --repository DEMO/infra --branch main --project-root stacks/network --json) ||
  fail "stacklink stacks create was refused"
STACK_ID=$(echo "$stack" | json v.id)
step "stack $STACK_ID"

# 5. Someone pushes to main under stacks/network.
step "pushing a commit to main"
pushed=$(curl -fsS -X POST "$BITBUCKET/_sim/push" -H 'Content-Type: application/json' \
  -d '{"project": "DEMO", "repo": "infra", "branch": "main", "files": ["stacks/network/main.tf"]}') ||
  fail "the simulator refused the push"
COMMIT=$(echo "$pushed" | json v.commit)
delivered=$(echo "$pushed" | json 'v.deliveries.map((d) => d.status ?? d.error).join(" ")')
[ "$delivered" = 202 ] || fail "the gateway answered the webhook with '$delivered', not 202"
step "commit $COMMIT delivered (202)"

# 6. The run: created, handed to the runner, FINISHED; its commit status SUCCESSFUL in Bitbucket.
step "waiting for the run to finish"
deadline=$((SECONDS + DEADLINE_SECONDS))
state=none
until [ "$state" = FINISHED ]; do
  ((SECONDS < deadline)) || fail "no FINISHED run for $COMMIT within ${DEADLINE_SECONDS}s (last state: $state)"
  if [ "$state" = FAILED ] || [ "$state" = CANCELED ]; then fail "the run ended $state"; fi
  sleep 0.5
  state=$(stacklink runs list --stack "$STACK_ID" --json |
    json '(v.runs.find((r) => r.commit === a[0]) ?? {state: "none"}).state' "$COMMIT")
done
RUN_ID=$(stacklink runs list --stack "$STACK_ID" --json | json 'v.runs.find((r) => r.commit === a[0]).id' "$COMMIT")
stacklink runs show "$RUN_ID"
step "run $RUN_ID FINISHED"
status=none
until [ "$status" = SUCCESSFUL ]; do
  ((SECONDS < deadline)) || fail "Bitbucket has no SUCCESSFUL status for $COMMIT (last: $status)"
  sleep 0.5
  status=$(curl -fsS "$BITBUCKET/_sim/statuses" |
    json '(v.filter((s) => s.commit === a[0] && s.key === a[1]).at(-1) ?? {state: "none"}).state' \
      "$COMMIT" "stacklink/$STACK_ID")
done
step "Bitbucket shows stacklink/$STACK_ID SUCCESSFUL on $COMMIT"
# 7. Why it ran: the delivery and the decision per stack.
DELIVERY_ID=$(echo "$pushed" | json 'v.deliveries[0].requestId')
decision=none
until [[ "$decision" == *run-created* ]]; do
  ((SECONDS < deadline)) || fail "the delivery $DELIVERY_ID shows no run-created decision: $decision"
  decision=$(stacklink deliveries show "$DELIVERY_ID" 2>&1 || true)
  [[ "$decision" == *run-created* ]] || sleep 0.5
done
echo "$decision"
step "stacklink deliveries show $DELIVERY_ID: run-created"
echo "walkthrough: OK"
