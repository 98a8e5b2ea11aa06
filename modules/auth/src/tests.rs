use std::sync::Arc;

use base64::Engine;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as pb;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use paychain_framework::{Address, BlockInfo, CacheState, Context, ExecMode, GasMeter, GrpcCode, Module, StateWrite};
use prost::Message;
use serde_json::{json, Value};

use super::*;
use crate::account::{BASE_ACCOUNT_TYPE_URL, MODULE_ACCOUNT_TYPE_URL};

fn keeper() -> Arc<AuthKeeper> {
    Arc::new(AuthKeeper::new(vec![
        ("fee_collector".into(), vec![]),
        ("escrow".into(), vec![MINTER.into(), BURNER.into()]),
    ]))
}

fn with_ctx<R>(state: &mut CacheState<'_>, f: impl FnOnce(&mut Context) -> R) -> R {
    let block = BlockInfo { height: 1, ..Default::default() };
    let gas = GasMeter::infinite();
    let mut ctx = Context::new(&block, ExecMode::Finalize, state, &gas);
    f(&mut ctx)
}

fn addr(n: u8) -> Address {
    Address::from_bytes(vec![n; 20]).unwrap()
}

fn pubkey(n: u8) -> Vec<u8> {
    let mut k = vec![0x03];
    k.extend([n; 32]);
    k
}

fn q<Req: Message, Resp: Message + Default>(
    m: &AuthModule,
    state: &CacheState<'_>,
    path: &str,
    req: Req,
) -> Result<Resp, QueryError> {
    m.query(state, path, &req.encode_to_vec()).map(|b| Resp::decode(b.as_slice()).unwrap())
}

#[test]
fn accounts_get_sequential_numbers_and_module_accounts_their_type() {
    let k = keeper();
    let mut state = CacheState::in_memory();
    with_ctx(&mut state, |ctx| {
        let a = k.create_account(ctx, &addr(1)).unwrap();
        assert_eq!((a.account_number, a.sequence, a.is_module()), (0, 0, false));
        k.ensure_account(ctx, &addr(1)).unwrap();
        k.ensure_account(ctx, &addr(2)).unwrap();
        assert_eq!(k.account(ctx, &addr(2)).unwrap().unwrap().account_number, 1);
        // An account is never silently recreated (that would reset its sequence).
        assert_eq!(k.create_account(ctx, &addr(1)).unwrap_err().code, 18);
        // A registered module address becomes its ModuleAccount.
        let esc = AuthKeeper::module_address("escrow");
        k.ensure_account(ctx, &esc).unwrap();
        let m = k.account(ctx, &esc).unwrap().unwrap();
        assert_eq!(m.module.as_ref().unwrap().name, "escrow");
        assert!(m.has_permission(MINTER));
        assert_eq!(k.module_account(ctx, "escrow").unwrap(), m);
        let fee = k.module_account(ctx, "fee_collector").unwrap();
        assert_eq!(fee.account_number, 3);
        assert_eq!(k.module_account(ctx, "nope").unwrap_err().code, 9);
        assert_eq!(k.peek_next_account_number(ctx).unwrap(), 4);
    });
    k.check_invariants(&state).unwrap();
}

#[test]
fn set_account_updates_sequence_and_guards_account_numbers() {
    let k = keeper();
    let mut state = CacheState::in_memory();
    with_ctx(&mut state, |ctx| {
        let mut a = k.create_account(ctx, &addr(1)).unwrap();
        k.create_account(ctx, &addr(2)).unwrap();
        a.sequence = 5;
        k.set_account(ctx, &a).unwrap();
        assert_eq!(k.account(ctx, &addr(1)).unwrap().unwrap().sequence, 5);
        // Taking another account's number is refused.
        let mut stolen = a.clone();
        stolen.account_number = 1;
        assert_eq!(k.set_account(ctx, &stolen).unwrap_err().code, 35);
        // A pubkey must belong to the address.
        let mut wrong = a.clone();
        wrong.pub_key = Some(crate::PubKey::Secp256k1(pubkey(9)));
        assert_eq!(k.set_account(ctx, &wrong).unwrap_err().code, 8);
        let kp = pubkey(9);
        let mut b = k.create_account(ctx, &Address::from_secp256k1_pubkey(&kp)).unwrap();
        b.pub_key = Some(crate::PubKey::Secp256k1(kp));
        k.set_account(ctx, &b).unwrap();
        assert_eq!(k.address_by_account_number(ctx, b.account_number).unwrap(), Some(b.address.clone()));
    });
    k.check_invariants(&state).unwrap();
}

#[test]
fn state_reads_and_writes_are_metered() {
    let k = keeper();
    let mut state = CacheState::in_memory();
    let block = BlockInfo::default();
    let gas = GasMeter::new(1_000_000);
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut state, &gas);
    k.ensure_account(&mut ctx, &addr(1)).unwrap();
    assert!(gas.consumed() > 5_000, "{}", gas.consumed());
    let tight = GasMeter::new(1500);
    let mut state2 = CacheState::in_memory();
    let mut ctx = Context::new(&block, ExecMode::Finalize, &mut state2, &tight);
    assert_eq!(k.ensure_account(&mut ctx, &addr(1)).unwrap_err().code, 11);
}

fn genesis_json() -> Value {
    let kp = pubkey(4);
    json!({
        "params": {"max_memo_characters": "300", "tx_sig_limit": 7, "tx_size_cost_per_byte": "10",
                   "sig_verify_cost_ed25519": "590", "sig_verify_cost_secp256k1": "1000"},
        "accounts": [
            {"@type": BASE_ACCOUNT_TYPE_URL, "address": addr(1).to_string(), "pub_key": null,
             "account_number": "0", "sequence": "0"},
            {"@type": BASE_ACCOUNT_TYPE_URL, "address": Address::from_secp256k1_pubkey(&kp).to_string(),
             "pub_key": {"@type": "/cosmos.crypto.secp256k1.PubKey",
                         "key": base64::engine::general_purpose::STANDARD.encode(&kp)},
             "account_number": "7", "sequence": "3"},
            {"@type": MODULE_ACCOUNT_TYPE_URL,
             "base_account": {"address": AuthKeeper::module_address("escrow").to_string(), "pub_key": null,
                              "account_number": "2", "sequence": "0"},
             "name": "escrow", "permissions": ["minter", "burner"]},
            {"@type": BASE_ACCOUNT_TYPE_URL, "address": addr(2).to_string(), "accountNumber": 1},
        ]
    })
}

#[test]
fn genesis_init_export_round_trips() {
    let k = keeper();
    let m = AuthModule::new(k.clone());
    let g = genesis_json();
    m.validate_genesis(Some(&g)).unwrap();
    let mut state = CacheState::in_memory();
    with_ctx(&mut state, |ctx| m.init_genesis(ctx, Some(&g))).unwrap();
    m.check_invariants(&state).unwrap();
    assert_eq!(k.params(&state).unwrap().max_memo_characters, 300);
    // fee_collector was missing: created after the highest genesis number.
    let fee = k.get_module_account(&state, "fee_collector").unwrap().unwrap();
    assert_eq!(fee.account_number, 8);
    let exported = m.export_genesis(&state).unwrap();
    let accounts = exported["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 5);
    let numbers: Vec<&str> = accounts
        .iter()
        .map(|a| a.get("account_number").or(a["base_account"].get("account_number")).unwrap().as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["0", "1", "2", "7", "8"]);
    assert_eq!(exported["params"]["max_memo_characters"], "300");
    assert_eq!(accounts[3]["sequence"], "3");
    assert_eq!(accounts[3]["pub_key"]["@type"], "/cosmos.crypto.secp256k1.PubKey");

    // Importing the export reproduces the same state.
    let mut state2 = CacheState::in_memory();
    with_ctx(&mut state2, |ctx| m.init_genesis(ctx, Some(&exported))).unwrap();
    assert_eq!(m.export_genesis(&state2).unwrap(), exported);
    assert_eq!(state2.writes(), state.writes());
}

#[test]
fn default_genesis_creates_registered_module_accounts() {
    let k = keeper();
    let m = AuthModule::new(k.clone());
    m.validate_genesis(None).unwrap();
    let mut state = CacheState::in_memory();
    with_ctx(&mut state, |ctx| m.init_genesis(ctx, None)).unwrap();
    assert_eq!(k.get_module_account(&state, "fee_collector").unwrap().unwrap().account_number, 0);
    assert_eq!(k.get_module_account(&state, "escrow").unwrap().unwrap().account_number, 1);
    assert_eq!(k.params(&state).unwrap(), AuthParams::default());
    let exported = m.export_genesis(&state).unwrap();
    assert_eq!(
        exported["params"],
        json!({"max_memo_characters":"256","tx_sig_limit":"7","tx_size_cost_per_byte":"10",
               "sig_verify_cost_ed25519":"590","sig_verify_cost_secp256k1":"1000"})
    );
}

#[test]
fn genesis_errors_name_the_field() {
    let m = AuthModule::new(keeper());
    let check = |mutate: &dyn Fn(&mut Value), expect: &str| {
        let mut g = genesis_json();
        mutate(&mut g);
        let err = m.validate_genesis(Some(&g)).unwrap_err();
        assert!(err.starts_with(expect), "expected {expect:?}, got {err:?}");
        // init refuses the same genesis without writing anything.
        let mut state = CacheState::in_memory();
        let e = with_ctx(&mut state, |ctx| m.init_genesis(ctx, Some(&g))).unwrap_err();
        assert!(e.log.contains(expect), "{}", e.log);
    };
    check(
        &|g| g["accounts"][2]["base_account"]["address"] = json!("pay1qqqq"),
        "auth.accounts[2].base_account.address: ",
    );
    check(&|g| g["accounts"][3]["address"] = json!("cosmos1xyz"), "auth.accounts[3].address: ");
    check(
        &|g| g["accounts"][3]["address"] = g["accounts"][0]["address"].clone(),
        "auth.accounts[3].address: duplicate account",
    );
    check(
        &|g| g["accounts"][3]["accountNumber"] = json!("7"),
        "auth.accounts[3].account_number: duplicate account number 7",
    );
    check(
        &|g| g["accounts"][0]["account_number"] = json!("-1"),
        "auth.accounts[0].account_number: expected an unsigned",
    );
    check(&|g| g["accounts"][0]["sequence"] = json!(1.5), "auth.accounts[0].sequence: expected an unsigned");
    check(&|g| g["accounts"][0]["colour"] = json!("red"), "auth.accounts[0].colour: unknown field");
    check(
        &|g| g["accounts"][0]["@type"] = json!("/cosmos.vesting.v1beta1.DelayedVestingAccount"),
        "auth.accounts[0].@type: unsupported",
    );
    check(&|g| g["accounts"][1]["pub_key"]["key"] = json!("AAAA"), "auth.accounts[1].pub_key.key: ");
    check(&|g| g["accounts"][1]["pub_key"]["key"] = json!("%%%"), "auth.accounts[1].pub_key.key: invalid base64");
    check(
        &|g| g["accounts"][0]["pub_key"] = g["accounts"][1]["pub_key"].clone(),
        "auth.accounts[0].pub_key: pubkey address",
    );
    check(
        &|g| g["accounts"][1]["pub_key"]["@type"] = json!("/cosmos.crypto.ed25519.PubKey"),
        "auth.accounts[1].pub_key.@type: unsupported",
    );
    check(&|g| g["accounts"][2]["name"] = json!("other"), "auth.accounts[2].base_account.address: address");
    check(
        &|g| g["accounts"][2]["permissions"] = json!(["minter"]),
        "auth.accounts[2].permissions: module account escrow",
    );
    check(
        &|g| g["accounts"][0]["address"] = json!(AuthKeeper::module_address("fee_collector").to_string()),
        "auth.accounts[0].address: address",
    );
    check(&|g| g["params"]["tx_sig_limit"] = json!("0"), "auth.params.tx_sig_limit: must be positive");
    check(&|g| g["params"]["max_memo"] = json!("1"), "auth.params.max_memo: unknown field");
    check(&|g| g["accounts"] = json!({}), "auth.accounts: expected an array");
    check(&|g| g["accounts"][0] = json!("x"), "auth.accounts[0]: expected an object");
}

#[test]
fn queries_answer_like_the_sdk() {
    let k = keeper();
    let m = AuthModule::new(k.clone());
    let mut state = CacheState::in_memory();
    with_ctx(&mut state, |ctx| {
        m.init_genesis(ctx, None).unwrap();
        for i in 1..=5 {
            k.create_account(ctx, &addr(i)).unwrap();
        }
    });

    // Account: found, missing (NotFound with the SDK's text), bad input.
    let r: pb::QueryAccountResponse =
        q(&m, &state, query::ACCOUNT, pb::QueryAccountRequest { address: addr(1).to_string() }).unwrap();
    let any = r.account.unwrap();
    assert_eq!(any.type_url, BASE_ACCOUNT_TYPE_URL);
    let base = pb::BaseAccount::decode(any.value.as_slice()).unwrap();
    assert_eq!((base.address, base.account_number, base.sequence), (addr(1).to_string(), 2, 0));
    let missing = addr(9).to_string();
    let e = q::<_, pb::QueryAccountResponse>(
        &m,
        &state,
        query::ACCOUNT,
        pb::QueryAccountRequest { address: missing.clone() },
    )
    .unwrap_err();
    assert_eq!(e.code, GrpcCode::NotFound);
    assert_eq!(e.abci_log(), format!("rpc error: code = NotFound desc = account {missing} not found"));
    for bad in ["", "pay1invalid", "cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a"] {
        let e = q::<_, pb::QueryAccountResponse>(
            &m,
            &state,
            query::ACCOUNT,
            pb::QueryAccountRequest { address: bad.into() },
        )
        .unwrap_err();
        assert_eq!(e.code, GrpcCode::InvalidArgument, "{bad}");
    }
    assert_eq!(m.query(&state, query::ACCOUNT, &[0xff, 0xff]).unwrap_err().code, GrpcCode::InvalidArgument);
    assert_eq!(m.query(&state, "/cosmos.auth.v1beta1.Query/Nope", &[]).unwrap_err().code, GrpcCode::Unimplemented);

    // Accounts: 7 in all (2 module + 5), paginated by key, offset, reverse.
    let page =
        |key: Vec<u8>, offset, limit, count_total, reverse| PageRequest { key, offset, limit, count_total, reverse };
    let all: pb::QueryAccountsResponse =
        q(&m, &state, query::ACCOUNTS, pb::QueryAccountsRequest { pagination: None }).unwrap();
    assert_eq!(all.accounts.len(), 7);
    let addrs = |r: &pb::QueryAccountsResponse| -> Vec<String> {
        r.accounts.iter().map(|a| Account::from_any(a).unwrap().address.to_string()).collect()
    };
    let all_addrs = addrs(&all);
    let p1: pb::QueryAccountsResponse =
        q(&m, &state, query::ACCOUNTS, pb::QueryAccountsRequest { pagination: Some(page(vec![], 0, 3, true, false)) })
            .unwrap();
    assert_eq!(addrs(&p1), all_addrs[..3]);
    let pr1 = p1.pagination.unwrap();
    assert_eq!(pr1.total, 7);
    let p2: pb::QueryAccountsResponse = q(
        &m,
        &state,
        query::ACCOUNTS,
        pb::QueryAccountsRequest { pagination: Some(page(pr1.next_key, 0, 3, false, false)) },
    )
    .unwrap();
    assert_eq!(addrs(&p2), all_addrs[3..6]);
    let off: pb::QueryAccountsResponse = q(
        &m,
        &state,
        query::ACCOUNTS,
        pb::QueryAccountsRequest { pagination: Some(page(vec![], 5, 10, false, false)) },
    )
    .unwrap();
    assert_eq!(addrs(&off), all_addrs[5..]);
    let rev: pb::QueryAccountsResponse =
        q(&m, &state, query::ACCOUNTS, pb::QueryAccountsRequest { pagination: Some(page(vec![], 0, 2, false, true)) })
            .unwrap();
    assert_eq!(addrs(&rev), vec![all_addrs[6].clone(), all_addrs[5].clone()]);

    // Params.
    let p: pb::QueryParamsResponse = q(&m, &state, query::PARAMS, pb::QueryParamsRequest {}).unwrap();
    assert_eq!(p.params.unwrap(), AuthParams::default().to_proto());

    // Module accounts, sorted by name.
    let ma: pb::QueryModuleAccountsResponse =
        q(&m, &state, query::MODULE_ACCOUNTS, pb::QueryModuleAccountsRequest {}).unwrap();
    let names: Vec<String> = ma.accounts.iter().map(|a| Account::from_any(a).unwrap().module.unwrap().name).collect();
    assert_eq!(names, ["escrow", "fee_collector"]);
    let by_name: pb::QueryModuleAccountByNameResponse = q(
        &m,
        &state,
        query::MODULE_ACCOUNT_BY_NAME,
        pb::QueryModuleAccountByNameRequest { name: "fee_collector".into() },
    )
    .unwrap();
    let fee = by_name.account.unwrap();
    assert_eq!(fee.type_url, MODULE_ACCOUNT_TYPE_URL);
    let fee = pb::ModuleAccount::decode(fee.value.as_slice()).unwrap();
    assert_eq!(fee.base_account.unwrap().address, AuthKeeper::module_address("fee_collector").to_string());
    let e = q::<_, pb::QueryModuleAccountByNameResponse>(
        &m,
        &state,
        query::MODULE_ACCOUNT_BY_NAME,
        pb::QueryModuleAccountByNameRequest { name: "gov".into() },
    )
    .unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (GrpcCode::NotFound, "account gov not found"));
    let e = q::<_, pb::QueryModuleAccountByNameResponse>(
        &m,
        &state,
        query::MODULE_ACCOUNT_BY_NAME,
        pb::QueryModuleAccountByNameRequest { name: "".into() },
    )
    .unwrap_err();
    assert_eq!(e.code, GrpcCode::InvalidArgument);

    // Address helpers.
    let pre: pb::Bech32PrefixResponse = q(&m, &state, query::BECH32_PREFIX_PATH, pb::Bech32PrefixRequest {}).unwrap();
    assert_eq!(pre.bech32_prefix, "pay");
    let s: pb::AddressBytesToStringResponse =
        q(&m, &state, query::ADDRESS_BYTES_TO_STRING, pb::AddressBytesToStringRequest { address_bytes: vec![3; 20] })
            .unwrap();
    assert_eq!(s.address_string, addr(3).to_string());
    let b: pb::AddressStringToBytesResponse = q(
        &m,
        &state,
        query::ADDRESS_STRING_TO_BYTES,
        pb::AddressStringToBytesRequest { address_string: addr(3).to_string() },
    )
    .unwrap();
    assert_eq!(b.address_bytes, vec![3; 20]);
    assert!(q::<_, pb::AddressStringToBytesResponse>(
        &m,
        &state,
        query::ADDRESS_STRING_TO_BYTES,
        pb::AddressStringToBytesRequest { address_string: " ".into() }
    )
    .is_err());

    // Account number lookups.
    let by_id: pb::QueryAccountAddressByIdResponse = q(
        &m,
        &state,
        query::ACCOUNT_ADDRESS_BY_ID,
        #[allow(deprecated)]
        pb::QueryAccountAddressByIdRequest { id: 0, account_id: 2 },
    )
    .unwrap();
    assert_eq!(by_id.account_address, addr(1).to_string());
    #[allow(deprecated)]
    let (missing_id, legacy_id) = (
        pb::QueryAccountAddressByIdRequest { id: 0, account_id: 99 },
        pb::QueryAccountAddressByIdRequest { id: 2, account_id: 0 },
    );
    let e =
        q::<_, pb::QueryAccountAddressByIdResponse>(&m, &state, query::ACCOUNT_ADDRESS_BY_ID, missing_id).unwrap_err();
    assert_eq!(e.code, GrpcCode::NotFound);
    let e =
        q::<_, pb::QueryAccountAddressByIdResponse>(&m, &state, query::ACCOUNT_ADDRESS_BY_ID, legacy_id).unwrap_err();
    assert_eq!(e.code, GrpcCode::InvalidArgument);

    // AccountInfo returns the BaseAccount part, also for module accounts.
    let info: pb::QueryAccountInfoResponse = q(
        &m,
        &state,
        query::ACCOUNT_INFO,
        pb::QueryAccountInfoRequest { address: AuthKeeper::module_address("escrow").to_string() },
    )
    .unwrap();
    assert_eq!(info.info.unwrap().account_number, 1);
}

#[test]
fn invariants_catch_a_corrupted_store() {
    let k = keeper();
    let m = AuthModule::new(k.clone());
    let mut state = CacheState::in_memory();
    with_ctx(&mut state, |ctx| {
        m.init_genesis(ctx, None).unwrap();
        k.create_account(ctx, &addr(1)).unwrap();
    });
    m.check_invariants(&state).unwrap();

    // An account stored under another address's key.
    let mut bad = CacheState::new(&state);
    let acc = k.account(&state, &addr(1)).unwrap().unwrap();
    bad.set(STORE_KEY, keys::account_key(&addr(2)), acc.encode());
    assert!(m.check_invariants(&bad).unwrap_err().contains("stored under key"));

    // A missing number index entry.
    let mut bad = CacheState::new(&state);
    bad.delete(STORE_KEY, keys::account_number_key(acc.account_number));
    assert!(m.check_invariants(&bad).unwrap_err().contains("account number index"));

    // An index entry naming no account.
    let mut bad = CacheState::new(&state);
    bad.set(STORE_KEY, keys::account_number_key(7), addr(7).as_bytes().to_vec());
    assert!(m.check_invariants(&bad).unwrap_err().contains("account number index entries for"));

    // The account's entry pointing elsewhere (as many entries on both sides).
    let mut bad = CacheState::new(&state);
    bad.set(STORE_KEY, keys::account_number_key(acc.account_number), addr(7).as_bytes().to_vec());
    let err = m.check_invariants(&bad).unwrap_err();
    assert!(err.contains(&format!("account number index for {} points to", acc.account_number)), "{err}");

    // A number at or above the next account number.
    let mut bad = CacheState::new(&state);
    bad.set(STORE_KEY, keys::GLOBAL_ACCOUNT_NUMBER_KEY.to_vec(), 1u64.to_be_bytes().to_vec());
    assert!(m.check_invariants(&bad).unwrap_err().contains("next account number"));

    // Undecodable bytes are a fatal error for keeper reads.
    let mut bad = CacheState::new(&state);
    bad.set(STORE_KEY, keys::account_key(&addr(1)), vec![1, 2, 3]);
    assert!(k.account(&bad, &addr(1)).unwrap_err().fatal);
    assert!(m.check_invariants(&bad).is_err());
}

#[test]
#[should_panic(expected = "registered twice")]
fn duplicate_module_registration_is_a_wiring_bug() {
    AuthKeeper::new(vec![("a_mod".into(), vec![]), ("a_mod".into(), vec![])]);
}
