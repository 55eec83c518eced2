#!/usr/bin/env bash
# SAM's `BuildMethod: makefile` step for one function (Makefile: build-<Name>Function).
# Every function's build runs the same single build of all function crates
# (scripts/lambda-build.sh): the first one compiles and links everything, the rest find it
# fresh. Then this function's bootstrap is copied to $ARTIFACTS_DIR.
#   scripts/lambda-bootstrap.sh <LogicalIdWithoutFunction> <artifacts dir>
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 artifacts=$2
# RegisterFunction -> register, GetMeFunction -> get-me: the crate under functions/.
crate=$(sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' <<<"$name" | tr '[:upper:]' '[:lower:]')
[ -d "functions/$crate" ] || { echo "lambda-bootstrap: no crate functions/$crate for ${name}Function" >&2; exit 1; }

scripts/lambda-build.sh

mkdir -p "$artifacts"
cp "target/lambda/$crate/bootstrap" "$artifacts/bootstrap"
