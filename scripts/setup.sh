#!/usr/bin/env bash
# Installs what building, testing and running paychain needs, from the package
# registries only (Debian, crates.io, the Go module proxy, npm, PyPI). Idempotent:
# each step checks first and does nothing when its tool is already right.
#
#   1. Debian packages: librocksdb-dev (RocksDB is linked from the system, see
#      .cargo/config.toml, instead of a 15-minute C++ build), libclang-dev
#      (bindgen, for the RocksDB bindings), a C compiler, pkg-config, and protoc
#      with the well-known types (Hermes's build compiles .proto files).
#   2. Go, if missing (to build CometBFT and simd).
#   3. CometBFT, pinned: `go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.26`
#      into ~/go/bin (or $GOBIN).
#   4. Hermes, the IBC relayer, pinned: `cargo install ibc-relayer-cli --locked
#      --version 1.11.0` (binary `hermes`, into ~/.cargo/bin). 1.11 is the newest
#      release that builds from crates.io alone: 1.12 and 1.13 depend on Penumbra
#      crates whose build scripts download proving keys from GitHub. Built
#      unoptimised (see build_hermes). HERMES_BACKGROUND=1 (set by `make test`)
#      builds it in the background, and `setup.sh --wait-hermes` waits for it
#      before the IBC tests; SKIP_HERMES=1 skips this step.
#   5. simd of ibc-go v8.8.0 (Cosmos SDK v0.50), the counterparty chain of the
#      interop test, built from the Go module proxy by tools/simd (a wrapper
#      module: `go install pkg@version` refuses ibc-go's replace line) into
#      .cache/bin/simd inside this checkout. SKIP_SIMD=1 skips this step.
#   6. The wallet test suites' libraries: tests/js (npm ci) and tests/py (a
#      virtualenv in .venv).
#
# Before installing anything, it checks that each registry a missing piece needs
# answers, and stops with one line naming it when one does not. A failing step
# prints one line (what failed, the error, what to do) and keeps the whole
# output in .cache/setup/<step>.log.
#
# Rust itself (cargo) must already be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

COMETBFT_VERSION="${COMETBFT_VERSION:-v0.38.26}"
HERMES_VERSION="${HERMES_VERSION:-1.11.0}"
HERMES_SERIES="${HERMES_VERSION%.*}" # 1.11: any patch release of it is accepted
LOG_DIR="$ROOT/.cache/setup"
BIN_DIR="$ROOT/.cache/bin"
export PATH="${GOBIN:-$HOME/go/bin}:/usr/local/go/bin:$HOME/.cargo/bin:$PATH"
mkdir -p "$LOG_DIR" "$BIN_DIR"

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'setup: error: %s\n' "$*" >&2
    exit 1
}

# The most telling line of a failed step's log: its first error line (cargo's
# "failed to run custom build command for ...", npm's "request to ... failed,
# reason: ...", go's "go: <module>: ..."), else its last line. Progress lines
# and pointers to other logs are not errors.
last_error() {
    local line
    line="$(grep -E '^(error|ERROR|E: |go: |npm (ERR!|error)|fatal|curl: )|[Ee]rror:|failed' "$1" |
        grep -vE '^go: (downloading|finding|extracting)|complete log of this run|npm error (code|errno) ' |
        head -n 1 || true)"
    [ -n "$line" ] || line="$(grep -v '^[[:space:]]*$' "$1" | tail -n 1 || true)"
    printf '%s' "${line:0:300}"
}

# run_step NAME FIX CMD...: runs CMD with its output in $LOG_DIR/NAME.log; on
# failure, one line: what failed, its last error, what to do, where the log is.
run_step() {
    local name="$1" fix="$2"
    shift 2
    local log="$LOG_DIR/$name.log"
    if ! "$@" >"$log" 2>&1; then
        die "$name failed: $(last_error "$log") -- $fix (full output: $log)"
    fi
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Hermes: built in the foreground, or in the background for `make test` ---

HERMES_PID="$LOG_DIR/hermes.pid"
HERMES_RC="$LOG_DIR/hermes.rc"
HERMES_FIX="run: cargo install ibc-relayer-cli --locked --version $HERMES_VERSION"

# An unmodified release, built without optimisation or debug info: the tests
# relay a few dozen packets, and this halves a build of 700 crates.
build_hermes() {
    CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_DEV_DEBUG_ASSERTIONS=false CARGO_PROFILE_DEV_OVERFLOW_CHECKS=false \
        cargo install --debug ibc-relayer-cli --locked --version "$HERMES_VERSION"
}

hermes_build_running() {
    [ -f "$HERMES_PID" ] && kill -0 "$(cat "$HERMES_PID")" 2>/dev/null
}

check_hermes() {
    local have
    have="$(hermes version 2>/dev/null | awk 'NR==1{print $2}' || true)"
    case "$have" in
    "$HERMES_SERIES".*) ;;
    *) die "hermes on PATH is ${have:-missing} ($(command -v hermes || echo 'not found')), expected $HERMES_SERIES.x -- put ~/.cargo/bin first on PATH" ;;
    esac
    say "hermes $have at $(command -v hermes)"
}

# `setup.sh --wait-hermes`: waits for a background build (if any) and checks its result.
if [ "${1:-}" = --wait-hermes ]; then
    if hermes_build_running; then
        say "waiting for the background hermes build (log: $LOG_DIR/hermes.log)"
        while hermes_build_running; do sleep 5; done
    fi
    if [ -f "$HERMES_RC" ]; then
        rc="$(cat "$HERMES_RC")"
        rm -f "$HERMES_RC" "$HERMES_PID"
        [ "$rc" = 0 ] || die "hermes failed: $(last_error "$LOG_DIR/hermes.log") -- $HERMES_FIX (full output: $LOG_DIR/hermes.log)"
    fi
    check_hermes
    exit 0
fi

# --- What is missing -------------------------------------------------------

missing_debs=()
for pkg in librocksdb-dev libclang-dev pkg-config protobuf-compiler libprotobuf-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing_debs+=("$pkg")
done
command -v cc >/dev/null 2>&1 || missing_debs+=(build-essential)
command -v go >/dev/null 2>&1 || missing_debs+=(golang-go git)
command -v curl >/dev/null 2>&1 || missing_debs+=(curl ca-certificates)

command -v cargo >/dev/null 2>&1 || die "cargo not found -- install Rust (rustup) first, then run this again"

want_cometbft="${COMETBFT_VERSION#v}"
need_cometbft=0
[ "$(cometbft version 2>/dev/null || true)" = "$want_cometbft" ] || need_cometbft=1

need_hermes=0
if [ "${SKIP_HERMES:-0}" != 1 ]; then
    case "$(hermes version 2>/dev/null | awk 'NR==1{print $2}' || true)" in
    "$HERMES_SERIES".*) ;;
    *) need_hermes=1 ;;
    esac
fi

# simd is rebuilt when tools/simd's pins change (the stamp holds their hash).
simd_stamp="$BIN_DIR/simd.stamp"
simd_pins="$(cat tools/simd/go.mod tools/simd/go.sum | sha256sum | cut -d' ' -f1)"
need_simd=0
if [ "${SKIP_SIMD:-0}" != 1 ]; then
    { [ -x "$BIN_DIR/simd" ] && [ "$(cat "$simd_stamp" 2>/dev/null)" = "$simd_pins" ]; } || need_simd=1
fi

need_npm=0
if [ -f tests/js/package.json ]; then
    { [ -d tests/js/node_modules ] && ! [ tests/js/package-lock.json -nt tests/js/node_modules ]; } || need_npm=1
fi
need_pip=0
if [ -f tests/py/requirements.txt ]; then
    { [ -x .venv/bin/python ] && ! [ tests/py/requirements.txt -nt .venv/pip.stamp ]; } || need_pip=1
fi

# --- Debian packages (apt-get update is also the Debian reachability check) ---

if [ "${#missing_debs[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing_debs[*]}"
    run_step apt-update "check that the Debian package mirror is reachable" as_root apt-get update -q
    run_step apt-install "install them by hand with apt-get install ${missing_debs[*]}" \
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing_debs[@]}"
else
    say "Debian packages present (librocksdb-dev, libclang-dev, pkg-config, protoc, cc, go, curl)"
fi

# --- Registry reachability, before any long build ---------------------------

# check_registry NAME URL: one HEAD/GET within 20 s (two retries), else stop.
check_registry() {
    if ! curl -fsSL -o /dev/null --retry 2 --max-time 20 "$2" 2>"$LOG_DIR/registry-$1.log"; then
        die "the $1 registry does not answer ($2: $(last_error "$LOG_DIR/registry-$1.log")) -- setup needs it; check the network or proxy settings and run this again"
    fi
}
# cargo builds the workspace (and Hermes) from crates.io whatever else is present.
check_registry crates.io "https://index.crates.io/config.json"
if [ $((need_cometbft + need_simd)) -gt 0 ]; then
    goproxy="$(go env GOPROXY | tr ',|' '\n\n' | grep -E '^https?://' | head -n 1 || true)"
    [ -n "$goproxy" ] || die "GOPROXY ($(go env GOPROXY)) names no proxy -- set GOPROXY=https://proxy.golang.org and run this again"
    check_registry go-proxy "${goproxy%/}/github.com/cometbft/cometbft/@v/${COMETBFT_VERSION}.info"
fi
# npm and pip are asked through their own clients, so that their own settings
# (certificate bundle, proxy, index) are what is checked.
check_with_client() {
    local name="$1"
    shift
    if ! timeout 60 "$@" >"$LOG_DIR/registry-$name.log" 2>&1; then
        die "the $name registry does not answer $* ($(last_error "$LOG_DIR/registry-$name.log")) -- setup needs it; check the network, proxy or certificate settings and run this again"
    fi
}
if [ "$need_npm" = 1 ]; then
    check_with_client npm npm view @cosmjs/stargate version
fi
if [ "$need_pip" = 1 ]; then
    check_with_client PyPI python3 -m pip download --no-deps --quiet --dest "$LOG_DIR/pip-check" pytest
fi

# --- CometBFT -----------------------------------------------------------------

if [ "$need_cometbft" = 1 ]; then
    say "installing cometbft $COMETBFT_VERSION with $(go version | awk '{print $3}') (about 2 minutes)"
    run_step cometbft "run: go install github.com/cometbft/cometbft/cmd/cometbft@${COMETBFT_VERSION}" \
        go install "github.com/cometbft/cometbft/cmd/cometbft@${COMETBFT_VERSION}"
    have="$(cometbft version 2>/dev/null || true)"
    [ "$have" = "$want_cometbft" ] ||
        die "cometbft on PATH is ${have:-missing} ($(command -v cometbft || echo 'not found')), expected $want_cometbft -- put ${GOBIN:-$HOME/go/bin} first on PATH"
fi
say "cometbft $want_cometbft at $(command -v cometbft)"

# --- Hermes -------------------------------------------------------------------

if [ "${SKIP_HERMES:-0}" = 1 ]; then
    say "skipping hermes (SKIP_HERMES=1)"
elif [ "$need_hermes" = 1 ] && hermes_build_running; then
    say "hermes $HERMES_VERSION is being built in the background (pid $(cat "$HERMES_PID"); log: $LOG_DIR/hermes.log)"
elif [ "$need_hermes" = 1 ] && [ "${HERMES_BACKGROUND:-0}" = 1 ]; then
    # `make test`: the build runs while the other tests do; `setup.sh --wait-hermes` waits for it.
    rm -f "$HERMES_RC"
    (
        set +e
        build_hermes >"$LOG_DIR/hermes.log" 2>&1
        echo $? >"$HERMES_RC"
    ) </dev/null >/dev/null 2>&1 &
    echo $! >"$HERMES_PID"
    say "building hermes $HERMES_VERSION in the background (pid $!; log: $LOG_DIR/hermes.log)"
elif [ "$need_hermes" = 1 ]; then
    say "installing hermes $HERMES_VERSION: cargo install ibc-relayer-cli (15-25 minutes on 2 cores; log: $LOG_DIR/hermes.log)"
    run_step hermes "$HERMES_FIX" build_hermes
    check_hermes
else
    say "hermes $(hermes version 2>/dev/null | awk 'NR==1{print $2}') at $(command -v hermes)"
fi

# --- simd (ibc-go v8 simapp) --------------------------------------------------

if [ "${SKIP_SIMD:-0}" = 1 ]; then
    say "skipping simd (SKIP_SIMD=1)"
elif [ "$need_simd" = 1 ]; then
    say "building simd (ibc-go $(awk '$1=="require" && $2 ~ /ibc-go/ {print $3}' tools/simd/go.mod)) into .cache/bin (about 5 minutes; log: $LOG_DIR/simd.log)"
    build_simd() {
        (cd tools/simd && go build -mod=readonly -o "$BIN_DIR/simd" github.com/cosmos/ibc-go/v8/testing/simapp/simd)
    }
    run_step simd "run: cd tools/simd && go build -o ../../.cache/bin/simd github.com/cosmos/ibc-go/v8/testing/simapp/simd" build_simd
    printf '%s\n' "$simd_pins" >"$simd_stamp"
    say "simd installed at $BIN_DIR/simd"
else
    say "simd at $BIN_DIR/simd"
fi

# --- Wallet test suites --------------------------------------------------------

if [ "$need_npm" = 1 ]; then
    say "installing JS test dependencies (tests/js)"
    run_step npm "run: npm ci --prefix tests/js" npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
    touch tests/js/node_modules
fi
if [ -f tests/js/package.json ]; then
    # JS encoders of our own .proto files (one per module: escrow, assets, fees,
    # authority, ...) for the CosmJS tests: every tests/js/gen/*.js that the gen
    # script writes (its `-o gen/<name>.js` arguments), regenerated all together
    # when one is missing or older than a .proto or than package.json (the script).
    gen_files="$(grep -oE -e '-o gen/[A-Za-z0-9_.-]+\.js' tests/js/package.json | sed 's|^-o |tests/js/|' | sort -u || true)"
    gen_stale=""
    [ -n "$gen_files" ] || gen_stale="the gen script's outputs"
    for gen in $gen_files; do
        if [ ! -f "$gen" ] || [ tests/js/package.json -nt "$gen" ] ||
            [ -n "$(find proto -name '*.proto' -newer "$gen" -print -quit)" ]; then
            gen_stale="$gen_stale${gen_stale:+ }$gen"
        fi
    done
    if [ -n "$gen_stale" ]; then
        say "generating the JS protobuf types from proto/ (npm run gen; missing or stale: $gen_stale)"
        run_step npm-gen "run: npm run --prefix tests/js gen" npm run --prefix tests/js --silent gen
    fi
fi
if [ "$need_pip" = 1 ]; then
    say "installing Python test dependencies into .venv (tests/py/requirements.txt)"
    make_venv() {
        [ -x .venv/bin/python ] || python3 -m venv .venv
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt
    }
    run_step pip "run: python3 -m venv .venv && .venv/bin/pip install -r tests/py/requirements.txt" make_venv
    touch .venv/pip.stamp
fi
say "setup complete"
