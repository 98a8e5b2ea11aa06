//! Velocity and corridor limits over the in-memory state, wired as the app wires
//! them: who may set them; what counts (sends, multi-send outputs, escrow, IBC
//! out; not fees, mints or what comes in); the window's buckets at block time;
//! credential tiers; corridors net of what comes in; refusals that move nothing;
//! genesis; and a randomized walk checked against a model of the window.

use paychain_bank::{Input, Output, Route};
use paychain_framework::time::{encode_block_time, BLOCK_TIME_KEY, BLOCK_TIME_STORE};
use paychain_framework::Coins;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

fn carol() -> Address {
    addr(12)
}

fn chain() -> Chain {
    chain_with(json!({}), &[authority(), alice(), bob(), carol()])
}

fn coins(s: &str) -> Coins {
    s.parse().unwrap()
}

/// 240 s: buckets of 10 s.
const WINDOW: u64 = 240;

fn tier(t: &str, limit: &str) -> pb::VelocityTier {
    pb::VelocityTier { issuer: kyc().to_string(), r#type: t.into(), limit: limit.into() }
}

fn set_velocity(signer: &Address, denom: &str, limit: &str, tiers: Vec<pb::VelocityTier>) -> Any {
    any(&pb::MsgSetVelocityLimit {
        signer: signer.to_string(),
        limit: Some(pb::VelocityLimit {
            denom: denom.into(),
            window_seconds: WINDOW,
            limit: limit.into(),
            tiers,
            ..Default::default()
        }),
        remove: false,
        reason: "velocity_policy".into(),
        reference: "risk committee 2026-12".into(),
    })
}

fn set_corridor(signer: &Address, channel: &str, limit: &str) -> Any {
    any(&pb::MsgSetCorridorLimit {
        signer: signer.to_string(),
        limit: Some(pb::CorridorLimit {
            channel_id: channel.into(),
            denom: "upay".into(),
            window_seconds: WINDOW,
            limit: limit.into(),
            ..Default::default()
        }),
        remove: false,
        reason: "corridor_policy".into(),
        reference: String::new(),
    })
}

impl Chain {
    fn ibc(&mut self, from: &Address, to: &Address, amount: &str, route: Route<'static>) -> Result<(), SdkError> {
        let (from, to, amt) = (from.clone(), to.clone(), coins(amount));
        let checked = self.check_send(&from, &to, &amt, route);
        let done = self.run(move |c, ctx| c.bank.send_coins_routed(ctx, &from, &to, &amt, route));
        assert_eq!(checked.is_ok(), done.is_ok(), "IBC's validation and execution agree");
        done
    }

    fn ask<Resp: Message + Default>(&mut self, path: &str, req: impl Message) -> Resp {
        // Queries measure the window from the committed block's time.
        self.state.set(BLOCK_TIME_STORE, BLOCK_TIME_KEY.to_vec(), encode_block_time(self.now()));
        let b = self.module.query(&self.state, path, &req.encode_to_vec()).unwrap();
        Resp::decode(b.as_slice()).unwrap()
    }

    fn usage(&mut self, who: &Address) -> pb::QueryVelocityUsageResponse {
        self.ask(
            query::VELOCITY_USAGE,
            pb::QueryVelocityUsageRequest { address: who.to_string(), denom: "upay".into() },
        )
    }

    fn limit_event(&self) -> &Event {
        self.events.iter().find(|e| e.kind == events::COMPLIANCE_LIMIT).expect("a compliance_limit event")
    }
}

#[test]
fn a_velocity_limit_refuses_past_the_window_total_and_frees_up_as_buckets_age() {
    let mut c = chain();
    // Start at a bucket boundary, so the arithmetic below is exact.
    c.time = T0 - T0 % 10;
    c.exec(set_velocity(&authority(), "upay", "1000", vec![])).unwrap();
    let e = c.limit_event();
    assert_eq!(e.get("action"), Some("set_velocity_limit"));
    assert_eq!(e.get("limit"), Some("1000"));
    assert_eq!(e.get("reference"), Some("risk committee 2026-12"));

    c.pay(&alice(), &bob(), "600upay").unwrap();
    c.time += 50;
    c.pay(&alice(), &bob(), "400upay").unwrap();
    let before = (c.bal(&alice()), c.bal(&bob()));
    let refused = c.pay(&alice(), &bob(), "1upay").unwrap_err();
    assert_eq!((&*refused.codespace, refused.code), ("compliance", 28));
    assert!(refused.log.contains("1000upay per 240 s"), "{}", refused.log);
    assert!(refused.log.contains("1000upay sent in the window, 0upay remaining"), "{}", refused.log);
    assert_eq!((c.bal(&alice()), c.bal(&bob())), before, "nothing moved");
    // Fees never count: a limit never stops an account paying for a tx.
    c.run(|c, ctx| c.bank.send_coins_from_account_to_module(ctx, &alice(), FEE_COLLECTOR, &coins("50upay"))).unwrap();
    // Per account: bob sends freely.
    c.pay(&bob(), &alice(), "1000upay").unwrap();

    let u = c.usage(&alice());
    assert_eq!((u.limit.as_str(), u.used.as_str(), u.remaining.as_str(), u.tier.as_str()), ("1000", "1000", "0", ""));
    // 230 s after the first send its bucket is still in the window.
    c.time += 180;
    assert_eq!(code(c.pay(&alice(), &bob(), "1upay")), cs("compliance", 28));
    // 240 s after it, the 600 left the window; the 400 (sent 50 s later) has not.
    c.time += 10;
    assert_eq!(c.usage(&alice()).used, "400");
    c.pay(&alice(), &bob(), "600upay").unwrap();
    assert_eq!(code(c.pay(&alice(), &bob(), "1upay")), cs("compliance", 28));
    c.time += 50;
    c.pay(&alice(), &bob(), "400upay").unwrap();

    // Removed: no limit, no usage kept.
    let mut remove =
        pb::MsgSetVelocityLimit::decode(set_velocity(&authority(), "upay", "1", vec![]).value.as_slice()).unwrap();
    remove.remove = true;
    c.exec(any(&remove)).unwrap();
    assert_eq!(c.limit_event().get("action"), Some("remove_velocity_limit"));
    c.pay(&alice(), &bob(), "5000upay").unwrap();
    assert_eq!(code(c.exec(any(&remove))), cs("compliance", 30), "nothing left to remove");
}

#[test]
fn a_credential_tier_gets_its_own_limit() {
    let mut c = chain();
    c.exec(register(&authority(), &kyc(), &["kyc.tier1", "kyc.tier2"])).unwrap();
    for (who, t) in [(alice(), "kyc.tier2"), (carol(), "kyc.tier1")] {
        c.exec(create(&kyc(), &who, t, None)).unwrap();
        c.exec(accept(&who, t)).unwrap();
    }
    // The first tier held applies, else the default.
    c.exec(set_velocity(&authority(), "upay", "100", vec![tier("kyc.tier2", "5000"), tier("kyc.tier1", "500")]))
        .unwrap();
    c.pay(&alice(), &bob(), "4000upay").unwrap();
    c.pay(&carol(), &bob(), "500upay").unwrap();
    assert_eq!(code(c.pay(&carol(), &bob(), "1upay")), cs("compliance", 28));
    let refused = c.pay(&bob(), &alice(), "101upay").unwrap_err();
    assert!(refused.log.contains("the default tier"), "{}", refused.log);
    c.pay(&bob(), &alice(), "100upay").unwrap();
    let u = c.usage(&alice());
    assert_eq!(u.tier, format!("{}:kyc.tier2", kyc()));
    assert_eq!((u.limit.as_str(), u.remaining.as_str()), ("5000", "1000"));
    // A credential that stops counting drops the account to the default tier.
    c.exec(any(&pb::MsgRevokeCredential {
        signer: kyc().to_string(),
        subject: alice().to_string(),
        issuer: kyc().to_string(),
        r#type: "kyc.tier2".into(),
        reason: "review".into(),
        reference: String::new(),
    }))
    .unwrap();
    assert_eq!(code(c.pay(&alice(), &bob(), "1upay")), cs("compliance", 28), "4000 sent is over the default 100");
}

#[test]
fn every_path_an_account_sends_by_counts_and_nothing_else_does() {
    let mut c = chain();
    c.exec(set_velocity(&authority(), "upay", "1000", vec![])).unwrap();
    // Multi-send outputs count one by one: the second output crosses the limit.
    let multi = |c: &mut Chain, a: &str, b: &str| {
        let input = Input {
            address: alice(),
            coins: coins(&format!("{}upay", a.parse::<u128>().unwrap() + b.parse::<u128>().unwrap())),
        };
        let outs = vec![
            Output { address: bob(), coins: coins(&format!("{a}upay")) },
            Output { address: carol(), coins: coins(&format!("{b}upay")) },
        ];
        c.run(move |c, ctx| c.bank.input_output_coins(ctx, &input, &outs))
    };
    assert_eq!(code(multi(&mut c, "600", "500")), cs("compliance", 28));
    multi(&mut c, "300", "200").unwrap();
    // Coins into a module account (escrow, a redemption) count.
    c.run(|c, ctx| c.bank.send_coins_from_account_to_module(ctx, &alice(), MINTING_MODULE, &coins("300upay"))).unwrap();
    // IBC out counts; IBC in, mints and receiving do not.
    assert_eq!(
        code(c.ibc(&alice(), &addr(99), "201upay", Route::IbcOut { channel: "channel-0", memo: "" })),
        cs("compliance", 28)
    );
    c.ibc(&alice(), &addr(99), "200upay", Route::IbcOut { channel: "channel-0", memo: "" }).unwrap();
    assert_eq!(c.usage(&alice()).used, "1000");
    c.ibc(&addr(99), &alice(), "50upay", Route::IbcIn { channel: "channel-0", memo: Some("") }).unwrap();
    c.run(|c, ctx| {
        c.bank.mint_coins(ctx, MINTING_MODULE, &coins("70upay"))?;
        c.bank.send_coins_from_module_to_account(ctx, MINTING_MODULE, &alice(), &coins("70upay"))
    })
    .unwrap();
    c.pay(&bob(), &alice(), "10upay").unwrap();
    assert_eq!(c.usage(&alice()).used, "1000");
    // Coins leaving a module (escrow release, a decided hold) are no account's sending.
    c.run(|c, ctx| c.bank.send_coins_from_module_to_account(ctx, MINTING_MODULE, &bob(), &coins("300upay"))).unwrap();
    // Another denom has no limit.
    c.run(|c, ctx| {
        c.bank.mint_coins(ctx, MINTING_MODULE, &coins("10uusd"))?;
        c.bank.send_coins_from_module_to_account(ctx, MINTING_MODULE, &alice(), &coins("10uusd"))
    })
    .unwrap();
    c.pay(&alice(), &bob(), "10uusd").unwrap();
}

#[test]
fn a_corridor_limit_counts_what_leaves_net_of_what_comes_in() {
    let mut c = chain();
    c.exec(set_corridor(&authority(), "channel-0", "1000")).unwrap();
    assert_eq!(c.limit_event().get("channel_id"), Some("channel-0"));
    let (out, inn) =
        (Route::IbcOut { channel: "channel-0", memo: "" }, Route::IbcIn { channel: "channel-0", memo: Some("") });
    c.ibc(&alice(), &addr(99), "800upay", out).unwrap();
    let before = c.bal(&bob());
    let refused = c.ibc(&bob(), &addr(99), "300upay", out).unwrap_err();
    assert_eq!((&*refused.codespace, refused.code), ("compliance", 29));
    assert!(refused.log.contains("200upay remaining"), "{}", refused.log);
    assert_eq!(c.bal(&bob()), before);
    // What comes in is never refused, and makes room.
    c.ibc(&addr(99), &carol(), "500upay", inn).unwrap();
    c.ibc(&bob(), &addr(99), "700upay", out).unwrap();
    assert_eq!(code(c.ibc(&bob(), &addr(99), "1upay", out)), cs("compliance", 29));
    // Another channel is another corridor.
    c.ibc(&bob(), &addr(98), "5000upay", Route::IbcOut { channel: "channel-1", memo: "" }).unwrap();
    let r: pb::QueryCorridorResponse =
        c.ask(query::CORRIDOR, pb::QueryCorridorRequest { channel_id: "channel-0".into(), denom: "upay".into() });
    assert_eq!(
        (r.sent.as_str(), r.received.as_str(), r.net.as_str(), r.remaining.as_str()),
        ("1500", "500", "1000", "0")
    );
    // After the window, the corridor is open again.
    c.time += WINDOW as i64 + 10;
    c.ibc(&bob(), &addr(99), "1000upay", out).unwrap();
}

#[test]
fn only_the_authority_or_the_tokens_admin_sets_limits_and_bad_ones_change_nothing() {
    let mut c = chain();
    assert_eq!(code(c.exec(set_velocity(&alice(), "upay", "10", vec![]))), cs("compliance", 7));
    assert_eq!(code(c.exec(set_corridor(&alice(), "channel-0", "10"))), cs("compliance", 7));
    let bad = |limit: pb::VelocityLimit| {
        any(&pb::MsgSetVelocityLimit {
            signer: authority().to_string(),
            limit: Some(limit),
            remove: false,
            reason: "x".into(),
            reference: String::new(),
        })
    };
    let ok =
        pb::VelocityLimit { denom: "upay".into(), window_seconds: WINDOW, limit: "10".into(), ..Default::default() };
    for (what, l) in [
        ("window too short", pb::VelocityLimit { window_seconds: 23, ..ok.clone() }),
        ("window too long", pb::VelocityLimit { window_seconds: 367 * 86_400, ..ok.clone() }),
        ("not an amount", pb::VelocityLimit { limit: "ten".into(), ..ok.clone() }),
        ("negative", pb::VelocityLimit { limit: "-1".into(), ..ok.clone() }),
        (
            "too many tiers",
            pb::VelocityLimit { tiers: (0..9).map(|n| tier(&format!("t{n}"), "1")).collect(), ..ok.clone() },
        ),
        ("a tier twice", pb::VelocityLimit { tiers: vec![tier("t", "1"), tier("t", "2")], ..ok.clone() }),
        ("bad tier type", pb::VelocityLimit { tiers: vec![tier("T!", "1")], ..ok.clone() }),
    ] {
        let e = c.exec(bad(l)).unwrap_err();
        assert!(
            e.codespace == "compliance" && matches!(e.code, 4 | 30),
            "{what}: {}/{} {}",
            e.codespace,
            e.code,
            e.log
        );
    }
    let e = c.exec(bad(pb::VelocityLimit { denom: "x".into(), ..ok.clone() })).unwrap_err();
    assert_eq!(e.codespace, "sdk", "bad denom: {}", e.log);
    assert_eq!(code(c.exec(set_corridor(&authority(), "chan-0", "10"))), cs("compliance", 30));
    assert_eq!(code(c.exec(set_corridor(&authority(), "channel-", "10"))), cs("compliance", 30));
    // Amounts are stored canonical; a second set raises the version.
    c.exec(bad(pb::VelocityLimit { limit: "0010".into(), ..ok.clone() })).unwrap();
    c.exec(bad(ok)).unwrap();
    let r: pb::QueryVelocityLimitResponse =
        c.ask(query::VELOCITY_LIMIT, pb::QueryVelocityLimitRequest { denom: "upay".into() });
    let l = r.limit.unwrap();
    assert_eq!((l.limit.as_str(), l.version), ("10", 2));
    let q = c.module.query(
        &c.state,
        query::VELOCITY_LIMIT,
        &pb::QueryVelocityLimitRequest { denom: "uusd".into() }.encode_to_vec(),
    );
    assert_eq!(q.unwrap_err().code, paychain_framework::GrpcCode::NotFound);
}

#[test]
fn limits_and_usage_round_trip_through_genesis_and_bad_genesis_is_refused() {
    let mut c = chain();
    c.exec(set_velocity(&authority(), "upay", "1000", vec![tier("kyc.tier2", "5000")])).unwrap();
    c.exec(set_corridor(&authority(), "channel-7", "1000")).unwrap();
    c.pay(&alice(), &bob(), "600upay").unwrap();
    c.ibc(&bob(), &addr(99), "300upay", Route::IbcOut { channel: "channel-7", memo: "" }).unwrap();
    let exported = c.module.export_genesis(&c.state).unwrap();
    assert_eq!(exported["account_usage"].as_array().unwrap().len(), 2);
    assert_eq!(exported["corridor_usage"].as_array().unwrap().len(), 1);
    let mut again = chain_with(exported.clone(), &[alice(), bob()]);
    again.time = c.time;
    assert_eq!(again.module.export_genesis(&again.state).unwrap(), exported);
    // The usage carried over: alice has 400 left.
    assert_eq!(code(again.pay(&alice(), &bob(), "401upay")), cs("compliance", 28));
    again.pay(&alice(), &bob(), "400upay").unwrap();

    let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut g = exported.clone();
        edit(&mut g);
        c.module.validate_genesis(Some(&g)).unwrap_err()
    };
    assert!(refused(&|g| g["velocity_limits"][0]["limit"] = json!("01000")).contains("velocity_limits[0]"));
    assert!(refused(&|g| g["velocity_limits"][0]["version"] = json!("0")).contains("version"));
    assert!(refused(&|g| g["corridor_limits"][0]["channel_id"] = json!("x")).contains("channel_id"));
    assert!(refused(&|g| g["account_usage"][0]["denom"] = json!("uusd")).contains("no velocity limit"));
    assert!(refused(&|g| g["corridor_usage"][0]["usage"]["bucket_seconds"] = json!("0")).contains("bucket_seconds"));
    let e = refused(&|g| {
        let b = g["account_usage"][0]["usage"]["buckets"][0].clone();
        g["account_usage"][0]["usage"]["buckets"] = json!([b.clone(), b]);
    });
    assert!(e.contains("epochs must increase"), "{e}");
}

/// Sends at random amounts and times under a limit, against a model of the
/// window (every successful send with its bucket): the chain refuses exactly the
/// sends the model says exceed the limit, its usage query agrees with the model,
/// and no window ever holds more than the limit.
#[test]
fn randomized_sends_never_exceed_the_limit_in_any_window() {
    const LIMIT: u128 = 5_000;
    for seed in 0..6u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut c = chain();
        c.exec(set_velocity(&authority(), "upay", &LIMIT.to_string(), vec![])).unwrap();
        let people = [alice(), bob(), carol()];
        // (account index, bucket epoch, amount) of every send made.
        let mut sent: Vec<(usize, u64, u128)> = Vec::new();
        let supply = c.bank.supply_of(&c.state, "upay").unwrap();
        for step in 0..300 {
            if rng.gen_bool(0.3) {
                c.time += rng.gen_range(0..40);
            }
            let (i, j) = (rng.gen_range(0..3), rng.gen_range(0..3));
            let amount: u128 = rng.gen_range(1..2_000);
            let epoch = c.time as u64 / 10;
            let in_window = |sent: &[(usize, u64, u128)], who: usize| -> u128 {
                sent.iter().filter(|&&(k, e, _)| k == who && epoch - e < 24).map(|&(_, _, a)| a).sum()
            };
            let used = in_window(&sent, i);
            let expect_ok = used + amount <= LIMIT && c.bal(&people[i]) >= amount;
            let r = c.pay(&people[i].clone(), &people[j].clone(), &format!("{amount}upay"));
            assert_eq!(r.is_ok(), expect_ok, "seed {seed} step {step}: used {used} + {amount}: {r:?}");
            if r.is_ok() {
                sent.push((i, epoch, amount));
            }
            assert!(in_window(&sent, i) <= LIMIT);
            assert_eq!(c.usage(&people[i]).used, in_window(&sent, i).to_string(), "seed {seed} step {step}");
            assert_eq!(c.bank.supply_of(&c.state, "upay").unwrap(), supply);
        }
        assert!(sent.len() > 100, "seed {seed}: most sends went through ({})", sent.len());
    }
}
