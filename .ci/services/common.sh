# Shared helpers of the service scripts (sourced, not run).

# A folder per checkout for the services' state, sockets and logs (override: CURRICULA_SERVICES_DIR).
services_dir() {
  local root hash
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  hash="$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
  printf '%s\n' "${CURRICULA_SERVICES_DIR:-${TMPDIR:-/tmp}/curricula-services-$hash}"
}

# A TCP port nobody listens on at 127.0.0.1 (asks the kernel for one).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits until a command succeeds (up to $1 seconds).
wait_for() {
  local seconds="$1"
  shift
  local i
  for ((i = 0; i < seconds * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

# Stops the process whose id is in the file $1 (TERM, then KILL after 5 s) and removes the file.
stop_pidfile() {
  local file="$1" pid i
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 25; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
