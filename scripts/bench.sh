#!/usr/bin/env bash
# `make bench`: release builds, then the measurements of bench/src/main.rs. Writes
# bench/results.json and bench/chart.svg and refreshes the README's bench table.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# Every function binary, the local server and the bench itself, optimised as deployed.
cargo build --release --workspace --bins
# arm64 sizes need cargo-lambda (and zig, its cross linker) and the aarch64 std; measured
# when they are available, reported as "–" otherwise.
if [ -x .venv/bin/cargo-lambda ] && rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu; then
  # Flags as scripts/lambda-bootstrap.sh (the deployed build), so both share target/.
  PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 --disable-optimizations --quiet || echo "bench: arm64 build failed; arm64 sizes skipped" >&2
fi
target/release/bookshelf-bench
echo "bench: done in $(( $(date +%s) - started )) s" >&2
