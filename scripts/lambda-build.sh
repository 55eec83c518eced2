#!/usr/bin/env bash
# The one arm64 release build of every function crate into target/lambda/<crate>/bootstrap,
# shared by `sam build` (scripts/lambda-bootstrap.sh) and `BENCH_ARM64=1 make bench`.
# The release profile of Cargo.toml as it is (fat LTO, size-optimised, stripped, argon2 at
# opt-level 3, aws-lc-sys without OPENSSL_SMALL via .cargo/config.toml): --disable-optimizations
# keeps cargo-lambda from adding panic=abort, which would turn a handler's panic into a crashed process instead of a 500 problem response.
# SAM runs several build steps at once: the lock lets the first build, the others wait and
# find every binary fresh.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo-lambda and zig (its cross linker) live in the project's virtualenv.
export PATH="$PWD/.venv/bin:$PATH"
command -v rustup >/dev/null && rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu
packages=()
for dir in functions/*/; do packages+=(-p "$(basename "$dir")"); done
mkdir -p target
flock target/.lambda-build.lock cargo lambda build --release --arm64 --disable-optimizations "${packages[@]}"
