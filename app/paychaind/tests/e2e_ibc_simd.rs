//! IBC between paychain and a real ibc-go v8 chain (`simd` of ibc-go v8.8.0's
//! simapp, Cosmos SDK v0.50), relayed by an unmodified Hermes 1.11, all on free
//! loopback ports:
//!
//! 1. a channel handshake started from each side (`hermes create channel
//!    --new-client-connection` with paychain, then simd, as chain A): channel-0
//!    and channel-1, OPEN on both chains;
//! 2. upay paychain → simd and stake simd → paychain, each with a memo that
//!    arrives intact, the voucher denom traces checked on both chains;
//! 3. the REST routes relayers and wallets read answer on our chain in
//!    ibc-go's paths and JSON shapes (compared with simd's own answers);
//! 4. vouchers sent back both ways (burned, escrow released);
//! 5. a transfer to an invalid receiver each way: the receiving chain writes
//!    an error acknowledgement, the sending chain parses it and refunds (ours
//!    must be exactly what ibc-go parses, whatever the error text holds);
//! 6. a packet each way that times out while Hermes is stopped, then `hermes
//!    clear packets`: both senders refunded (each chain verifies the other's
//!    absence proof: IAVL on simd, our Jellyfish Merkle tree on paychain);
//! 7. Hermes logged no error.
//!
//! Throughout: each chain's escrow of its own coins equals the voucher supply
//! on the other whenever nothing is in flight.
//!
//! Skipped (with a message) only when CometBFT, Hermes or simd is missing,
//! never under CI (`CI` set). Run it alone with
//! `cargo test -p paychaind --test e2e_ibc_simd -- --nocapture`.

mod common;
use common::hermes::{hermes_available, logged_errors, Hermes, HermesChain, Relayer, Transfer};
use common::ibc::{
    escrow_address, json_shape, rest_get, short, step, test_env, voucher_denom, wait_for, DevChain, GrpcChain, PORT,
};
use common::simd::{simd_available, SimdNode};
use common::{cometbft_available, free_ports};

use std::time::{Duration, Instant};

use paychain_framework::Address;
use serde_json::Value;
use tendermint_rpc::{Client as _, HttpClient};
use tokio::runtime::Runtime;

const PAY: &str = "paychain-x-1";
const SIMD: &str = "simd-1";
/// Hermes's signing key on both chains (a separate account on each).
const RELAYER_KEY: &str = "relayer";
/// The account that sends the test transfers on each chain (paychain's dev account; simd's validator).
const DEV_KEY: &str = "dev";
const RELAYER_FUNDS: u128 = 10_000_000_000;
const RELAY_TIMEOUT: Duration = Duration::from_secs(120);
const CMD_TIMEOUT: Duration = Duration::from_secs(120);
/// Opened by paychain (chain A of the first handshake) and by simd (chain A of the second).
const CH_FROM_PAY: &str = "channel-0";
const CH_FROM_SIMD: &str = "channel-1";
/// Memos with characters JSON must escape, and non-ASCII.
const MEMO_TO_SIMD: &str = r#"invoice 42: "paid" \ ✓ {"k":1}"#;
const MEMO_TO_PAY: &str = r#"ref "ABC-7" / £100 \n"#;

/// The events of the txs matching `query` on the CometBFT RPC at `port`: (kind, [(key, value)]).
fn tx_events(rt: &Runtime, port: u16, query: &str) -> Vec<(String, Vec<(String, String)>)> {
    let client = HttpClient::new(format!("http://127.0.0.1:{port}").as_str()).unwrap();
    let found = rt
        .block_on(client.tx_search(query.parse().unwrap(), false, 1, 100, tendermint_rpc::Order::Ascending))
        .unwrap_or_else(|e| panic!("tx_search {query:?} on port {port}: {e}"));
    found
        .txs
        .iter()
        .flat_map(|tx| tx.tx_result.events.iter())
        .map(|e| {
            let attrs = e
                .attributes
                .iter()
                .map(|a| (a.key_str().unwrap_or("").to_string(), a.value_str().unwrap_or("").to_string()))
                .collect();
            (e.kind.clone(), attrs)
        })
        .collect()
}

/// The value of attribute `key` of the first event `kind` among `events`.
fn attr<'a>(events: &'a [(String, Vec<(String, String)>)], kind: &str, key: &str) -> Option<&'a str> {
    events
        .iter()
        .filter(|(k, _)| k == kind)
        .flat_map(|(_, a)| a.iter())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The packet data (ICS-20 JSON) a chain received as sequence `seq` on `dst_channel`.
fn received_packet_data(rt: &Runtime, rpc_port: u16, dst_channel: &str, seq: u64) -> Value {
    let q = format!("recv_packet.packet_dst_channel='{dst_channel}' AND recv_packet.packet_sequence='{seq}'");
    let events = tx_events(rt, rpc_port, &q);
    let data = attr(&events, "recv_packet", "packet_data").unwrap_or_else(|| panic!("no recv_packet for {q}"));
    serde_json::from_str(data).unwrap_or_else(|e| panic!("packet_data is not JSON ({e}): {data}"))
}

/// The acknowledgement a chain wrote for sequence `seq` received on `dst_channel`, as bytes.
fn written_ack(rt: &Runtime, rpc_port: u16, dst_channel: &str, seq: u64) -> String {
    let q = format!(
        "write_acknowledgement.packet_dst_channel='{dst_channel}' AND write_acknowledgement.packet_sequence='{seq}'"
    );
    let events = tx_events(rt, rpc_port, &q);
    attr(&events, "write_acknowledgement", "packet_ack")
        .unwrap_or_else(|| panic!("no write_acknowledgement for {q}"))
        .into()
}

/// Checks an ICS-20 error acknowledgement the way ibc-go reads one: the JSON of
/// `ibc.core.channel.v1.Acknowledgement` with only its `error` field set.
fn assert_error_ack(who: &str, ack: &str) {
    let v: Value = serde_json::from_str(ack).unwrap_or_else(|e| panic!("{who}'s ack is not valid JSON ({e}): {ack}"));
    let obj = v.as_object().unwrap_or_else(|| panic!("{who}'s ack is not a JSON object: {ack}"));
    assert_eq!(obj.len(), 1, "{who}'s error ack must have exactly one field: {ack}");
    let text = obj.get("error").and_then(Value::as_str);
    assert!(text.is_some_and(|t| !t.is_empty()), "{who}'s ack must be {{\"error\": \"<text>\"}}: {ack}");
}

#[test]
fn paychain_and_ibc_go_simd_relayed_by_hermes() {
    let name = "paychain_and_ibc_go_simd_relayed_by_hermes";
    if !cometbft_available(name) || !hermes_available(name) || !simd_available(name) {
        return;
    }
    let t0 = Instant::now();
    let (_dir, root, rt) = test_env();
    let root = root.as_path();

    step("0", "a paychain dev chain, a simd chain, a funded relayer on each, the Hermes config and keys", t0);
    let mnemonic_file = |file: &str| {
        let path = root.join(file);
        std::fs::write(&path, paychain_client::keyring::generate_mnemonic().as_str()).unwrap();
        let phrase = std::fs::read_to_string(&path).unwrap();
        let secret =
            paychain_client::keyring::derive_private_key(phrase.trim(), paychain_client::keyring::DEFAULT_HD_PATH)
                .unwrap();
        (path, phrase, paychain_client::keyring::address_of(&secret))
    };
    let (relayer_mnemonic, _, relayer_addr) = mnemonic_file("relayer-mnemonic.txt");
    let (simd_dev_mnemonic, simd_dev_phrase, simd_dev) = mnemonic_file("simd-dev-mnemonic.txt");
    let cosmos = |a: &Address| a.to_bech32_with_prefix("cosmos");
    let (simd_dev, relayer_on_simd) = (cosmos(&simd_dev), cosmos(&relayer_addr));

    let pay = DevChain::start(&rt, root, PAY, free_ports());
    let simd = SimdNode::start(&rt, root, SIMD, simd_dev_phrase.trim(), &[&relayer_on_simd]);
    eprintln!(
        "   {PAY}: rpc {} grpc {} rest {}; {SIMD}: rpc {} grpc {} api {}",
        pay.ports.rpc, pay.ports.grpc, pay.ports.rest, simd.ports.rpc, simd.ports.grpc, simd.ports.api
    );
    pay.send_from_dev(&relayer_addr.to_string(), RELAYER_FUNDS);
    let diag = |relayer: Option<&Relayer>| {
        let mut s =
            format!("\n=== {PAY} log (tail) ===\n{}\n=== {SIMD} log (tail) ===\n{}", pay.log_tail(), simd.log_tail());
        if let Some(r) = relayer {
            s += &format!("\n=== hermes start log ({}, tail) ===\n{}", r.log_path().display(), r.log_tail(80));
        }
        s
    };
    let ctx = || diag(None);

    let hermes = Hermes::new(
        &root.join("hermes"),
        &[
            HermesChain::paychain(PAY, pay.ports.rpc, pay.ports.grpc, RELAYER_KEY),
            HermesChain::cosmos_sdk(SIMD, simd.ports.rpc, simd.ports.grpc, RELAYER_KEY, "cosmos", "0.01stake"),
        ],
    );
    hermes.add_key(PAY, RELAYER_KEY, &relayer_mnemonic);
    hermes.add_key(SIMD, RELAYER_KEY, &relayer_mnemonic);
    hermes.add_key(PAY, DEV_KEY, &pay.dev_mnemonic);
    hermes.add_key(SIMD, DEV_KEY, &simd_dev_mnemonic);

    // ICS-20 derivations, identical on both chains.
    let upay_on_simd = voucher_denom(PORT, CH_FROM_PAY, "upay");
    let stake_on_pay = voucher_denom(PORT, CH_FROM_PAY, "stake");
    let pay_escrow = escrow_address("pay", PORT, CH_FROM_PAY);
    let simd_escrow = escrow_address("cosmos", PORT, CH_FROM_PAY);
    let check_invariants = |when: &str| {
        for (ch, sender, escrow_prefix, base, receiver) in [
            (CH_FROM_PAY, &*pay as &GrpcChain, "pay", "upay", &*simd as &GrpcChain),
            (CH_FROM_SIMD, &*pay, "pay", "upay", &*simd),
            (CH_FROM_PAY, &*simd, "cosmos", "stake", &*pay),
            (CH_FROM_SIMD, &*simd, "cosmos", "stake", &*pay),
        ] {
            let escrowed = sender.balance(&rt, &escrow_address(escrow_prefix, PORT, ch), base);
            let vouchers = receiver.supply(&rt, &voucher_denom(PORT, ch, base));
            assert_eq!(
                escrowed,
                vouchers,
                "{when}: {base} escrowed on {} for {ch} ({escrowed}) != its vouchers on {} ({vouchers}){}",
                sender.id,
                receiver.id,
                ctx()
            );
        }
    };
    let transfer = |src: &str, dst: &str, channel: &str, receiver: &str, amount: u128, denom: &str, memo| {
        let timeout: &[&str] = &["--timeout-seconds", "300"];
        let t = Transfer { src, dst, channel, receiver, amount, denom, timeout, key: DEV_KEY, memo };
        hermes.ft_transfer(&t, &ctx)
    };

    // 1. Handshakes started from each side.
    step("1", "channel handshakes: paychain → simd (channel-0), then simd → paychain (channel-1)", t0);
    for (a, b) in [(PAY, SIMD), (SIMD, PAY)] {
        let created = hermes.run_ok(
            &["create", "channel", "--a-chain", a, "--b-chain", b, "--a-port", PORT, "--b-port", PORT]
                .into_iter()
                .chain(["--new-client-connection", "--yes"])
                .collect::<Vec<_>>(),
            Duration::from_secs(300),
            &ctx,
        );
        eprintln!("   {a} → {b}: {}", short(&created));
    }
    for chain in [&*pay as &GrpcChain, &*simd] {
        for ch in [CH_FROM_PAY, CH_FROM_SIMD] {
            chain.assert_open_transfer_channel(&rt, ch, ch, &ctx);
        }
    }
    check_invariants("after the handshakes");

    // 2. Transfers both ways with memos, relayed by `hermes start`.
    step("2", "1000upay paychain → simd and 5000stake simd → paychain, each with a memo", t0);
    let relayer = hermes.start("hermes-start.log");
    let rctx = || diag(Some(&relayer));
    transfer(PAY, SIMD, CH_FROM_PAY, &simd_dev, 1000, "upay", Some(MEMO_TO_SIMD));
    transfer(SIMD, PAY, CH_FROM_PAY, &pay.dev_addr, 5000, "stake", Some(MEMO_TO_PAY));
    wait_for("1000 upay vouchers on simd", RELAY_TIMEOUT, &rctx, || {
        relayer.assert_running();
        (simd.balance(&rt, &simd_dev, &upay_on_simd) == 1000).then_some(())
    });
    wait_for("5000 stake vouchers on paychain", RELAY_TIMEOUT, &rctx, || {
        relayer.assert_running();
        (pay.balance(&rt, &pay.dev_addr, &stake_on_pay) == 5000).then_some(())
    });
    wait_for("both acks relayed (nothing pending)", RELAY_TIMEOUT, &rctx, || {
        hermes.nothing_pending(PAY, CH_FROM_PAY, &rctx)
    });
    for (chain, voucher, base) in [(&*simd as &GrpcChain, &upay_on_simd, "upay"), (&*pay, &stake_on_pay, "stake")] {
        let trace =
            chain.denom_trace(&rt, voucher).unwrap_or_else(|e| panic!("{}: DenomTrace({voucher}): {e}", chain.id));
        assert_eq!(
            (trace.path.as_str(), trace.base_denom.as_str()),
            ("transfer/channel-0", base),
            "{}: the trace of {voucher}",
            chain.id
        );
    }
    let on_simd = received_packet_data(&rt, simd.ports.rpc, CH_FROM_PAY, 1);
    assert_eq!(on_simd["memo"], MEMO_TO_SIMD, "the memo simd received: {on_simd}");
    assert_eq!((on_simd["denom"].as_str(), on_simd["amount"].as_str()), (Some("upay"), Some("1000")), "{on_simd}");
    let on_pay = received_packet_data(&rt, pay.ports.rpc, CH_FROM_PAY, 1);
    assert_eq!(on_pay["memo"], MEMO_TO_PAY, "the memo paychain received: {on_pay}");
    assert_eq!(pay.balance(&rt, &pay_escrow, "upay"), 1000);
    assert_eq!(simd.balance(&rt, &simd_escrow, "stake"), 5000);
    check_invariants("after the first transfers");

    // 3. Our REST answers in ibc-go's paths and shapes (simd's answers are the reference).
    step("3", "REST: ibc-go's transfer routes answer alike on both chains", t0);
    let upay_hash = upay_on_simd.trim_start_matches("ibc/");
    let stake_hash = stake_on_pay.trim_start_matches("ibc/");
    for (what, pay_path, simd_path) in [
        ("params", "/ibc/apps/transfer/v1/params".to_string(), "/ibc/apps/transfer/v1/params".to_string()),
        (
            "denom trace by hash",
            format!("/ibc/apps/transfer/v1/denom_traces/{stake_hash}"),
            format!("/ibc/apps/transfer/v1/denom_traces/{upay_hash}"),
        ),
        ("denom traces", "/ibc/apps/transfer/v1/denom_traces".into(), "/ibc/apps/transfer/v1/denom_traces".into()),
        (
            "denom hash",
            "/ibc/apps/transfer/v1/denom_hashes/transfer/channel-0/stake".into(),
            "/ibc/apps/transfer/v1/denom_hashes/transfer/channel-0/upay".into(),
        ),
        (
            "escrow address",
            "/ibc/apps/transfer/v1/channels/channel-0/ports/transfer/escrow_address".into(),
            "/ibc/apps/transfer/v1/channels/channel-0/ports/transfer/escrow_address".into(),
        ),
        (
            "total escrow",
            "/ibc/apps/transfer/v1/denoms/upay/total_escrow".into(),
            "/ibc/apps/transfer/v1/denoms/stake/total_escrow".into(),
        ),
        (
            "voucher balance",
            format!("/cosmos/bank/v1beta1/balances/{}/by_denom?denom={stake_on_pay}", pay.dev_addr),
            format!("/cosmos/bank/v1beta1/balances/{simd_dev}/by_denom?denom={upay_on_simd}"),
        ),
    ] {
        let (ps, pv) = rest_get(pay.ports.rest, &pay_path);
        let (ss, sv) = rest_get(simd.ports.api, &simd_path);
        assert_eq!(
            (ps, ss),
            (200, 200),
            "{what}: paychain GET {pay_path} → {ps} {pv}; simd GET {simd_path} → {ss} {sv}"
        );
        assert_eq!(json_shape(&pv), json_shape(&sv), "{what}: paychain {pay_path} answers {pv}, simd {simd_path} {sv}");
        eprintln!("   {what}: {pv}");
        match what {
            "denom hash" => assert_eq!(pv["hash"], stake_hash, "{pv}"),
            "escrow address" => {
                let ours = Address::from_bech32_with_prefix(pv["escrow_address"].as_str().unwrap(), "pay").unwrap();
                let theirs =
                    Address::from_bech32_with_prefix(sv["escrow_address"].as_str().unwrap(), "cosmos").unwrap();
                assert_eq!(ours.as_bytes(), theirs.as_bytes(), "ICS-20 escrow addresses derive alike: {pv} {sv}");
            }
            "total escrow" => assert_eq!(pv["amount"]["amount"], "1000", "{pv}"),
            "denom trace by hash" => assert_eq!(pv["denom_trace"]["base_denom"], "stake", "{pv}"),
            _ => {}
        }
    }
    // ibc-go also accepts the full `ibc/<hash>` denom in the trace route.
    let (st, v) = rest_get(pay.ports.rest, &format!("/ibc/apps/transfer/v1/denom_traces/{stake_on_pay}"));
    assert_eq!((st, &v["denom_trace"]["path"]), (200, &Value::from("transfer/channel-0")), "{v}");

    // 4. Vouchers back.
    step("4", "400 upay vouchers simd → paychain, 2000 stake vouchers paychain → simd", t0);
    transfer(PAY, SIMD, CH_FROM_PAY, &simd_dev, 2000, &stake_on_pay, None);
    // After its own transfer's fee, paychain's dev account changes only by the 400 coming back.
    let pay_upay_before = pay.balance(&rt, &pay.dev_addr, "upay");
    transfer(SIMD, PAY, CH_FROM_PAY, &pay.dev_addr, 400, &upay_on_simd, None);
    wait_for("paychain's escrow down to 600 upay", RELAY_TIMEOUT, &rctx, || {
        relayer.assert_running();
        (pay.balance(&rt, &pay_escrow, "upay") == 600).then_some(())
    });
    wait_for("simd's escrow down to 3000 stake", RELAY_TIMEOUT, &rctx, || {
        relayer.assert_running();
        (simd.balance(&rt, &simd_escrow, "stake") == 3000).then_some(())
    });
    wait_for("their acks relayed (nothing pending)", RELAY_TIMEOUT, &rctx, || {
        hermes.nothing_pending(PAY, CH_FROM_PAY, &rctx)
    });
    assert_eq!(pay.balance(&rt, &pay.dev_addr, "upay"), pay_upay_before + 400, "400 upay back to paychain's dev");
    assert_eq!(simd.supply(&rt, &upay_on_simd), 600, "400 upay vouchers burned on simd");
    assert_eq!(pay.supply(&rt, &stake_on_pay), 3000, "2000 stake vouchers burned on paychain");
    check_invariants("after the vouchers went back");

    // 5. Invalid receivers: error acknowledgements, refunds.
    step("5", "a transfer to an invalid receiver each way over channel-1: error ack, sender refunded", t0);
    // Sent while Hermes is stopped, so each sender's fee is read before any refund arrives.
    relayer.stop();
    let bad_on_simd = "not-a-bech32-address";
    let bad_on_pay = r#"pay1 "not" a \valid/ receiver"#;
    let pay_before = pay.balance(&rt, &pay.dev_addr, "upay");
    let simd_before = simd.balance(&rt, &simd_dev, "stake");
    transfer(PAY, SIMD, CH_FROM_SIMD, bad_on_simd, 77, "upay", None);
    transfer(SIMD, PAY, CH_FROM_SIMD, bad_on_pay, 88, "stake", None);
    let pay_fee = pay_before - 77 - pay.balance(&rt, &pay.dev_addr, "upay");
    let simd_fee = simd_before - 88 - simd.balance(&rt, &simd_dev, "stake");
    let relayer = hermes.start("hermes-start.log");
    let rctx = || diag(Some(&relayer));
    wait_for("both refunds (error acks relayed back)", RELAY_TIMEOUT, &rctx, || {
        relayer.assert_running();
        let pay_now = pay.balance(&rt, &pay.dev_addr, "upay");
        let simd_now = simd.balance(&rt, &simd_dev, "stake");
        (pay_now == pay_before - pay_fee && simd_now == simd_before - simd_fee).then_some(())
    });
    wait_for("nothing pending on channel-1", RELAY_TIMEOUT, &rctx, || hermes.nothing_pending(PAY, CH_FROM_SIMD, &rctx));
    let simd_ack = written_ack(&rt, simd.ports.rpc, CH_FROM_SIMD, 1);
    assert_error_ack("simd", &simd_ack);
    let our_ack = written_ack(&rt, pay.ports.rpc, CH_FROM_SIMD, 1);
    assert_error_ack("paychain", &our_ack);
    eprintln!("   simd's error ack: {simd_ack}\n   our error ack: {our_ack}");
    assert_eq!(
        pay.supply(&rt, &voucher_denom(PORT, CH_FROM_SIMD, "stake")),
        0,
        "no voucher minted for the bad receiver"
    );
    assert_eq!(simd.supply(&rt, &voucher_denom(PORT, CH_FROM_SIMD, "upay")), 0, "no voucher minted on simd");
    check_invariants("after the error acks");

    // 6. Timeouts both ways while Hermes is stopped.
    step("6", "a packet each way times out with Hermes stopped, then hermes clear packets", t0);
    relayer.stop();
    let pay_before = pay.balance(&rt, &pay.dev_addr, "upay");
    let simd_before = simd.balance(&rt, &simd_dev, "stake");
    let (h_pay, h_simd) = (pay.height(&rt).unwrap(), simd.height(&rt).unwrap());
    let offset: &[&str] = &["--timeout-height-offset", "2"];
    let send = |src: &str, dst: &str, receiver: &str, amount: u128, denom: &str| {
        let t = Transfer {
            src,
            dst,
            channel: CH_FROM_PAY,
            receiver,
            amount,
            denom,
            timeout: offset,
            key: DEV_KEY,
            memo: None,
        };
        hermes.ft_transfer(&t, &ctx)
    };
    send(PAY, SIMD, &simd_dev, 50, "upay");
    send(SIMD, PAY, &pay.dev_addr, 60, "stake");
    let pay_fee = pay_before - 50 - pay.balance(&rt, &pay.dev_addr, "upay");
    let simd_fee = simd_before - 60 - simd.balance(&rt, &simd_dev, "stake");
    simd.wait_height(&rt, h_simd + 8, Duration::from_secs(60));
    pay.wait_height(&rt, h_pay + 8, Duration::from_secs(60));
    let cleared = hermes.run_ok(
        &["clear", "packets", "--chain", PAY, "--port", PORT, "--channel", CH_FROM_PAY],
        CMD_TIMEOUT,
        &ctx,
    );
    eprintln!("   clear packets: {}", short(&cleared));
    wait_for("both senders refunded (escrows back to 600 upay and 3000 stake)", RELAY_TIMEOUT, &ctx, || {
        let escrows = (pay.balance(&rt, &pay_escrow, "upay"), simd.balance(&rt, &simd_escrow, "stake"));
        (escrows == (600, 3000)).then_some(())
    });
    assert_eq!(pay.balance(&rt, &pay.dev_addr, "upay"), pay_before - pay_fee, "paychain's sender loses only the fee");
    assert_eq!(simd.balance(&rt, &simd_dev, "stake"), simd_before - simd_fee, "simd's sender loses only the fee");
    assert_eq!(simd.supply(&rt, &upay_on_simd), 600, "nothing received on simd");
    assert_eq!(pay.supply(&rt, &stake_on_pay), 3000, "nothing received on paychain");
    wait_for("nothing pending after the timeouts", RELAY_TIMEOUT, &ctx, || {
        hermes.nothing_pending(PAY, CH_FROM_PAY, &ctx)
    });
    check_invariants("after the timeouts");

    // 7. Hermes's own account of the run.
    step("7", "Hermes logged no error", t0);
    let errors = logged_errors(&hermes.dir, "hermes-start.log");
    assert!(errors.is_empty(), "Hermes logged {} error(s):\n{}{}", errors.len(), errors.join("\n"), ctx());
    eprintln!("[{:>6.1?}] == done", t0.elapsed());
}
