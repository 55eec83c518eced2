#!/usr/bin/env bash
# Starts the local server on a spare port, runs ../shared/contract against it, stops it.
# Extra arguments go to pytest, e.g. scripts/contract.sh -k refresh
set -euo pipefail
cd "$(dirname "$0")/.."
suite="../shared/contract/run"
[ -x "$suite" ] || { echo "contract: $suite not found (the handbook sits beside the project)" >&2; exit 2; }
port="${CONTRACT_PORT:-3900}"
outbox="$(mktemp -d)"
log="$(mktemp)"
PORT="$port" MAIL_OUTBOX_DIR="$outbox" TABLE_NAME="contract-$(date +%s)" target/debug/bookshelf-local >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$outbox"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.2
done
BASE_URL="http://127.0.0.1:$port" MAIL_OUTBOX_DIR="$outbox" "$suite" "$@"
