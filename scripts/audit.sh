#!/usr/bin/env bash
# make audit: the longer security and reliability checks.
#   1. supply chain: cargo-deny (advisories, licences, bans, sources; see deny.toml)
#   2. the slow integration tests (#[ignore]d in make test: fault injection)
#   3. schemathesis: requests generated from openapi.yaml against the local server, every
#      answer checked against the document (scripts/schemathesis.sh; ST_MAX_EXAMPLES)
#   4. a short cargo-fuzz run of every target in fuzz/, seeded from events/*.json
# Each tool is installed at a pinned version when missing (schemathesis by `make audit`, in
# .venv from requirements-schemathesis.txt).
#   FUZZ_SECONDS   seconds per fuzz target (default 25)
#   ADVISORY_DB    a local clone of github.com/rustsec/advisory-db, for machines that cannot
#                  reach GitHub (the check then runs offline against that copy)
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DENY_VERSION=0.20.2
CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS="${FUZZ_SECONDS:-25}"

cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION" \
  || cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION" \
  || cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

echo "== supply chain (cargo deny)"
if [ -n "${ADVISORY_DB:-}" ]; then
  dbs="$(mktemp -d)"
  trap 'rm -rf "$dbs"' EXIT
  # cargo-deny keeps the default database under this name inside db-path.
  git clone -q "$ADVISORY_DB" "$dbs/advisory-db-3157b0e258782691"
  echo "advisory database: $ADVISORY_DB ($(git -C "$dbs/advisory-db-3157b0e258782691" log -1 --format=%cs))"
  sed "s|^\[advisories\]|[advisories]\ndb-path = \"$dbs\"|" deny.toml >"$dbs/deny.toml"
  cargo fetch --quiet
  cargo deny --offline --config "$dbs/deny.toml" check advisories licenses bans sources
else
  cargo deny check advisories licenses bans sources
fi

echo "== slow integration tests (fault injection)"
cargo test -p bookshelf-tests --test integration -- --ignored

echo "== schemathesis against openapi.yaml"
scripts/schemathesis.sh

echo "== fuzzing, ${FUZZ_SECONDS}s per target"
corpus=fuzz/corpus
mkdir -p "$corpus/apigw_event" "$corpus/body" "$corpus/tokens"
cp events/*.json "$corpus/apigw_event/"
python3 - "$corpus" <<'PY'
import base64, glob, json, os, sys
corpus = sys.argv[1]
for path in glob.glob("events/*.json"):
    name = os.path.basename(path)[:-5]
    event = json.load(open(path))
    body = (event.get("body") or "").encode()
    # The body target's first byte picks the content type and the empty-body rule.
    open(f"{corpus}/body/{name}", "wb").write(b"\x08" + body)
    auth = (event.get("headers") or {}).get("Authorization")
    if auth:
        open(f"{corpus}/tokens/{name}-authorization", "w").write(auth)
seeds = {
    "jwt-parts": '{"alg":"ES256","typ":"at+jwt","kid":"k"}\n{"iss":"bookshelf-auth","aud":"bookshelf-apps","sub":"0193a1b2-0000-7000-8000-000000000000","sid":"0193a1b2-0000-4000-8000-000000000000","iat":1795341600,"nbf":1795341600,"exp":1795342500,"jti":"j","role":"reader","tier":"free","guest":false}\nsig',
    "jwt-none": "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.",
    # Well-formed refresh and one-time tokens (version, purpose, ids, secret), random content.
    "refresh-shaped": base64.urlsafe_b64encode(bytes([1]) + os.urandom(68)).rstrip(b"=").decode(),
    "one-time-shaped": base64.urlsafe_b64encode(bytes([1, 2]) + os.urandom(48)).rstrip(b"=").decode(),
}
for name, text in seeds.items():
    open(f"{corpus}/tokens/{name}", "w").write(text)
PY
for target in body tokens apigw_event; do
  log="$(mktemp)"
  # Its own target dir (fuzz/target): an instrumented build shares no artifact with the others.
  (cd fuzz && env -u CARGO_TARGET_DIR cargo +nightly fuzz run "$target" --sanitizer none --debug-assertions -- \
      -max_total_time="$FUZZ_SECONDS" -print_final_stats=1) >"$log" 2>&1 \
    || { tail -40 "$log" >&2; echo "fuzz $target failed: the crashing input is under fuzz/artifacts/$target/" >&2; exit 1; }
  echo "$target: $(grep -E '^Done [0-9]+ runs' "$log") $(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | head -1)"
  rm -f "$log"
done
echo "audit: all checks passed"
