#!/usr/bin/env bash
# `make bench`: release builds, then the measurements of bench/src/main.rs. Writes
# bench/results.json and bench/chart.svg and refreshes the README's bench table.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# Every function binary, the local server and the bench itself, optimised as deployed.
cargo build --release --workspace --bins
# arm64 sizes come from the deployed build, `make sam-build` (same release profile, one
# cargo-lambda build into target/lambda/): building 20 more fat-LTO binaries here would double
# the bench's time on 2 cores. BENCH_ARM64=1 builds them first; otherwise they are read when
# present and reported as "–" when not.
if [ "${BENCH_ARM64:-0}" = 1 ]; then
  scripts/lambda-build.sh
fi
target/release/bookshelf-bench
echo "bench: done in $(( $(date +%s) - started )) s" >&2
