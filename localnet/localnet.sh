#!/usr/bin/env bash
# N validators of one chain on loopback; see localnet/README.md.
#   localnet/localnet.sh start [-n 4]      create (first time) and start every node
#   localnet/localnet.sh status            height, app hash and peers per node
#   localnet/localnet.sh stop [node2]      stop all nodes, or one
#   localnet/localnet.sh start node2       start one node again
#   localnet/localnet.sh kill node2        SIGKILL one node (a crash drill)
#   localnet/localnet.sh add-node          a full node that joins by state sync
#   localnet/localnet.sh wipe              stop everything and delete the data
# Everything after the script name goes to `paychaind localnet`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="${GOBIN:-$HOME/go/bin}:$HOME/.cargo/bin:$PATH"
bin="${PAYCHAIND:-}"
if [ -z "$bin" ]; then
    # A no-op when the release binary is up to date; rebuilds it after a pull.
    (cd "$root" && cargo build --release -q -p paychaind)
    bin="$root/target/release/paychaind"
fi
exec "$bin" localnet --dir "${PAYCHAIN_LOCALNET_DIR:-$root/localnet/.data}" "$@"
