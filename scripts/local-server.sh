# Sourced by scripts that run a suite against their own local server (contract, schemathesis).
#   start_local_server <port> <log> [VAR=value ...]   starts target/debug/bookshelf-local; sets $server
#   wait_for_local_server <port> <log>                until it answers (or prints its log and fails)
# Set an EXIT trap that kills "$server" between the two, so a server that never answers is
# stopped too.

start_local_server() {
  local port=$1 log=$2
  shift 2
  env "$@" PORT="$port" target/debug/bookshelf-local >"$log" 2>&1 &
  server=$!
}

wait_for_local_server() {
  local port=$1 log=$2
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.2
  done
  echo "bookshelf-local did not answer on port $port" >&2
  return 1
}
