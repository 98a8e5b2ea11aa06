#!/usr/bin/env bash
# Runs `make test` the way a new machine would, to prove that the README's
# commands install everything the tests need: CI runs on a machine that may
# already have hermes, cometbft or a warm cargo cache, which can hide a missing
# install step; this cannot.
#
#   scripts/fresh-machine-check.sh [COMMIT]     (default: HEAD; uncommitted changes are not included)
#
# It clones the repository into a temporary directory and runs `make test` there
# with CI=true and
#   - a fresh HOME, CARGO_HOME, GOPATH/GOMODCACHE/GOCACHE, npm and pip caches
#     (all under the temporary directory), so every crate, Go module, npm and
#     PyPI package is fetched from its registry and every tool is built anew;
#   - the machine's registry settings (certificate bundles, proxies, and the
#     npm, git, pip, cargo and Go config files of HOME), as a new machine has them;
#   - a PATH holding only the system directories, the Go toolchain in
#     /usr/local/go, rustup's toolchain (rustup's own toolchain may stay) and
#     pyenv's Python, if the image has them: no hermes, cometbft or simd
#     installed earlier is visible (checked before the run).
# What it cannot take away: Debian packages already installed on this machine
# (setup installs them with apt-get when missing).
#
# Prints each phase's start time and the total wall time; the full output is in
# <tmp>/make-test.log. The directory is removed after a passing run unless
# KEEP=1; a failing run keeps it.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="$(git -C "$repo" rev-parse "${1:-HEAD}")"
# A fresh clone builds everything again (debug artifacts of the workspace, Hermes, simd, the Go
# and cargo caches): about 25 GiB. A run that fills the disk fails half an hour in, with an
# error about the disk rather than the project, so refuse at the start instead.
need_gib=30
free_gib=$(( $(df -Pk "${TMPDIR:-/tmp}" | awk 'NR==2 {print $4}') / 1048576 ))
if [ "$free_gib" -lt "$need_gib" ]; then
    echo "fresh-machine-check: error: ${free_gib} GiB free under ${TMPDIR:-/tmp}, need ${need_gib} -- free space (e.g. cargo clean in other checkouts) or set TMPDIR" >&2
    exit 1
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/paychain-fresh.XXXXXX")"
fresh="$work/fresh"
mkdir -p "$fresh/home"

say() { printf '[fresh-machine-check] %s\n' "$*"; }

say "cloning $repo at $commit into $work/paychain"
git clone --quiet --no-local "$repo" "$work/paychain"
git -C "$work/paychain" checkout --quiet --detach "$commit"

# rustup's toolchain (not ~/.cargo/bin, where cargo install puts hermes).
rust_bin="$(dirname "$(rustup which cargo)")"
path="$rust_bin"
[ -d /usr/local/go/bin ] && path="$path:/usr/local/go/bin"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
[ -d "$pyenv_root/shims" ] && path="$path:$pyenv_root/shims:$pyenv_root/bin"
path="$path:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

for tool in hermes cometbft simd; do
    if found="$(PATH="$path" command -v "$tool")"; then
        say "error: $tool is on the fresh PATH ($found); remove it from the system directories first" >&2
        exit 1
    fi
done

home="$fresh/home"
envs=(
    HOME="$home"
    PATH="$path"
    CI=true
    LANG="${LANG:-C.UTF-8}"
    TERM="${TERM:-dumb}"
    USER="${USER:-$(id -un)}"
    RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
    RUSTUP_TOOLCHAIN="$(basename "$(dirname "$rust_bin")")"
    CARGO_HOME="$home/.cargo"
    GOPATH="$home/go"
    GOMODCACHE="$home/go/pkg/mod"
    GOCACHE="$home/.cache/go-build"
    npm_config_cache="$home/.npm"
    PIP_CACHE_DIR="$home/.cache/pip"
)
[ -d "$pyenv_root" ] && envs+=(PYENV_ROOT="$pyenv_root")
# The machine's own settings for reaching the registries (certificate bundles,
# proxies, pip's and Go's options), which a new machine of this kind has too and
# CI's environment keeps: settings, never caches or installed tools.
while IFS='=' read -r name value; do
    envs+=("$name=$value")
done < <(env | grep -E '^(PIP_[A-Z_]+|GOFLAGS|GOPROXY|GOSUMDB|GONOSUMDB|GOPRIVATE|[A-Za-z_]*_CA_[A-Z_]*|[A-Z_]*CA_BUNDLE|[A-Z_]*CAINFO|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|[Hh][Tt][Tt][Pp][Ss]?_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy])=' || true)
# Likewise the clients' own config files in HOME (npm's and git's), not their caches.
for f in .npmrc .gitconfig .config/pip/pip.conf .pip/pip.conf .cargo/config.toml .config/go/env; do
    if [ -f "$HOME/$f" ]; then
        mkdir -p "$(dirname "$home/$f")"
        cp "$HOME/$f" "$home/$f"
    fi
done

log="$work/make-test.log"
say "running make test (log: $log)"
start=$(date +%s)
set +e
(
    cd "$work/paychain"
    env -i "${envs[@]}" make test </dev/null 2>&1
) | while IFS= read -r line; do
    printf -v now '%(%s)T' -1
    printf '[%5ds] %s\n' $((now - start)) "$line"
done >"$log"
rc=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - start))

say "phases (seconds since start):"
grep -E '^\[ *[0-9]+s\] (==> |cargo (fmt|clippy|test|build)|setup: error)|test result: FAILED|^\[ *[0-9]+s\] (ok|not ok|# (pass|fail))' "$log" |
    grep -vE 'test result: ok' | sed 's/^/    /' || true
say "make test exited $rc after ${elapsed}s ($((elapsed / 60)) min $((elapsed % 60)) s) at $commit"
if [ "$rc" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
    rm -rf "$work"
else
    say "kept $work"
fi
exit "$rc"
