//! `paychaind ibc`: helpers around IBC relaying with an unmodified Hermes.
//!
//! * `paychaind ibc hermes-config --chain id=paychain-a-1,rpc=127.0.0.1:27100,grpc=127.0.0.1:27103 --chain ...`
//!   prints (or, with `--out`, writes) a Hermes 1.11 config for our chains and,
//!   with `prefix=`, `gas-price=` and `store=iavl`, for the Cosmos SDK chains
//!   they bridge to.
//! * `paychaind ibc proof-specs` prints the store's ICS-23 proof specs as the
//!   JSON Hermes's `proof_specs` option takes.
//!
//! Our store is a jmt (not IAVL), so Hermes's default proof specs (the SDK's
//! IAVL + simple-merkle) would put wrong specs into the clients it creates of
//! us. Hermes parses `proof_specs` with `serde_json` into `ics23::ProofSpec`
//! (the `pbjson` encoding: camelCase fields, enum names such as `"SHA256"`,
//! bytes as base64, default values omitted); the JSON here is that same
//! type's own serialization, so `prehashKeyBeforeComparison: true` survives.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use paychain_client::cli::Ctx;

/// Hermes key name used when a `--chain` has no `key=`.
pub const DEFAULT_KEY_NAME: &str = "relayer";

#[derive(Subcommand, Debug)]
pub enum IbcCmd {
    /// Print (or write with --out) a Hermes 1.11 config for paychain chains and their counterparties
    HermesConfig(HermesConfigArgs),
    /// Print the store's ICS-23 proof specs as JSON (Hermes's `proof_specs`)
    ProofSpecs,
}

#[derive(Args, Debug)]
pub struct HermesConfigArgs {
    /// A chain: id=<chain-id>,rpc=<host:port>,grpc=<host:port>[,key=<hermes key name>][,prefix=<bech32 prefix>]
    /// [,gas-price=<price><denom>][,store=jmt|iavl] (repeatable). The defaults describe a paychain chain
    /// (prefix pay, --gas-price, store=jmt); a Cosmos SDK chain such as ibc-go's simd is e.g.
    /// `id=simd-1,rpc=..,grpc=..,prefix=cosmos,gas-price=0.01stake,store=iavl`.
    #[arg(long = "chain", required = true, value_name = "SPEC", value_parser = parse_chain_spec)]
    pub chains: Vec<ChainSpec>,
    /// Write the config to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Hermes key store folder (`key_store_folder`; keys go to DIR/<chain-id>/keyring-test) [default: ~/.hermes/keys]
    #[arg(long, value_name = "DIR")]
    pub key_store: Option<PathBuf>,
    /// Hermes log level: error, warn, info, debug or trace
    #[arg(long, default_value = "info", value_parser = ["error", "warn", "info", "debug", "trace"])]
    pub log_level: String,
    /// Hermes clears pending packets every this many blocks (0 = only on start)
    #[arg(long, default_value_t = 10)]
    pub clear_interval: u64,
    /// Gas price Hermes pays on chains without their own `gas-price=`, e.g. 0.025upay
    #[arg(long, default_value = "0.025upay", value_parser = parse_gas_price)]
    pub gas_price: GasPrice,
    /// Trusting period of the clients Hermes creates of these chains (must stay below the 21-day unbonding period)
    #[arg(long, default_value = "14days")]
    pub trusting_period: String,
}

/// One `--chain`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSpec {
    pub id: String,
    /// `host:port` of CometBFT's RPC.
    pub rpc: String,
    /// `host:port` of the app's gRPC server.
    pub grpc: String,
    pub key: String,
    /// Bech32 account prefix (`account_prefix`).
    pub prefix: String,
    /// This chain's gas price; `None`: `--gas-price`.
    pub gas_price: Option<GasPrice>,
    pub store: StoreKind,
}

/// The chain's state store, which decides the ICS-23 proof specs Hermes puts
/// into the clients it creates of that chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// paychain's Jellyfish Merkle tree: `proof_specs` from `paychaind ibc proof-specs`.
    Jmt,
    /// The Cosmos SDK's IAVL: Hermes's default specs (no `proof_specs` line).
    Iavl,
}

/// `--gas-price`: amount and denom.
#[derive(Clone, Debug, PartialEq)]
pub struct GasPrice {
    pub price: f64,
    pub denom: String,
}

/// `host:port`, also accepting (and dropping) a `http://` / `tcp://` scheme and a trailing `/`.
fn host_port(what: &str, s: &str) -> Result<String, String> {
    let s = s.trim();
    let s = ["http://", "tcp://"].iter().find_map(|p| s.strip_prefix(p)).unwrap_or(s).trim_end_matches('/');
    let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("{what}={s:?}: expected host:port"))?;
    if host.is_empty() || host.contains(['/', ' ', '"', '\'', ',']) {
        return Err(format!("{what}={s:?}: bad host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(format!("{host}:{p}")),
        _ => Err(format!("{what}={s:?}: bad port")),
    }
}

fn parse_chain_spec(s: &str) -> Result<ChainSpec, String> {
    let (mut id, mut rpc, mut grpc, mut key) = (None, None, None, None);
    let (mut prefix, mut gas_price, mut store) = (None, None, None);
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected key=value"))?;
        let slot = match k.trim() {
            "id" => &mut id,
            "rpc" => &mut rpc,
            "grpc" => &mut grpc,
            "key" => &mut key,
            "prefix" => &mut prefix,
            "gas-price" => &mut gas_price,
            "store" => &mut store,
            other => {
                return Err(format!("unknown field {other:?} (expected id, rpc, grpc, key, prefix, gas-price, store)"))
            }
        };
        if slot.replace(v.trim().to_string()).is_some() {
            return Err(format!("{k} given twice"));
        }
    }
    let id = id.ok_or("missing id=<chain-id>")?;
    crate::home::validate_chain_id(&id).map_err(|e| e.to_string())?;
    let key = key.unwrap_or_else(|| DEFAULT_KEY_NAME.to_string());
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(format!("key={key:?}: use letters, digits, '-', '_' or '.'"));
    }
    let prefix = prefix.unwrap_or_else(|| "pay".to_string());
    if prefix.is_empty() || prefix.len() > 32 || !prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(format!("prefix={prefix:?}: a bech32 prefix is 1-32 lowercase letters or digits"));
    }
    let store = match store.as_deref() {
        None | Some("jmt") => StoreKind::Jmt,
        Some("iavl") => StoreKind::Iavl,
        Some(other) => return Err(format!("store={other:?}: expected jmt (paychain) or iavl (Cosmos SDK)")),
    };
    Ok(ChainSpec {
        id,
        rpc: host_port("rpc", &rpc.ok_or("missing rpc=<host:port>")?)?,
        grpc: host_port("grpc", &grpc.ok_or("missing grpc=<host:port>")?)?,
        key,
        prefix,
        gas_price: gas_price.map(|g| parse_gas_price(&g)).transpose()?,
        store,
    })
}

fn parse_gas_price(s: &str) -> Result<GasPrice, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or(format!("{s:?}: expected e.g. 0.025upay"))?;
    let (amount, denom) = s.split_at(split);
    let price: f64 = amount.parse().map_err(|_| format!("{s:?}: bad amount {amount:?}"))?;
    if !price.is_finite() || price < 0.0 || denom.is_empty() {
        return Err(format!("{s:?}: expected e.g. 0.025upay"));
    }
    Ok(GasPrice { price, denom: denom.to_string() })
}

/// The store's proof specs (`[ibc substore, main tree]`, both `jmt::ics23_spec()`) as
/// Hermes's `proof_specs` JSON: `ics23::ProofSpec`'s serde encoding, which is the type
/// Hermes deserializes into (`ibc_proto::ics23` re-exports the `ics23` crate).
pub fn proof_specs_json() -> String {
    serde_json::to_string(&paychain_store::proof_specs()).expect("ProofSpec serializes")
}

/// A TOML basic string (quoted and escaped).
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The Hermes config for `chains`.
pub fn hermes_config(args: &HermesConfigArgs) -> anyhow::Result<String> {
    if args.chains.is_empty() {
        bail!("give at least one --chain");
    }
    for (i, c) in args.chains.iter().enumerate() {
        if args.chains[..i].iter().any(|o| o.id == c.id) {
            bail!("chain {} given twice", c.id);
        }
    }
    let specs = proof_specs_json();
    // A TOML literal string keeps the JSON readable; the compact JSON has no quote or newline to escape.
    let specs_toml = if specs.contains(['\'', '\n']) { q(&specs) } else { format!("'{specs}'") };
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "# Hermes 1.11 config for paychain, written by `paychaind ibc hermes-config`.")?;
    writeln!(w, "# Check it with: hermes --config <this file> config validate")?;
    writeln!(w)?;
    writeln!(w, "[global]\nlog_level = {}\n", q(&args.log_level))?;
    writeln!(w, "[mode.clients]\nenabled = true\nrefresh = true\nmisbehaviour = false\n")?;
    writeln!(w, "[mode.connections]\nenabled = true\n")?;
    writeln!(w, "[mode.channels]\nenabled = true\n")?;
    writeln!(
        w,
        "[mode.packets]\nenabled = true\nclear_interval = {}\nclear_on_start = true\ntx_confirmation = true\n",
        args.clear_interval
    )?;
    writeln!(w, "[rest]\nenabled = false\nhost = \"127.0.0.1\"\nport = 3000\n")?;
    writeln!(w, "[telemetry]\nenabled = false\nhost = \"127.0.0.1\"\nport = 3001\n")?;
    for c in &args.chains {
        writeln!(w, "[[chains]]")?;
        writeln!(w, "type = \"CosmosSdk\"")?;
        writeln!(w, "id = {}", q(&c.id))?;
        writeln!(w, "rpc_addr = {}", q(&format!("http://{}", c.rpc)))?;
        writeln!(w, "grpc_addr = {}", q(&format!("http://{}", c.grpc)))?;
        writeln!(
            w,
            "event_source = {{ mode = \"push\", url = {}, batch_delay = \"200ms\" }}",
            q(&format!("ws://{}/websocket", c.rpc))
        )?;
        writeln!(w, "rpc_timeout = \"10s\"")?;
        writeln!(w, "trusted_node = false")?;
        writeln!(w, "account_prefix = {}", q(&c.prefix))?;
        writeln!(w, "key_name = {}", q(&c.key))?;
        if let Some(dir) = &args.key_store {
            let dir = dir.to_str().context("--key-store is not UTF-8")?;
            writeln!(w, "key_store_type = \"Test\"")?;
            writeln!(w, "key_store_folder = {}", q(dir))?;
        }
        writeln!(w, "store_prefix = \"ibc\"")?;
        writeln!(w, "default_gas = 400000")?;
        writeln!(w, "max_gas = 4000000")?;
        let gas_price = c.gas_price.as_ref().unwrap_or(&args.gas_price);
        writeln!(w, "gas_price = {{ price = {:?}, denom = {} }}", gas_price.price, q(&gas_price.denom))?;
        writeln!(w, "gas_multiplier = 1.3")?;
        writeln!(w, "max_msg_num = 30")?;
        writeln!(w, "max_tx_size = 180000")?;
        writeln!(w, "clock_drift = \"5s\"")?;
        writeln!(w, "max_block_time = \"30s\"")?;
        writeln!(w, "trusting_period = {}", q(&args.trusting_period))?;
        writeln!(w, "trust_threshold = {{ numerator = \"2\", denominator = \"3\" }}")?;
        writeln!(w, "address_type = {{ derivation = \"cosmos\" }}")?;
        writeln!(w, "compat_mode = \"0.38\"")?;
        writeln!(w, "sequential_batch_tx = false")?;
        writeln!(w, "ccv_consumer_chain = false")?;
        writeln!(w, "memo_prefix = \"\"")?;
        if c.store == StoreKind::Jmt {
            writeln!(w, "# [ibc substore proof, main tree proof]: jmt::ics23_spec() twice")?;
            writeln!(w, "proof_specs = {specs_toml}")?;
        }
        writeln!(w)?;
    }
    Ok(out)
}

pub fn run(_ctx: &Ctx, cmd: IbcCmd) -> anyhow::Result<()> {
    match cmd {
        IbcCmd::ProofSpecs => println!("{}", proof_specs_json()),
        IbcCmd::HermesConfig(args) => {
            let config = hermes_config(&args)?;
            match &args.out {
                None => print!("{config}"),
                Some(path) => {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                    }
                    std::fs::write(path, &config).with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ics23::{HashOp, LengthOp, ProofSpec};

    /// Hermes's own type: `ibc_relayer_types::core::ics23_commitment::specs::ProofSpecs`
    /// is `#[derive(Deserialize)] struct ProofSpecs(Vec<ProofSpec>)` over
    /// `ibc_proto::ics23::ProofSpec`, which is `ics23::ProofSpec` (re-exported).
    /// Its config field is read with `serde_json::from_str` of the TOML string.
    #[derive(serde::Deserialize)]
    struct HermesProofSpecs(Vec<ProofSpec>);

    fn args(chains: &[&str]) -> HermesConfigArgs {
        HermesConfigArgs {
            chains: chains.iter().map(|c| parse_chain_spec(c).unwrap()).collect(),
            out: None,
            key_store: Some(PathBuf::from("/tmp/hermes keys")),
            log_level: "info".into(),
            clear_interval: 10,
            gas_price: parse_gas_price("0.025upay").unwrap(),
            trusting_period: "14days".into(),
        }
    }

    #[test]
    fn proof_specs_round_trip_through_hermes_types() {
        let json = proof_specs_json();
        assert!(json.contains(r#""prehashKeyBeforeComparison":true"#), "{json}");
        let parsed: HermesProofSpecs = serde_json::from_str(&json).unwrap();
        let specs = parsed.0;
        assert_eq!(specs, paychain_store::proof_specs());
        assert_eq!(specs.len(), 2);
        for spec in &specs {
            assert!(spec.prehash_key_before_comparison);
            let leaf = spec.leaf_spec.as_ref().unwrap();
            assert_eq!(leaf.hash, HashOp::Sha256 as i32);
            assert_eq!(leaf.prehash_key, HashOp::Sha256 as i32);
            assert_eq!(leaf.prehash_value, HashOp::Sha256 as i32);
            assert_eq!(leaf.length, LengthOp::NoPrefix as i32);
            assert_eq!(leaf.prefix, b"JMT::LeafNode");
            let inner = spec.inner_spec.as_ref().unwrap();
            assert_eq!(inner.hash, HashOp::Sha256 as i32);
            assert_eq!(inner.child_order, vec![0, 1]);
            assert_eq!(inner.child_size, 32);
            assert_eq!(inner.empty_child, b"SPARSE_MERKLE_PLACEHOLDER_HASH__");
            assert_eq!(spec.max_depth, 64);
        }
        // The encoding Hermes expects: enum names and base64 bytes.
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0]["leafSpec"]["hash"], "SHA256");
        assert!(v[0]["leafSpec"].get("length").is_none(), "NO_PREFIX is the default, omitted");
        assert_eq!(v[0]["leafSpec"]["prefix"], "Sk1UOjpMZWFmTm9kZQ==");
        assert_eq!(v[1]["prehashKeyBeforeComparison"], true);
    }

    #[test]
    fn config_has_every_chain_and_the_specs_survive_toml() {
        let a = args(&[
            "id=paychain-a-1,rpc=127.0.0.1:27100,grpc=http://127.0.0.1:27103",
            "id=paychain-b-1,rpc=tcp://127.0.0.1:27200/,grpc=127.0.0.1:27203,key=rly",
            "id=simd-1,rpc=127.0.0.1:26657,grpc=127.0.0.1:9090,prefix=cosmos,gas-price=0.01stake,store=iavl",
        ]);
        let text = hermes_config(&a).unwrap();
        let doc: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(doc["global"]["log_level"].as_str(), Some("info"));
        assert_eq!(doc["mode"]["packets"]["clear_interval"].as_integer(), Some(10));
        assert_eq!(doc["mode"]["packets"]["clear_on_start"].as_bool(), Some(true));
        assert_eq!(doc["mode"]["clients"]["refresh"].as_bool(), Some(true));
        assert_eq!(doc["rest"]["enabled"].as_bool(), Some(false));
        assert_eq!(doc["telemetry"]["enabled"].as_bool(), Some(false));
        let chains = doc["chains"].as_array().unwrap();
        assert_eq!(chains.len(), 3);
        let (ca, cb, simd) = (&chains[0], &chains[1], &chains[2]);
        assert_eq!(ca["id"].as_str(), Some("paychain-a-1"));
        assert_eq!(ca["rpc_addr"].as_str(), Some("http://127.0.0.1:27100"));
        assert_eq!(ca["grpc_addr"].as_str(), Some("http://127.0.0.1:27103"));
        assert_eq!(ca["event_source"]["url"].as_str(), Some("ws://127.0.0.1:27100/websocket"));
        assert_eq!(ca["key_name"].as_str(), Some(DEFAULT_KEY_NAME));
        assert_eq!(ca["key_store_folder"].as_str(), Some("/tmp/hermes keys"));
        assert_eq!(cb["rpc_addr"].as_str(), Some("http://127.0.0.1:27200"));
        assert_eq!(cb["key_name"].as_str(), Some("rly"));
        assert_eq!(cb["gas_price"]["price"].as_float(), Some(0.025));
        assert_eq!(cb["gas_price"]["denom"].as_str(), Some("upay"));
        assert_eq!(cb["compat_mode"].as_str(), Some("0.38"));
        assert_eq!(ca["account_prefix"].as_str(), Some("pay"));
        // The Cosmos SDK chain: its own prefix and gas price, and Hermes's default (IAVL) proof specs.
        assert_eq!(simd["account_prefix"].as_str(), Some("cosmos"));
        assert_eq!(simd["gas_price"]["price"].as_float(), Some(0.01));
        assert_eq!(simd["gas_price"]["denom"].as_str(), Some("stake"));
        assert!(simd.get("proof_specs").is_none(), "an IAVL chain keeps Hermes's default specs: {simd}");
        for c in &chains[..2] {
            let specs: HermesProofSpecs = serde_json::from_str(c["proof_specs"].as_str().unwrap()).unwrap();
            assert_eq!(specs.0, paychain_store::proof_specs());
            assert!(specs.0.iter().all(|s| s.prehash_key_before_comparison));
        }
    }

    #[test]
    fn bad_chain_specs_are_rejected() {
        for bad in [
            "rpc=1.2.3.4:1,grpc=1.2.3.4:2",
            "id=x,grpc=1.2.3.4:2",
            "id=x,rpc=1.2.3.4,grpc=1.2.3.4:2",
            "id=x,rpc=1.2.3.4:0,grpc=1.2.3.4:2",
            "id=x,rpc=1.2.3.4:1,grpc=1.2.3.4:2,foo=1",
            "id=x,id=y,rpc=1.2.3.4:1,grpc=1.2.3.4:2",
            "id=bad id,rpc=1.2.3.4:1,grpc=1.2.3.4:2",
            "id=x,rpc=1.2.3.4:1,grpc=1.2.3.4:2,store=avl",
            "id=x,rpc=1.2.3.4:1,grpc=1.2.3.4:2,prefix=Cosmos",
            "id=x,rpc=1.2.3.4:1,grpc=1.2.3.4:2,gas-price=stake",
        ] {
            assert!(parse_chain_spec(bad).is_err(), "{bad}");
        }
        assert!(parse_gas_price("upay").is_err());
        assert!(parse_gas_price("0.025").is_err());
        assert_eq!(parse_gas_price("1upay").unwrap(), GasPrice { price: 1.0, denom: "upay".into() });
        let dup = args(&["id=a,rpc=h:1,grpc=h:2", "id=a,rpc=h:3,grpc=h:4"]);
        assert!(hermes_config(&dup).is_err());
    }
}
