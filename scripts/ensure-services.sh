#!/usr/bin/env bash
# Makes sure RabbitMQ (5672) and Redis (6379) answer on loopback. Starts them from the Debian packages
# when they are installed but not running; says exactly what is missing otherwise.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2 deadline=$((SECONDS + ${3:-60}))
  until port_open "$port"; do
    if ((SECONDS > deadline)); then
      echo "ensure-services: $name did not open 127.0.0.1:$port in time" >&2
      return 1
    fi
    sleep 0.5
  done
}

if ! port_open 6379; then
  if command -v redis-server >/dev/null; then
    echo "ensure-services: starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    wait_port 6379 redis 30
  else
    echo "ensure-services: Redis is not running on 127.0.0.1:6379 and redis-server is not installed (apt-get install redis-server)" >&2
    exit 1
  fi
fi

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null; then
    echo "ensure-services: starting rabbitmq-server (this takes a few seconds)"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_port 5672 rabbitmq 120
  else
    echo "ensure-services: RabbitMQ is not running on 127.0.0.1:5672 and rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2
    exit 1
  fi
fi
# The port opens before the broker accepts logins; wait until the node reports it is fully booted.
if command -v rabbitmqctl >/dev/null; then
  timeout 120 rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
echo "ensure-services: RabbitMQ and Redis are up on loopback"
