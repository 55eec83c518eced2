#!/usr/bin/env bash
# `make sam-build`: `sam build` (one cargo-lambda build for every function, see
# scripts/lambda-bootstrap.sh), then checks that each function of template.yaml got an arm64
# ELF `bootstrap`. Prints the wall time and every bootstrap's size.
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
started=$(date +%s)
.venv/bin/sam build --build-in-source "$@"
elapsed=$(( $(date +%s) - started ))

# Every AWS::Serverless::Function of the template: a two-space-indented key, then its Type.
functions=$(awk '/^  [A-Za-z0-9]+:$/ { id = substr($1, 1, length($1) - 1) }
                 /^    Type: AWS::Serverless::Function$/ { print id }' template.yaml)
[ "$(wc -w <<<"$functions")" -eq "$(ls -d functions/*/ | wc -l)" ] \
  || { echo "sam-build: template functions and functions/ crates differ" >&2; exit 1; }
status=0
for fn in $functions; do
  bootstrap=.aws-sam/build/$fn/bootstrap
  if [ ! -f "$bootstrap" ]; then
    echo "sam-build: $fn has no bootstrap" >&2; status=1; continue
  fi
  # ELF magic, 64-bit class, little-endian, and e_machine 0xb7 (EM_AARCH64) at offset 18.
  header=$(od -An -tx1 -N20 "$bootstrap" | tr -d ' \n')
  if [ "${header:0:12}" != "7f454c460201" ] || [ "${header:36:4}" != "b700" ]; then
    echo "sam-build: $bootstrap is not an aarch64 ELF executable" >&2; status=1; continue
  fi
  printf '%-30s %9d bytes  aarch64 ELF\n' "$fn" "$(stat -c %s "$bootstrap")"
done
echo "sam-build: $(wc -w <<<"$functions") functions, sam build took ${elapsed} s"
exit $status
