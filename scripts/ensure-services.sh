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

# A broker can hold its port open and still answer nobody (out of sockets, stuck after a crash): the
# probe sends AMQP's protocol header and expects the first byte of Connection.Start (frame type 1).
amqp_answers() {
  local first
  first=$(timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672 && printf "AMQP\x00\x00\x09\x01" >&3 && head -c 1 <&3 | od -An -tx1' 2>/dev/null) || return 1
  [[ ${first// /} == 01 ]]
}

# The broker takes as many connections as its open-files limit allows; Debian's default soft limit
# (1024) is below what a parallel test run may hold at once.
start_rabbitmq() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_port 5672 rabbitmq 120
  if command -v rabbitmqctl >/dev/null; then
    # The port opens before the broker accepts logins; wait until the node reports it is fully booted.
    timeout 120 rabbitmqctl await_startup >/dev/null 2>&1 || true
  fi
}

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null; then
    echo "ensure-services: starting rabbitmq-server (this takes a few seconds)"
    start_rabbitmq
  else
    echo "ensure-services: RabbitMQ is not running on 127.0.0.1:5672 and rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2
    exit 1
  fi
elif command -v rabbitmqctl >/dev/null; then
  timeout 120 rabbitmqctl await_startup >/dev/null 2>&1 || true
fi

if ! amqp_answers; then
  connections=$(ss -tn state established '( sport = :5672 )' 2>/dev/null | tail -n +2 | wc -l)
  echo "ensure-services: RabbitMQ holds 127.0.0.1:5672 open but does not answer the AMQP handshake ($connections connections open); restarting it" >&2
  if ! command -v rabbitmq-server >/dev/null; then
    echo "ensure-services: rabbitmq-server is not installed here, so it cannot be restarted" >&2
    exit 1
  fi
  timeout 60 rabbitmqctl stop >/dev/null 2>&1 || pkill -9 -f beam.smp || true
  deadline=$((SECONDS + 60))
  while port_open 5672 && ((SECONDS < deadline)); do sleep 0.5; done
  start_rabbitmq
  if ! amqp_answers; then
    echo "ensure-services: RabbitMQ still does not answer after a restart; see /var/log/rabbitmq/" >&2
    exit 1
  fi
fi
echo "ensure-services: RabbitMQ and Redis are up on loopback"
