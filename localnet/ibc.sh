#!/usr/bin/env bash
# Two single-validator paychain chains on loopback, an IBC transfer channel
# between them, and an unmodified Hermes relaying; see localnet/README.md.
#   localnet/ibc.sh start      chains (created the first time), relayer keys,
#                              the transfer channel (if none yet), then Hermes
#   localnet/ibc.sh chains     only create / start the two chains
#   localnet/ibc.sh channel    create the transfer channel (new client + connection)
#   localnet/ibc.sh relay      start Hermes in the background (pid + log below)
#   localnet/ibc.sh status     heights, Hermes pid, channels
#   localnet/ibc.sh stop       stop Hermes and both chains (state is kept)
#   localnet/ibc.sh wipe       stop everything and delete the data
#   localnet/ibc.sh hermes ... any hermes command with this config, e.g.
#                              localnet/ibc.sh hermes query channels --chain paychain-a-1
# Data: localnet/.ibc-data (or $PAYCHAIN_IBC_DIR): chain-a/, chain-b/ (each a
# `paychaind localnet` dir), keys/ (relayer keyring + mnemonic), hermes/
# (config.toml, key store, hermes.log, hermes.pid).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="${GOBIN:-$HOME/go/bin}:$HOME/.cargo/bin:$PATH"
data="${PAYCHAIN_IBC_DIR:-$root/localnet/.ibc-data}"

CHAIN_A="${CHAIN_A:-paychain-a-1}"
CHAIN_B="${CHAIN_B:-paychain-b-1}"
PORT_A="${PORT_A:-27100}"   # node0 of chain A: RPC +0, gRPC +3 (see localnet/README.md)
PORT_B="${PORT_B:-27200}"
RELAYER_KEY=relayer
RELAYER_FUNDS=100000000000upay

keys_dir="$data/keys"
hermes_dir="$data/hermes"
hermes_config="$hermes_dir/config.toml"
hermes_pid="$hermes_dir/hermes.pid"
hermes_log="$hermes_dir/hermes.log"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

bin="${PAYCHAIND:-}"
if [ -z "$bin" ]; then
    # A no-op when the release binary is up to date; rebuilds it after a pull.
    (cd "$root" && cargo build --release -q -p paychaind)
    bin="$root/target/release/paychaind"
fi

need_hermes() {
    command -v hermes >/dev/null 2>&1 || die "hermes is not installed (run scripts/setup.sh)"
    case "$(hermes version 2>/dev/null | awk 'NR==1{print $2}')" in
    1.11.*) ;;
    *) die "hermes 1.11.x expected, found $(hermes version 2>/dev/null | head -1)" ;;
    esac
}

hermes_cmd() { hermes --config "$hermes_config" "$@"; }

# The relayer key (same mnemonic on both chains), created once.
relayer_address() {
    if [ ! -f "$keys_dir/relayer-mnemonic.txt" ]; then
        mkdir -p "$keys_dir"
        local out
        out="$("$bin" keys add "$RELAYER_KEY" --home "$keys_dir" --keyring-backend test -o json)"
        printf '%s\n' "$(jq -r .mnemonic <<<"$out")" >"$keys_dir/relayer-mnemonic.txt"
        chmod 600 "$keys_dir/relayer-mnemonic.txt"
    fi
    "$bin" keys show "$RELAYER_KEY" --home "$keys_dir" --keyring-backend test -a
}

chain_dir() { echo "$data/chain-$1"; }

start_chains() {
    local addr
    addr="$(relayer_address)"
    for c in a b; do
        local id port
        if [ "$c" = a ]; then id=$CHAIN_A port=$PORT_A; else id=$CHAIN_B port=$PORT_B; fi
        say "chain $id (RPC 127.0.0.1:$port, gRPC 127.0.0.1:$((port + 3)))"
        # `start` creates the localnet the first time (the init flags are ignored afterwards).
        "$bin" localnet --dir "$(chain_dir $c)" start -n 1 --chain-id "$id" --base-port "$port" \
            --genesis-account "$addr=$RELAYER_FUNDS"
    done
}

# Waits until both chains have committed block 2 (Hermes needs a queryable height).
wait_chains() {
    for port in "$PORT_A" "$PORT_B"; do
        local h=0
        for _ in $(seq 300); do
            h="$("$bin" status --node "http://127.0.0.1:$port" -o json 2>/dev/null | jq -r '.latest_block_height // 0' || echo 0)"
            [ "${h:-0}" -ge 2 ] 2>/dev/null && break
            sleep 0.2
        done
        [ "${h:-0}" -ge 2 ] 2>/dev/null || die "the chain on 127.0.0.1:$port has no block 2 after 60 s"
    done
}

write_config() {
    mkdir -p "$hermes_dir"
    "$bin" ibc hermes-config --out "$hermes_config" --key-store "$hermes_dir/keys" \
        --chain "id=$CHAIN_A,rpc=127.0.0.1:$PORT_A,grpc=127.0.0.1:$((PORT_A + 3)),key=$RELAYER_KEY" \
        --chain "id=$CHAIN_B,rpc=127.0.0.1:$PORT_B,grpc=127.0.0.1:$((PORT_B + 3)),key=$RELAYER_KEY"
    hermes_cmd config validate >/dev/null || die "hermes rejects $hermes_config"
}

add_keys() {
    relayer_address >/dev/null
    for id in "$CHAIN_A" "$CHAIN_B"; do
        hermes_cmd keys add --chain "$id" --key-name "$RELAYER_KEY" \
            --mnemonic-file "$keys_dir/relayer-mnemonic.txt" --overwrite >/dev/null
    done
    say "relayer key $RELAYER_KEY ($(relayer_address)) added to Hermes for $CHAIN_A and $CHAIN_B"
}

setup_hermes() {
    need_hermes
    write_config
    add_keys
}

has_channel() {
    hermes_cmd --json query channels --chain "$CHAIN_A" 2>/dev/null | jq -e 'select(.status == "success") | .result | length > 0' >/dev/null
}

create_channel() {
    if has_channel; then
        say "a channel already exists on $CHAIN_A:"
        hermes_cmd query channels --chain "$CHAIN_A" --show-counterparty || true
        return
    fi
    say "creating clients, a connection and a transfer channel $CHAIN_A <-> $CHAIN_B"
    hermes_cmd create channel --a-chain "$CHAIN_A" --b-chain "$CHAIN_B" \
        --a-port transfer --b-port transfer --new-client-connection --yes
}

relayer_running() {
    [ -f "$hermes_pid" ] && kill -0 "$(cat "$hermes_pid")" 2>/dev/null
}

start_relayer() {
    if relayer_running; then
        say "hermes already running (pid $(cat "$hermes_pid")), log $hermes_log"
        return
    fi
    nohup hermes --config "$hermes_config" start >>"$hermes_log" 2>&1 </dev/null &
    echo $! >"$hermes_pid"
    sleep 2
    relayer_running || { tail -n 30 "$hermes_log" >&2; die "hermes exited at once (log $hermes_log)"; }
    say "hermes relaying (pid $(cat "$hermes_pid")), log $hermes_log"
}

stop_relayer() {
    if relayer_running; then
        local pid
        pid="$(cat "$hermes_pid")"
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        say "hermes stopped"
    fi
    rm -f "$hermes_pid"
}

stop_chains() {
    for c in a b; do
        [ -d "$(chain_dir $c)" ] && "$bin" localnet --dir "$(chain_dir $c)" stop || true
    done
}

status() {
    for c in a b; do
        [ -d "$(chain_dir $c)" ] && "$bin" localnet --dir "$(chain_dir $c)" status || echo "chain-$c: not created"
    done
    if relayer_running; then echo "hermes: running (pid $(cat "$hermes_pid")), log $hermes_log"; else echo "hermes: stopped"; fi
    if [ -f "$hermes_config" ] && command -v hermes >/dev/null 2>&1; then
        hermes_cmd query channels --chain "$CHAIN_A" --show-counterparty 2>/dev/null || true
    fi
}

cmd="${1:-start}"
[ $# -gt 0 ] && shift
case "$cmd" in
start)
    need_hermes
    start_chains
    wait_chains
    setup_hermes
    create_channel
    start_relayer
    ;;
chains)
    start_chains
    wait_chains
    ;;
channel)
    wait_chains
    setup_hermes
    create_channel
    ;;
relay)
    need_hermes
    [ -f "$hermes_config" ] || setup_hermes
    start_relayer
    ;;
status) status ;;
stop)
    stop_relayer
    stop_chains
    ;;
wipe)
    stop_relayer
    for c in a b; do
        [ -d "$(chain_dir $c)" ] && "$bin" localnet --dir "$(chain_dir $c)" wipe || true
    done
    rm -rf "$data"
    say "deleted $data"
    ;;
hermes)
    need_hermes
    hermes_cmd "$@"
    ;;
*)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac
