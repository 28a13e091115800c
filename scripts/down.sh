#!/usr/bin/env bash
# make down: stops exactly the processes whose pids `make up` wrote, gracefully (SIGTERM), then SIGKILL.
set -uo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${RUN_DIR:-.run}"
# shellcheck source=scripts/proc.sh
. scripts/proc.sh
shopt -s nullglob
pids=()
for f in "$RUN_DIR"/*.pid; do
  role=$(basename "$f" .pid)
  pid=$(cat "$f")
  if pid_running "$pid"; then
    kill -TERM "$pid" && pids+=("$pid") && echo "make down: stopping $role (pid $pid)"
  fi
  rm -f "$f"
done
for _ in $(seq 1 100); do
  left=0
  for pid in "${pids[@]}"; do pid_running "$pid" && left=1; done
  [ $left -eq 0 ] && break
  sleep 0.2
done
for pid in "${pids[@]}"; do pid_running "$pid" && kill -KILL "$pid" && echo "make down: killed $pid"; done
echo "make down: done"
