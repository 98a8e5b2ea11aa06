# paychain: two commands on a fresh machine.
#   make run    set up, build, and start a single-validator dev chain (Ctrl-C stops it)
#   make test   set up, then formatting, lints and every test (what CI runs)

SHELL := /bin/bash
# Where `go install` puts cometbft, so a fresh shell finds it without sourcing Go's profile.
export PATH := $(HOME)/go/bin:/usr/local/go/bin:$(HOME)/.cargo/bin:$(PATH)

CARGO ?= cargo
# Extra flags for `paychaind dev`, e.g. make run DEV_ARGS="--home /tmp/pc --rpc-port 36657"
DEV_ARGS ?=

.PHONY: setup deps build run test fmt fmt-check lint unit fast ibc clients e2e localnet localnet-status localnet-stop localnet-wipe ibc-localnet ibc-localnet-stop

## setup: system packages + pinned CometBFT + release build of paychaind
setup: deps build

## deps: system packages, pinned CometBFT, Hermes and simd, test libraries (idempotent; scripts/setup.sh)
deps:
	@scripts/setup.sh

build:
	$(CARGO) build --release -p paychaind

## run: the dev chain (home ~/.paychain-dev; reused on the next run). Hermes and simd are
## only needed by the IBC tests (and Hermes by ibc-localnet), so `make run` builds neither.
run: export SKIP_HERMES ?= 1
run: export SKIP_SIMD ?= 1
run: setup
	target/release/paychaind dev $(DEV_ARGS)

## test: what .ci/run calls. Tests use debug builds, so the release build is skipped.
## A missing Hermes builds in the background meanwhile; the IBC tests, last, wait for it.
test: export HERMES_BACKGROUND ?= 1
test: deps fmt-check lint unit clients ibc

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all --check

## lint: clippy, the fuzz target compiles, and no import cycles between the files of any crate (scripts/check-cycles.py)
lint:
	scripts/check-cycles.py --self-test
	scripts/check-cycles.py
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@# The fuzz target (tx decoding + ante) is outside the workspace (cargo-fuzz builds it with
	@# nightly); checking it here keeps it compiling, and --locked keeps its lockfile current.
	$(CARGO) check --locked --manifest-path fuzz/Cargo.toml

## unit: every Rust test but the two relayed by Hermes (`make ibc`)
HERMES_TESTS := relayed_by_hermes
unit:
	$(CARGO) test --workspace -- --skip $(HERMES_TESTS)

## fast: the tests that start no server (every crate's unit and in-process tests; no CometBFT,
## Hermes or simd): what to run while developing. The end-to-end tests are app/paychaind/tests/e2e_*.rs.
fast:
	$(CARGO) test --workspace --exclude paychaind
	$(CARGO) test -p paychaind --lib --bins

## ibc: the Rust tests relayed by a real Hermes (paychain <-> paychain, paychain <-> ibc-go simd).
## --workspace (not -p paychaind) and `test --no-run` in `clients`: the same feature set as `unit`,
## so neither rebuilds what `unit` built (with -p, cargo resolves features anew: minutes of rebuild).
ibc:
	@scripts/setup.sh --wait-hermes
	$(CARGO) test --workspace --test e2e_ibc --test e2e_ibc_simd -- $(HERMES_TESTS)

## clients: real wallet libraries (CosmJS, cosmpy) against dev chains the tests start themselves;
## `npm run gen` first writes tests/js/gen/*.js, the generated types (pbjs) of the modules' proto/ files
clients:
	$(CARGO) test --workspace --no-run
	@if [ -d tests/js ]; then cd tests/js && npm run --silent gen && PAYCHAIND_BIN=$(CURDIR)/target/debug/paychaind node --test; fi
	@if [ -d tests/py ]; then PAYCHAIND_BIN=$(CURDIR)/target/debug/paychaind .venv/bin/python -m pytest -q tests/py; fi

## e2e: only the end-to-end test against real CometBFT
e2e: export SKIP_HERMES ?= 1
e2e: export SKIP_SIMD ?= 1
e2e: deps
	$(CARGO) test -p paychaind --test e2e_cli -- --nocapture

## localnet: 4 validators on loopback (see localnet/README.md)
localnet: export SKIP_HERMES ?= 1
localnet: export SKIP_SIMD ?= 1
localnet: setup
	localnet/localnet.sh start

localnet-status:
	localnet/localnet.sh status

localnet-stop:
	localnet/localnet.sh stop

localnet-wipe:
	localnet/localnet.sh wipe

## ibc-localnet: two chains, a transfer channel and Hermes relaying (see localnet/README.md)
ibc-localnet: export SKIP_SIMD ?= 1
ibc-localnet: setup
	localnet/ibc.sh start

ibc-localnet-stop:
	localnet/ibc.sh stop
