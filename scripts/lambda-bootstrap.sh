#!/usr/bin/env bash
# SAM's `BuildMethod: makefile` step for one function (Makefile: build-<Name>Function).
# Every function's build runs the same single `cargo lambda build` of all function crates:
# the first one compiles and links everything (in parallel, one cargo lock), the rest find it
# fresh. Then this function's bootstrap is copied to $ARTIFACTS_DIR.
#   scripts/lambda-bootstrap.sh <LogicalIdWithoutFunction> <artifacts dir>
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 artifacts=$2
# RegisterFunction -> register, GetMeFunction -> get-me: the crate under functions/.
crate=$(sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' <<<"$name" | tr '[:upper:]' '[:lower:]')
[ -d "functions/$crate" ] || { echo "lambda-bootstrap: no crate functions/$crate for ${name}Function" >&2; exit 1; }

# cargo-lambda and zig (its cross linker) live in the project's virtualenv.
export PATH="$PWD/.venv/bin:$PATH"
command -v rustup >/dev/null && rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu
packages=()
for dir in functions/*/; do packages+=(-p "$(basename "$dir")"); done
# The release profile of Cargo.toml as it is (fat LTO, size-optimised, stripped, argon2 at
# opt-level 3): --disable-optimizations keeps cargo-lambda from adding panic=abort, which would
# turn a handler's panic into a crashed process instead of a 500 problem response.
# SAM runs several of these steps at once: the lock lets the first build, the others wait and
# find every binary fresh.
mkdir -p target
flock target/.lambda-build.lock cargo lambda build --release --arm64 --disable-optimizations "${packages[@]}"

mkdir -p "$artifacts"
cp "target/lambda/$crate/bootstrap" "$artifacts/bootstrap"
