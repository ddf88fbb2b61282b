#!/usr/bin/env bash
# A throw-away Redis for the tests: 127.0.0.1 only, a free port, no persistence.
#   bash .ci/services/redis.sh start   # starts it (or finds it running); prints `export CURRICULA_TEST_REDIS_URL=...`
#   bash .ci/services/redis.sh stop
#   bash .ci/services/redis.sh running   # exit status 0 when it is up
set -euo pipefail
source "$(dirname "$0")/common.sh"
dir="$(services_dir)/redis"

running() {
  [ -f "$dir/port" ] && [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null
}

start() {
  command -v redis-server >/dev/null || { echo "redis-server not found (apt-get install redis-server)" >&2; exit 1; }
  mkdir -p "$dir"
  if running; then
    echo "export CURRICULA_TEST_REDIS_URL=redis://127.0.0.1:$(cat "$dir/port")"
    return 0
  fi
  local port
  port="$(free_port)"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --protected-mode yes \
    --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  if ! wait_for 10 redis-cli -h 127.0.0.1 -p "$port" ping; then
    echo "redis-server did not answer on 127.0.0.1:$port; its log:" >&2
    tail -20 "$dir/redis.log" >&2 || true
    exit 1
  fi
  echo "$port" >"$dir/port"
  echo "export CURRICULA_TEST_REDIS_URL=redis://127.0.0.1:$port"
}

stop() {
  stop_pidfile "$dir/redis.pid"
  rm -rf "$dir"
  rmdir "$(services_dir)" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  running) running ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
