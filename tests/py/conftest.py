"""Shared helpers for the Python wallet tests: a real single-validator dev
chain (`paychaind dev` driving CometBFT) on free loopback ports.

The binary comes from $PAYCHAIND_BIN (default: target/debug/paychaind in the
repository). Each test module that asks for `dev_chain` gets its own chain in
a temporary home, killed at the end (or on failure).
"""

import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIN_GAS_PRICE = "0.025upay"
DENOM = "upay"


def paychaind_bin() -> str:
    path = os.environ.get("PAYCHAIND_BIN") or str(REPO / "target" / "debug" / "paychaind")
    if not Path(path).exists():
        pytest.fail(f"paychaind binary not found at {path} (build it, or set PAYCHAIND_BIN)")
    return path


def free_ports(n: int):
    """n distinct free loopback ports below the kernel's ephemeral range (an
    outgoing connection on the host may take a port inside it at any time)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            high = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        high = 32768
    ports = []
    while len(ports) < n:
        port = random.randrange(10000, high)
        if port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    return ports


class DevChain:
    """A running `paychaind dev`: ports, chain id and the funded dev mnemonic."""

    def __init__(self, home: Path):
        self.home = home
        (self.rpc_port, self.cometbft_rpc_port, self.p2p_port, self.abci_port, self.grpc_port,
         self.rest_port) = free_ports(6)
        self.log_path = home.parent / "paychaind-dev.log"
        self.proc = None
        self.chain_id = ""
        self.mnemonic = ""

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def grpc_url(self) -> str:
        return f"grpc+http://127.0.0.1:{self.grpc_port}"

    @property
    def rest_url(self) -> str:
        return f"rest+http://127.0.0.1:{self.rest_port}"

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAYCHAIN_")}
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                paychaind_bin(), "dev", "--home", str(self.home),
                # The node's RPC front (what wallets use), CometBFT's own RPC behind it.
                "--rpc-port", str(self.rpc_port), "--cometbft-rpc-port", str(self.cometbft_rpc_port),
                "--p2p-port", str(self.p2p_port),
                "--abci-port", str(self.abci_port), "--grpc-port", str(self.grpc_port),
                "--rest-port", str(self.rest_port),
                "--timeout-commit", "300ms", "--minimum-gas-prices", MIN_GAS_PRICE,
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
        log.close()
        # CometBFT reports a block as soon as it is stored, before the app has
        # committed it; at 2, block 1 (genesis state) is surely committed.
        status = self.wait_for_height(2, timeout=120)
        self.chain_id = status["node_info"]["network"]
        self.mnemonic = (self.home / "dev-mnemonic.txt").read_text().strip()
        return self

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def status(self):
        with urllib.request.urlopen(f"{self.rpc_url}/status", timeout=3) as r:
            return json.load(r)["result"]

    def height(self) -> int:
        return int(self.status()["sync_info"]["latest_block_height"])

    def wait_for_height(self, h: int, timeout: float = 60):
        deadline = time.time() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"paychaind dev exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                st = self.status()
                if int(st["sync_info"]["latest_block_height"]) >= h:
                    return st
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if time.time() > deadline:
                raise TimeoutError(f"chain did not reach height {h} in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.3)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)


@pytest.fixture(scope="module")
def dev_chain(tmp_path_factory):
    chain = DevChain(tmp_path_factory.mktemp("paychain") / "home")
    try:
        chain.start()
        yield chain
    finally:
        chain.stop()


def ledger_client(dev_chain, url):
    """A cosmpy LedgerClient for the dev chain at `url` (rest+http:// or grpc+http://)."""
    from cosmpy.aerial.client import LedgerClient, NetworkConfig

    return LedgerClient(NetworkConfig(
        chain_id=dev_chain.chain_id,
        url=url,
        fee_minimum_gas_price=float(MIN_GAS_PRICE.removesuffix(DENOM)),
        fee_denomination=DENOM,
        staking_denomination=DENOM,
    ))
