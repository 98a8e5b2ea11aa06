//! IBC end to end with an unmodified Hermes 1.11 between two `paychaind dev`
//! chains (paychain-a-1 and paychain-b-1) on free loopback ports. Both serve their
//! clients (Hermes, the CLI, CosmJS) through the node's RPC front with CometBFT's own
//! indexer off, so every packet Hermes finds, it finds in the nodes' own index
//! (`tx_search`, and `block_search` for any it does not find there):
//!
//! 1. `hermes create channel --new-client-connection`: clients, connection and
//!    transfer channel-0 on both chains, OPEN on both (Hermes and our gRPC).
//! 2. ICS-20 A→B (upay escrowed on A, voucher ibc/<sha256(transfer/channel-0/upay)> minted on B),
//! 3. the voucher back B→A (burned on B, released from escrow on A),
//! 4. a packet that times out while no relayer runs, then `hermes clear
//!    packets` sends MsgTimeout: the sender is refunded, nothing arrives on B,
//! 5. three transfers while Hermes is stopped, all delivered once it restarts,
//! 6. a MsgTransfer signed by real CosmJS (tests/js/ibc_transfer.mjs),
//!    6b. a token issued on A (assets module: freezing, ibc) goes to B; its voucher
//!    sent back to an account frozen on A is refused by A with an error
//!    acknowledgement and refunded on B; once unfrozen, the same transfer arrives,
//!    and upay coming home to an account on A's global compliance deny list is
//!    refused the same way (arriving once the policy is detached),
//!    6d. a travel-rule record rides in the packet memo (`--travel-rule`): required by A
//!    above its threshold, accepted by B from the memo, and B refuses (error ack, refund)
//!    a transfer without one above its own threshold; A's corridor limit on channel-0
//!    counts what left net of the refund and refuses past it,
//! 7. Hermes logged no error.
//!
//! Throughout: the upay supply of A never changes, and the voucher supply on B
//! equals the escrow on A whenever no packet is in flight.
//!
//! Skipped (with a message) only when CometBFT or Hermes is not installed,
//! never under CI (`CI` set). Run it alone with
//! `cargo test -p paychaind --test e2e_ibc -- --nocapture` to see the progress.

mod common;
use common::hermes::{hermes_available, logged_errors, Hermes, HermesChain, Relayer, Transfer};
use common::ibc::{escrow_address, short, step, test_env, voucher_denom, wait_for, DevChain, PORT};
use common::{cometbft_available, free_ports};

use std::path::Path;
use std::time::{Duration, Instant};

use prost::Message as _;
use serde_json::Value;
use tokio::runtime::Runtime;

const CHAIN_A: &str = "paychain-a-1";
const CHAIN_B: &str = "paychain-b-1";
const CHANNEL: &str = "channel-0";
/// Hermes's signing key on both chains (relays; a separate account, so the
/// dev accounts' balances move only by their own transfers and fees).
const RELAYER_KEY: &str = "relayer";
/// The dev key in Hermes, used only by `tx ft-transfer --key-name dev`.
const DEV_KEY: &str = "dev";
const RELAYER_FUNDS: u128 = 10_000_000_000;
/// How long relaying one step may take.
const RELAY_TIMEOUT: Duration = Duration::from_secs(120);
const CMD_TIMEOUT: Duration = Duration::from_secs(120);

/// Everything a failure message needs: both node logs and the relayer's.
fn diag(a: &DevChain, b: &DevChain, relayer: Option<&Relayer>) -> String {
    let mut s =
        format!("\n=== {} log (tail) ===\n{}\n=== {} log (tail) ===\n{}", a.id, a.log_tail(), b.id, b.log_tail());
    if let Some(r) = relayer {
        s += &format!("\n=== hermes start log ({}, tail) ===\n{}", r.log_path().display(), r.log_tail(80));
    }
    s
}

/// `hermes tx ft-transfer` of `amount denom` from `src` to `receiver` on `dst` over channel-0, signed by the dev key.
#[allow(clippy::too_many_arguments)]
fn ft_transfer(
    hermes: &Hermes,
    src: &str,
    dst: &str,
    receiver: &str,
    amount: u128,
    denom: &str,
    timeout: &[&str],
    context: &dyn Fn() -> String,
) -> Value {
    let t = Transfer { src, dst, channel: CHANNEL, receiver, amount, denom, timeout, key: DEV_KEY, memo: None };
    hermes.ft_transfer(&t, context)
}

#[test]
fn ibc_transfers_relayed_by_hermes() {
    if !cometbft_available("ibc_transfers_relayed_by_hermes") || !hermes_available("ibc_transfers_relayed_by_hermes") {
        return;
    }
    let t0 = Instant::now();
    let (_dir, root, rt) = test_env();
    let root = root.as_path();

    step("0", "two dev chains, a funded relayer account on each, the Hermes config and keys", t0);
    let (ports_a, ports_b) = (free_ports(), free_ports());
    // Both nodes serve their clients through the RPC front with CometBFT's indexer off (`dev`'s
    // default, as `init`'s): Hermes finds packets with tx_search and block_search there.
    let a = DevChain::start(&rt, root, CHAIN_A, ports_a);
    let b = DevChain::start(&rt, root, CHAIN_B, ports_b);
    eprintln!(
        "   {CHAIN_A}: rpc front {} (CometBFT {}) grpc {}; {CHAIN_B}: rpc front {} (CometBFT {}) grpc {}",
        a.ports.rpc, a.ports.cometbft_rpc, a.ports.grpc, b.ports.rpc, b.ports.cometbft_rpc, b.ports.grpc
    );
    let ctx = || diag(&a, &b, None);

    let relayer_mnemonic = root.join("relayer-mnemonic.txt");
    std::fs::write(&relayer_mnemonic, paychain_client::keyring::generate_mnemonic().as_str()).unwrap();
    let relayer_secret = paychain_client::keyring::derive_private_key(
        std::fs::read_to_string(&relayer_mnemonic).unwrap().trim(),
        paychain_client::keyring::DEFAULT_HD_PATH,
    )
    .unwrap();
    let relayer_addr = paychain_client::keyring::address_of(&relayer_secret).to_string();
    a.send_from_dev(&relayer_addr, RELAYER_FUNDS);
    b.send_from_dev(&relayer_addr, RELAYER_FUNDS);

    let hermes = Hermes::new(
        &root.join("hermes"),
        &[
            HermesChain::paychain(CHAIN_A, a.ports.rpc, a.ports.grpc, RELAYER_KEY),
            HermesChain::paychain(CHAIN_B, b.ports.rpc, b.ports.grpc, RELAYER_KEY),
        ],
    );
    eprintln!("   hermes config: {}", hermes.config.display());
    for c in [&a, &b] {
        hermes.add_key(c.id, RELAYER_KEY, &relayer_mnemonic);
        hermes.add_key(c.id, DEV_KEY, &c.dev_mnemonic);
    }

    let voucher = voucher_denom(PORT, CHANNEL, "upay");
    let escrow = escrow_address("pay", PORT, CHANNEL);
    let supply_a0 = a.supply(&rt, "upay");
    eprintln!("   voucher denom on {CHAIN_B}: {voucher}; escrow on {CHAIN_A}: {escrow}; upay supply on A: {supply_a0}");

    // Invariants whenever no packet is in flight.
    let check_invariants = |when: &str| {
        let supply_a = a.supply(&rt, "upay");
        assert_eq!(supply_a, supply_a0, "{when}: the upay supply of {CHAIN_A} changed{}", ctx());
        let (vs, esc) = (b.supply(&rt, &voucher), a.balance(&rt, &escrow, "upay"));
        assert_eq!(vs, esc, "{when}: voucher supply on {CHAIN_B} ({vs}) != escrow on {CHAIN_A} ({esc}){}", ctx());
    };
    let no_pending = |relayer: Option<&Relayer>| hermes.nothing_pending(CHAIN_A, CHANNEL, &|| diag(&a, &b, relayer));

    // 1. Clients, connection and channel.
    step("1", "hermes create channel --new-client-connection", t0);
    let created = hermes.run_ok(
        &[
            "create",
            "channel",
            "--a-chain",
            CHAIN_A,
            "--b-chain",
            CHAIN_B,
            "--a-port",
            PORT,
            "--b-port",
            PORT,
            "--new-client-connection",
            "--yes",
        ],
        Duration::from_secs(300),
        &ctx,
    );
    eprintln!("   created: {created}");
    for c in [&a, &b] {
        let end = hermes.run_ok(
            &["query", "channel", "end", "--chain", c.id, "--port", PORT, "--channel", CHANNEL],
            CMD_TIMEOUT,
            &ctx,
        );
        assert_eq!(end["state"], "Open", "{}: hermes query channel end: {end}{}", c.id, ctx());
        c.assert_open_transfer_channel(&rt, CHANNEL, CHANNEL, &ctx);
    }
    check_invariants("after the handshake");

    // 2. A→B 1000upay with the relayer running.
    step("2", "transfer 1000upay A→B, relayed by hermes start", t0);
    let relayer = hermes.start("hermes-start.log");
    let rctx = |r: &Relayer| diag(&a, &b, Some(r));
    ft_transfer(&hermes, CHAIN_A, CHAIN_B, &b.dev_addr, 1000, "upay", &["--timeout-seconds", "120"], &|| {
        rctx(&relayer)
    });
    wait_for(&format!("1000 {voucher} for {} on {CHAIN_B}", b.dev_addr), RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        (b.balance(&rt, &b.dev_addr, &voucher) == 1000).then_some(())
    });
    assert_eq!(a.balance(&rt, &escrow, "upay"), 1000, "escrow on {CHAIN_A}{}", rctx(&relayer));
    wait_for("the ack relayed back (nothing pending)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        no_pending(Some(&relayer))
    });
    assert_eq!(b.supply(&rt, &voucher), 1000, "voucher supply on {CHAIN_B}{}", rctx(&relayer));
    check_invariants("after A→B");

    // 2b. What Hermes relayed, replayed and tampered with by hand: refused by B, nothing changes.
    step("2b", "a replayed MsgRecvPacket, a forged one and one at a wrong proof height", t0);
    let b_dev_secret = paychain_client::keyring::derive_private_key(
        std::fs::read_to_string(&b.dev_mnemonic).unwrap().trim(),
        paychain_client::keyring::DEFAULT_HD_PATH,
    )
    .unwrap();
    refuse_tampered_recv_packets(&rt, &b, &b_dev_secret, &voucher, &|| rctx(&relayer));
    check_invariants("after the refused replays");

    // 3. 400 of the voucher back B→A.
    step("3", "transfer 400 of the voucher back B→A", t0);
    let a_upay_before = a.balance(&rt, &a.dev_addr, "upay");
    ft_transfer(&hermes, CHAIN_B, CHAIN_A, &a.dev_addr, 400, &voucher, &["--timeout-seconds", "120"], &|| {
        rctx(&relayer)
    });
    wait_for("escrow on A down to 600", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        (a.balance(&rt, &escrow, "upay") == 600).then_some(())
    });
    assert_eq!(a.balance(&rt, &a.dev_addr, "upay"), a_upay_before + 400, "A's dev account gets the 400upay back");
    assert_eq!(b.balance(&rt, &b.dev_addr, &voucher), 600, "voucher balance on {CHAIN_B}{}", rctx(&relayer));
    assert_eq!(b.supply(&rt, &voucher), 600, "voucher supply on {CHAIN_B} (400 burned){}", rctx(&relayer));
    wait_for("the ack relayed back (nothing pending)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        no_pending(Some(&relayer))
    });
    check_invariants("after B→A");

    // 4. A packet that times out while no relayer runs; `hermes clear packets` times it out on A.
    step("4", "a transfer that times out (relayer stopped), then hermes clear packets → MsgTimeout", t0);
    relayer.stop();
    let before = a.balance(&rt, &a.dev_addr, "upay");
    let voucher_b_before = b.balance(&rt, &b.dev_addr, &voucher);
    let h_b = b.height(&rt).unwrap();
    ft_transfer(&hermes, CHAIN_A, CHAIN_B, &b.dev_addr, 50, "upay", &["--timeout-height-offset", "2"], &ctx);
    wait_for("50 more in escrow on A while the packet is in flight", CMD_TIMEOUT, &ctx, || {
        (a.balance(&rt, &escrow, "upay") == 650).then_some(())
    });
    let after_send = a.balance(&rt, &a.dev_addr, "upay");
    assert!(after_send < before - 50, "the send must cost 50upay plus a fee: {before} → {after_send}");
    let fee = before - 50 - after_send;
    // Past the timeout height on B (2 blocks after the send, plus margin).
    b.wait_height(&rt, h_b + 6, Duration::from_secs(60));
    let res = hermes.run_ok(
        &["clear", "packets", "--chain", CHAIN_A, "--port", PORT, "--channel", CHANNEL],
        CMD_TIMEOUT,
        &ctx,
    );
    eprintln!("   clear packets: {}", short(&res));
    wait_for("the refund on A (escrow back to 600)", RELAY_TIMEOUT, &ctx, || {
        (a.balance(&rt, &escrow, "upay") == 600).then_some(())
    });
    assert_eq!(
        a.balance(&rt, &a.dev_addr, "upay"),
        before - fee,
        "refunded: only the fee ({fee}upay) is lost{}",
        ctx()
    );
    assert_eq!(b.balance(&rt, &b.dev_addr, &voucher), voucher_b_before, "nothing received on {CHAIN_B}{}", ctx());
    wait_for("nothing pending after the timeout", RELAY_TIMEOUT, &ctx, || no_pending(None));
    check_invariants("after the timeout");

    // 5. Three transfers while Hermes is stopped; a restarted Hermes clears them.
    step("5", "three transfers with Hermes stopped, then hermes start clears them", t0);
    for amount in [10u128, 20, 30] {
        ft_transfer(&hermes, CHAIN_A, CHAIN_B, &b.dev_addr, amount, "upay", &["--timeout-seconds", "600"], &ctx);
    }
    wait_for("60 more in escrow on A", CMD_TIMEOUT, &ctx, || (a.balance(&rt, &escrow, "upay") == 660).then_some(()));
    assert_eq!(b.balance(&rt, &b.dev_addr, &voucher), 600, "nothing relayed while Hermes is stopped");
    let relayer = hermes.start("hermes-start.log");
    let rctx = |r: &Relayer| diag(&a, &b, Some(r));
    wait_for("the three pending packets received on B (voucher 660)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        (b.balance(&rt, &b.dev_addr, &voucher) == 660).then_some(())
    });
    wait_for("their acks relayed back (nothing pending)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        no_pending(Some(&relayer))
    });
    check_invariants("after the restart");

    // 6. A MsgTransfer signed and broadcast by CosmJS.
    step("6", "a MsgTransfer from CosmJS (tests/js/ibc_transfer.mjs)", t0);
    let js_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/js");
    let have_node = std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have_node || !js_dir.join("node_modules/@cosmjs/stargate").is_dir() {
        let msg = "node or tests/js/node_modules is missing (run `make setup`)";
        if std::env::var_os("CI").is_some() {
            panic!("{msg}: the CosmJS IBC transfer must run in CI");
        }
        eprintln!("SKIPPED step 6: {msg}");
    } else {
        let out = std::process::Command::new("node")
            .current_dir(&js_dir)
            .arg("ibc_transfer.mjs")
            .args(["--rpc", &format!("http://127.0.0.1:{}", a.ports.rpc)])
            .arg("--mnemonic-file")
            .arg(&a.dev_mnemonic)
            .args(["--channel", CHANNEL, "--receiver", &b.dev_addr, "--denom", "upay", "--amount", "7"])
            .args(["--gas-price", "0.025upay"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "node ibc_transfer.mjs: {}\nstdout: {stdout}\nstderr: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            rctx(&relayer)
        );
        let v: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("node ibc_transfer.mjs printed no JSON ({e}): {stdout}"));
        assert_eq!(v["code"], 0, "{v}");
        eprintln!("   cosmjs: {v}");
        wait_for("the CosmJS transfer received on B (voucher 667)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
            relayer.assert_running();
            (b.balance(&rt, &b.dev_addr, &voucher) == 667).then_some(())
        });
        wait_for("its ack relayed back (nothing pending)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
            no_pending(Some(&relayer))
        });
        check_invariants("after the CosmJS transfer");
    }

    // 6b. An issued token under its issuer's rules, relayed both ways.
    step("6b", "an issued token A→B, then back to a frozen account on A: error ack, refund on B", t0);
    let freezer = a.add_key("freezer");
    let holder = a.add_key("holder");
    a.send_from_dev(&freezer, 1_000_000);
    let issued = a.cli_tx(&[
        "assets",
        "issue",
        "dev",
        "usdx",
        "USDX",
        "X Dollar",
        "--features",
        "freezing,ibc",
        "--freezer",
        &freezer,
        "--initial-supply",
        "1000000",
    ]);
    let usdx = issued["denom"].as_str().unwrap_or_else(|| panic!("no denom in {issued}")).to_string();
    let usdx_voucher = voucher_denom(PORT, CHANNEL, &usdx);
    ft_transfer(&hermes, CHAIN_A, CHAIN_B, &b.dev_addr, 500, &usdx, &["--timeout-seconds", "120"], &|| rctx(&relayer));
    wait_for(&format!("500 {usdx_voucher} on {CHAIN_B}"), RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        (b.balance(&rt, &b.dev_addr, &usdx_voucher) == 500).then_some(())
    });
    wait_for("its ack relayed back (nothing pending)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        no_pending(Some(&relayer))
    });
    assert_eq!(a.balance(&rt, &escrow, &usdx), 500, "escrow of {usdx} on {CHAIN_A}{}", rctx(&relayer));
    a.cli_tx(&["assets", "freeze-account", "freezer", &usdx, &holder, "--reason", "court_order"]);
    // Home to the frozen holder: A refuses the packet with an error acknowledgement and B,
    // on the ack, gives the 200 back to its sender.
    ft_transfer(&hermes, CHAIN_B, CHAIN_A, &holder, 200, &usdx_voucher, &["--timeout-seconds", "120"], &|| {
        rctx(&relayer)
    });
    wait_for("the error ack relayed and the voucher refunded on B", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        let refunded = b.balance(&rt, &b.dev_addr, &usdx_voucher) == 500;
        (refunded && no_pending(Some(&relayer)).is_some()).then_some(())
    });
    assert_eq!(a.balance(&rt, &holder, &usdx), 0, "the frozen holder received nothing{}", rctx(&relayer));
    assert_eq!(a.balance(&rt, &escrow, &usdx), 500, "A's escrow unchanged{}", rctx(&relayer));
    assert_eq!(b.supply(&rt, &usdx_voucher), 500, "B's voucher supply back to 500{}", rctx(&relayer));
    // Unfrozen, the same transfer arrives.
    a.cli_tx(&["assets", "unfreeze-account", "freezer", &usdx, &holder, "--reason", "case_closed"]);
    ft_transfer(&hermes, CHAIN_B, CHAIN_A, &holder, 200, &usdx_voucher, &["--timeout-seconds", "120"], &|| {
        rctx(&relayer)
    });
    wait_for("200 for the unfrozen holder on A", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        (a.balance(&rt, &holder, &usdx) == 200).then_some(())
    });
    assert_eq!(a.balance(&rt, &escrow, &usdx), 300, "A's escrow after the return{}", rctx(&relayer));
    wait_for("nothing pending", RELAY_TIMEOUT, &|| rctx(&relayer), || no_pending(Some(&relayer)));

    // 6c. A compliance policy on A refuses an inbound transfer: error ack, refund on B.
    step("6c", "A's global deny list refuses upay coming home to a listed account: error ack, refund on B", t0);
    let blocked = a.add_key("blocked");
    let created = a.cli_tx(&[
        "compliance",
        "create-policy",
        "dev",
        "screened-out",
        "--deny-list",
        "--members",
        &blocked,
        "--reason",
        "sanctions_screening",
    ]);
    let policy = created["policy_id"].as_str().unwrap_or_else(|| panic!("no policy_id in {created}")).to_string();
    a.cli_tx(&["compliance", "attach-policy", "dev", &policy, "--global", "--reason", "sanctions_screening"]);
    let b_before = b.balance(&rt, &b.dev_addr, &voucher);
    let escrow_before = a.balance(&rt, &escrow, "upay");
    ft_transfer(&hermes, CHAIN_B, CHAIN_A, &blocked, 30, &voucher, &["--timeout-seconds", "120"], &|| rctx(&relayer));
    wait_for("the error ack relayed and the voucher refunded on B", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        let refunded = b.balance(&rt, &b.dev_addr, &voucher) == b_before;
        (refunded && no_pending(Some(&relayer)).is_some()).then_some(())
    });
    assert_eq!(a.balance(&rt, &blocked, "upay"), 0, "the listed account received nothing{}", rctx(&relayer));
    assert_eq!(a.balance(&rt, &escrow, "upay"), escrow_before, "A's escrow unchanged{}", rctx(&relayer));
    check_invariants("after the refused inbound transfer");
    // Detached, the same transfer arrives.
    a.cli_tx(&["compliance", "attach-policy", "dev", "0", "--global", "--reason", "screening_cleared"]);
    ft_transfer(&hermes, CHAIN_B, CHAIN_A, &blocked, 30, &voucher, &["--timeout-seconds", "120"], &|| rctx(&relayer));
    wait_for("30upay for the cleared account on A", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        (a.balance(&rt, &blocked, "upay") == 30).then_some(())
    });
    wait_for("nothing pending", RELAY_TIMEOUT, &|| rctx(&relayer), || no_pending(Some(&relayer)));
    check_invariants("after the cleared inbound transfer");

    // 6d. Payment controls across the channel: A asks a travel-rule record above 1000upay and
    // caps what leaves through channel-0 at 3000upay net per day; B asks a record above 100 of
    // the voucher. The record rides in the packet memo (`--travel-rule` fills it).
    step("6d", "the travel rule in the packet memo, and a corridor limit on channel-0", t0);
    let payload = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ivms101.json");
    let payload = payload.to_str().unwrap();
    let why = ["--reason", "fatf_r16"];
    a.cli_tx(&[&["compliance", "set-travel-rule-threshold", "dev", "upay", "--threshold", "1000"][..], &why].concat());
    b.cli_tx(&[&["compliance", "set-travel-rule-threshold", "dev", &voucher, "--threshold", "100"][..], &why].concat());
    let corridor = ["compliance", "set-corridor-limit", "dev", CHANNEL, "upay", "--limit", "3000", "--window", "86400"];
    a.cli_tx(&[&corridor[..], &["--reason", "corridor_policy"]].concat());
    let transfer = |amount: &'static str, record: bool| {
        let mut args = vec!["ibc-transfer", "transfer", "dev", CHANNEL, b.dev_addr.as_str(), amount];
        if record {
            args.extend(["--travel-rule", payload]);
        }
        args
    };
    let (escrow0, voucher0) = (a.balance(&rt, &escrow, "upay"), b.balance(&rt, &b.dev_addr, &voucher));
    // Above A's threshold without a record: refused on A, nothing leaves.
    let refused = a.cli_tx_refused(&transfer("1500upay", false), "compliance", 31);
    assert!(refused["raw_log"].as_str().unwrap_or_default().contains("memo"), "{refused}");
    assert_eq!(a.balance(&rt, &escrow, "upay"), escrow0, "nothing escrowed{}", rctx(&relayer));
    // With one: it leaves, and B, which asks a record too, accepts it from the memo.
    let sent = a.cli_tx(&transfer("1500upay", true));
    assert!(sent.to_string().contains("compliance_travel_rule"), "the record's event on A: {sent}");
    wait_for("1500 of the voucher on B, admitted with the memo's record", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        (b.balance(&rt, &b.dev_addr, &voucher) == voucher0 + 1500).then_some(())
    });
    wait_for("its ack relayed back (nothing pending)", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        no_pending(Some(&relayer))
    });
    // Under A's threshold but above B's, without a record: B refuses, A refunds.
    a.cli_tx(&transfer("500upay", false));
    wait_for("B's error ack relayed and the 500upay refunded on A", RELAY_TIMEOUT, &|| rctx(&relayer), || {
        relayer.assert_running();
        let back = a.balance(&rt, &escrow, "upay") == escrow0 + 1500;
        (back && no_pending(Some(&relayer)).is_some()).then_some(())
    });
    assert_eq!(b.balance(&rt, &b.dev_addr, &voucher), voucher0 + 1500, "B admitted nothing more{}", rctx(&relayer));
    check_invariants("after the travel-rule transfers");
    // The corridor counted 2000 out and the refund's 500 in: 1500 net, 1500 left.
    let out = a.cli_query(&["compliance", "corridor", CHANNEL, "upay"]);
    assert_eq!((out["sent"].as_str(), out["received"].as_str()), (Some("2000"), Some("500")), "{out}");
    assert_eq!(out["remaining"].as_str(), Some("1500"), "{out}");
    let over = a.cli_tx_refused(&transfer("1600upay", true), "compliance", 29);
    assert!(over["raw_log"].as_str().unwrap_or_default().contains("1500upay remaining"), "{over}");
    assert_eq!(a.balance(&rt, &escrow, "upay"), escrow0 + 1500, "nothing escrowed past the limit{}", rctx(&relayer));

    relayer.stop();

    step("7", "Hermes logged no error", t0);
    let errors = logged_errors(&hermes.dir, "hermes-start.log");
    assert!(errors.is_empty(), "Hermes logged {} error(s):\n{}{}", errors.len(), errors.join("\n"), ctx());
    eprintln!("[{:>6.1?}] == done", t0.elapsed());
}

/// Takes the MsgRecvPacket Hermes delivered to `b` (packet 1) and submits, signed by
/// `submitter` (another account than Hermes's, whose account sequence Hermes
/// tracks), (1) the same message again: a no-op success, as in ibc-go; (2) the same proof
/// for a packet with other data and (3) another packet with a proof height beyond the latest
/// height B's client of A knows: each must fail in DeliverTx with an IBC error. None may
/// change the voucher supply.
fn refuse_tampered_recv_packets(
    rt: &Runtime,
    b: &DevChain,
    submitter: &secp256k1::SecretKey,
    voucher: &str,
    context: &dyn Fn() -> String,
) {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{TxBody, TxRaw};
    use ibc_proto::ibc::core::channel::v1::MsgRecvPacket;
    use paychain_client::{prepare_tx, rpc::NodeClient, FeeChoice, TxOptions};
    use tendermint_rpc::Client as _;

    let client = NodeClient::new(&format!("http://127.0.0.1:{}", b.ports.rpc)).unwrap();
    let supply_before = b.supply(rt, voucher);
    let original: MsgRecvPacket = rt.block_on(async {
        let query = "recv_packet.packet_sequence='1'".parse().unwrap();
        let found = client
            .http()
            .tx_search(query, false, 1, 10, tendermint_rpc::Order::Ascending)
            .await
            .unwrap_or_else(|e| panic!("tx_search recv_packet on {}: {e}{}", b.id, context()));
        let tx = found.txs.first().unwrap_or_else(|| panic!("no recv_packet tx on {}{}", b.id, context()));
        let raw = TxRaw::decode(tx.tx.as_slice()).unwrap();
        let body = TxBody::decode(raw.body_bytes.as_slice()).unwrap();
        let any = body
            .messages
            .iter()
            .find(|m| m.type_url == "/ibc.core.channel.v1.MsgRecvPacket")
            .unwrap_or_else(|| panic!("no MsgRecvPacket in Hermes's tx: {:?}", body.messages));
        MsgRecvPacket::decode(any.value.as_slice()).unwrap()
    });
    let mut original = original;
    original.signer = paychain_client::keyring::address_of(submitter).to_string();
    let packet = original.packet.clone().unwrap();

    let mut forged = original.clone();
    let mut forged_packet = packet.clone();
    forged_packet.data =
        String::from_utf8(packet.data.clone()).unwrap().replace("\"1000\"", "\"1000000\"").into_bytes();
    assert_ne!(forged_packet.data, packet.data, "the forged packet must differ");
    forged_packet.sequence = 99;
    forged.packet = Some(forged_packet);

    // Another packet (one B never received), at a proof height B's client of A does not have.
    let mut wrong_height = forged.clone();
    wrong_height.packet.as_mut().unwrap().sequence = 100;
    let h = wrong_height.proof_height.as_mut().unwrap();
    h.revision_height += 1_000_000;

    for (what, msg, expect) in [
        ("the same MsgRecvPacket again", original, None),
        ("a packet with other data and the first one's proof", forged, Some("verif")),
        ("a proof height beyond what the client of A has", wrong_height, Some("proof height")),
    ] {
        let any =
            cosmos_sdk_proto::Any { type_url: "/ibc.core.channel.v1.MsgRecvPacket".into(), value: msg.encode_to_vec() };
        let opts = TxOptions {
            gas: paychain_client::Gas::Fixed(400_000),
            fee: FeeChoice::GasPrices("0.025upay".into()),
            ..Default::default()
        };
        let res = rt.block_on(async {
            let tx = prepare_tx(&client, submitter, vec![any], &opts).await.unwrap();
            let sent = client.broadcast_sync(tx.bytes.clone()).await.unwrap();
            assert_eq!(sent.code, 0, "{what}: CheckTx runs only the ante handler: {sent:?}");
            let hash: [u8; 32] = hex::decode(&tx.hash).unwrap().try_into().unwrap();
            client.wait_for_tx(hash, Duration::from_secs(30)).await.unwrap()
        });
        let Some(expect) = expect else {
            // As ibc-go: a packet already received is a no-op success (result NOOP), so that
            // relayers racing for it waste no fees; nothing is written or emitted.
            use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
            use ibc_proto::ibc::core::channel::v1::{MsgRecvPacketResponse, ResponseResultType};
            assert_eq!(res.tx_result.code.value(), 0, "{what}: a no-op: {:?}{}", res.tx_result, context());
            let data = paychain_client::rpc::exec_data_bytes(res.tx_result.data.as_ref());
            let data = TxMsgData::decode(data.as_slice()).unwrap();
            let resp = MsgRecvPacketResponse::decode(data.msg_responses[0].value.as_slice()).unwrap();
            assert_eq!(resp.result, ResponseResultType::Noop as i32, "{what}: {resp:?}");
            assert!(
                !res.tx_result.events.iter().any(|e| e.kind == "recv_packet" || e.kind == "write_acknowledgement"),
                "{what}: a no-op emits no packet events: {:?}",
                res.tx_result.events
            );
            eprintln!("   {what}: a no-op (result NOOP), as in ibc-go");
            assert_eq!(b.supply(rt, voucher), supply_before, "{what} changed the voucher supply{}", context());
            continue;
        };
        let log = &res.tx_result.log;
        assert_ne!(res.tx_result.code.value(), 0, "{what}: must fail in DeliverTx{}", context());
        assert!(
            log.to_lowercase().contains(expect),
            "{what}: the error should mention {expect:?}: code {} {log}",
            res.tx_result.code.value()
        );
        eprintln!("   refused {what}: {log}");
        assert_eq!(b.supply(rt, voucher), supply_before, "{what} changed the voucher supply{}", context());
    }
}
