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
. scripts/local-server.sh
start_local_server "$port" "$log" MAIL_OUTBOX_DIR="$outbox" TABLE_NAME="contract-$(date +%s)"
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$outbox"' EXIT
wait_for_local_server "$port" "$log"
BASE_URL="http://127.0.0.1:$port" MAIL_OUTBOX_DIR="$outbox" "$suite" "$@"
