#!/usr/bin/env bash
# Schema-driven testing: schemathesis generates requests from openapi.yaml (valid and invalid
# ones) and checks every answer of the local server against the document: no 5xx, the status
# code documented for the operation, the documented content type, headers and body schema.
#
# Builds and starts bookshelf-local on a spare port with a fresh table and its own outbox,
# with the app-level rate limits off and the usage-plan throttle raised (a run sends hundreds
# of requests a minute from one IP; the 429s themselves are covered by tests/integration),
# then stops it on exit. scripts/schemathesis_hooks.py supplies the bearer tokens (one shared
# account for the routes that keep the session; a new account or guest per case for those
# that end it: POST /logout, DELETE /me, POST /password, POST /guest/upgrade) and puts live
# credentials and mailed tokens into every second positive case of the routes whose success
# answers random data never reaches. An ERROR log line or a panic of the server fails the
# run as well.
#   ST_MAX_EXAMPLES   examples per operation and phase (default 100; about 1.5 min here)
#   ST_SEED           a seed, to repeat a run
#   ST_PORT           the server's port (default: a free one)
#   ST_JUNIT          write a JUnit report to this file
# Extra arguments go to `schemathesis run`, e.g. --include-operation-id register
set -euo pipefail
cd "$(dirname "$0")/.."
st=.venv/bin/schemathesis
[ -x "$st" ] || { echo "schemathesis: $st missing (make audit installs it: requirements-schemathesis.txt)" >&2; exit 2; }
cargo build --quiet -p bookshelf-local

port="${ST_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
key="schemathesis-key"
work="$(mktemp -d)"
log="$work/server.log"
. scripts/local-server.sh
start_local_server "$port" "$log" LOCAL_API_KEY="$key" TABLE_NAME="schemathesis-$(date +%s)-$$" \
  MAIL_OUTBOX_DIR="$work/outbox" RATE_LIMITS_ENABLED=false LOCAL_USAGE_PLAN_RATE=100000 LOCAL_USAGE_PLAN_BURST=100000
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
wait_for_local_server "$port" "$log"

extra=()
[ -n "${ST_SEED:-}" ] && extra+=(--seed "$ST_SEED")
[ -n "${ST_JUNIT:-}" ] && extra+=(--report junit --report-junit-path "$ST_JUNIT")
set +e
ST_BASE_URL="http://127.0.0.1:$port" ST_API_KEY="$key" ST_OUTBOX="$work/outbox" SCHEMATHESIS_HOOKS=schemathesis_hooks \
  PYTHONPATH="scripts${PYTHONPATH:+:$PYTHONPATH}" \
  "$st" run openapi.yaml \
  --url "http://127.0.0.1:$port" \
  --header "x-api-key: $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${ST_MAX_EXAMPLES:-100}" \
  --workers 2 \
  --generation-database none \
  --no-color \
  "${extra[@]}" "$@"
status=$?
set -e
# A bug can also hide behind a documented answer: any ERROR line or panic fails the run too.
if grep -qE '"level":"ERROR"|panicked' "$log"; then
  echo "schemathesis: the server logged errors during the run:" >&2
  grep -E '"level":"ERROR"|panicked' "$log" | tail -20 >&2
  status=1
fi
exit "$status"
