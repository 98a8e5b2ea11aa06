#!/usr/bin/env bash
# Installs what building, testing and running paychain needs. Idempotent:
# each step checks first and does nothing when its tool is already right.
#
#   1. Debian packages: librocksdb-dev (RocksDB is linked from the system, see
#      .cargo/config.toml, instead of a 15-minute C++ build) and libclang-dev
#      (bindgen, for the RocksDB bindings), plus a C compiler and pkg-config.
#   2. Go, if missing (to build CometBFT).
#   3. CometBFT, pinned: `go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.26`
#      into ~/go/bin (or $GOBIN).
#   4. Hermes, the IBC relayer, pinned: `cargo install ibc-relayer-cli --locked
#      --version 1.13.2` (binary `hermes`, into ~/.cargo/bin), with protoc
#      (Debian protobuf-compiler, libprotobuf-dev) for its build. A first build takes several
#      minutes; SKIP_HERMES=1 skips this step.
#
# Rust itself (cargo) must already be installed.
set -euo pipefail

COMETBFT_VERSION="${COMETBFT_VERSION:-v0.38.26}"
HERMES_VERSION="${HERMES_VERSION:-1.13.2}"
export PATH="${GOBIN:-$HOME/go/bin}:/usr/local/go/bin:$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -q
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# 1. System packages.
missing=()
for pkg in librocksdb-dev libclang-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    apt_install "${missing[@]}"
else
    say "system packages present (librocksdb-dev, libclang-dev, pkg-config, cc)"
fi

command -v cargo >/dev/null 2>&1 || {
    echo "error: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
}

# 2 + 3. CometBFT at the pinned version.
want="${COMETBFT_VERSION#v}"
have="$(cometbft version 2>/dev/null || true)"
if [ "$have" = "$want" ]; then
    say "cometbft $have present ($(command -v cometbft))"
else
    if ! command -v go >/dev/null 2>&1; then
        say "installing Go (to build CometBFT)"
        apt_install golang-go ca-certificates git
    fi
    say "installing cometbft $COMETBFT_VERSION with $(go version) (had: ${have:-none})"
    go install "github.com/cometbft/cometbft/cmd/cometbft@${COMETBFT_VERSION}"
    have="$(cometbft version)"
    if [ "$have" != "$want" ]; then
        echo "error: cometbft on PATH is $have ($(command -v cometbft)), expected $want" >&2
        exit 1
    fi
    say "cometbft $have installed at $(command -v cometbft)"
fi

# 4. Hermes (the IBC relayer the IBC end-to-end test and localnet/ibc.sh drive),
#    any 1.13.x; installs $HERMES_VERSION when missing or another version.
if [ "${SKIP_HERMES:-0}" = 1 ]; then
    say "skipping hermes (SKIP_HERMES=1)"
else
    have="$(hermes version 2>/dev/null | awk 'NR==1{print $2}' || true)"
    case "$have" in
    1.13.*)
        say "hermes $have present ($(command -v hermes))"
        ;;
    *)
        # Hermes's build compiles protobuf files (namada_tx): protoc and the
        # well-known types (google/protobuf/timestamp.proto, from libprotobuf-dev).
        if ! command -v protoc >/dev/null 2>&1 || ! dpkg -s libprotobuf-dev >/dev/null 2>&1; then
            say "installing protobuf-compiler and libprotobuf-dev (to build hermes)"
            apt_install protobuf-compiler libprotobuf-dev
        fi
        say "installing hermes $HERMES_VERSION with cargo install ibc-relayer-cli (had: ${have:-none}; takes a few minutes)"
        cargo install ibc-relayer-cli --locked --version "$HERMES_VERSION"
        have="$(hermes version 2>/dev/null | awk 'NR==1{print $2}' || true)"
        case "$have" in
        1.13.*) say "hermes $have installed at $(command -v hermes)" ;;
        *)
            echo "error: hermes on PATH is ${have:-missing} ($(command -v hermes || echo 'not found')), expected 1.13.x" >&2
            exit 1
            ;;
        esac
        ;;
    esac
fi

# 5. Client libraries the wallet tests drive (real CosmJS, real cosmpy), if the
#    suites are present. Pinned by tests/js/package-lock.json and tests/py/requirements.txt.
if [ -f tests/js/package.json ]; then
    if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
        say "installing JS test dependencies (tests/js)"
        npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
        touch tests/js/node_modules
    fi
    # JS encoders of our own .proto files (paychain.escrow.v1) for the CosmJS
    # escrow test: tests/js/gen/escrow.js, regenerated when a .proto is newer.
    gen=tests/js/gen/escrow.js
    if [ ! -f "$gen" ] || [ -n "$(find proto -name '*.proto' -newer "$gen" -print -quit)" ]; then
        say "generating $gen from proto/ (npm run gen)"
        npm run --prefix tests/js --silent gen
    fi
fi
if [ -f tests/py/requirements.txt ]; then
    if ! python3 -m pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt; then
        echo "error: could not install tests/py/requirements.txt" >&2
        exit 1
    fi
fi
