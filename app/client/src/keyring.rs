//! Local keys: HD derivation from BIP-39 mnemonics and an on-disk keyring.
//!
//! Two backends, one directory each under the home:
//! - `file` (`<home>/keyring-file/`): the secret is encrypted with a key derived
//!   from a passphrase by scrypt, then sealed with XChaCha20-Poly1305.
//! - `test` (`<home>/keyring-test/`): the secret is stored in clear, for scripts
//!   and the dev chain only.
//!
//! Each key is one JSON file `<name>.json`. The public part (name, address,
//! public key) is kept in clear in both backends so that `keys list` and
//! `keys show` never need the passphrase; only signing does.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context as _};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use paychain_framework::Address;
use rand::RngCore as _;
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// The Cosmos HD path (coin type 118), first account, first address.
pub const DEFAULT_HD_PATH: &str = "m/44'/118'/0'/0/0";

/// scrypt cost used for new keys: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s).
/// Lower than scrypt's recommended 2^17 so scripted signing stays quick; the
/// parameters are stored per key so they can be raised later.
pub const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// Refuse key files asking for more than 2^20 (1 GiB of memory at r = 8): a
/// tampered file must not be able to exhaust the machine.
const MAX_SCRYPT_LOG_N: u8 = 20;

/// Shortest passphrase accepted for a new key in the file backend (as the SDK).
pub const MIN_PASSPHRASE_LEN: usize = 8;

const CIPHER_NAME: &str = "scrypt-xchacha20poly1305";
/// `algo` of an offline multisig key record (the SDK keyring's type "multi").
const MULTISIG_ALGO: &str = "multi";

fn prost_types_any(type_url: &str, value: Vec<u8>) -> cosmos_sdk_proto::Any {
    cosmos_sdk_proto::Any { type_url: type_url.to_string(), value }
}
const RECORD_VERSION: u32 = 1;

/// Where keys are kept and how their secrets are protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    File,
    Test,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::File => "file",
            Backend::Test => "test",
        }
    }

    /// Whether secrets in this backend are encrypted (and so need a passphrase).
    pub fn needs_passphrase(self) -> bool {
        self == Backend::File
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "file" => Ok(Backend::File),
            "test" => Ok(Backend::Test),
            other => bail!("unknown keyring backend {other:?}: expected \"file\" or \"test\""),
        }
    }
}

// ---------------------------------------------------------------------------
// Key derivation
// ---------------------------------------------------------------------------

/// Normalizes a mnemonic as users type it (case, repeated spaces, newlines)
/// and checks its words and checksum.
pub fn parse_mnemonic(phrase: &str) -> anyhow::Result<bip39::Mnemonic> {
    let words: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        bail!("the mnemonic is empty");
    }
    let normalized = Zeroizing::new(words.join(" "));
    bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normalized).map_err(|e| match e {
        bip39::Error::BadWordCount(n) => {
            anyhow!("invalid mnemonic: {n} words; a BIP-39 mnemonic has 12, 15, 18, 21 or 24 words")
        }
        bip39::Error::UnknownWord(i) => {
            anyhow!("invalid mnemonic: word {} is not in the BIP-39 English word list", i + 1)
        }
        bip39::Error::InvalidChecksum => {
            anyhow!("invalid mnemonic: checksum mismatch (a word is wrong or out of order)")
        }
        other => anyhow!("invalid mnemonic: {other}"),
    })
}

/// A fresh random 24-word mnemonic (256 bits of OS entropy).
pub fn generate_mnemonic() -> Zeroizing<String> {
    let mut entropy = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(entropy.as_mut());
    let m = bip39::Mnemonic::from_entropy(entropy.as_ref()).expect("32 bytes is a valid BIP-39 entropy length");
    Zeroizing::new(m.to_string())
}

/// Checks an HD derivation path such as `m/44'/118'/0'/0/0`.
pub fn parse_hd_path(path: &str) -> anyhow::Result<bip32::DerivationPath> {
    bip32::DerivationPath::from_str(path)
        .map_err(|_| anyhow!("invalid HD path {path:?}: expected the form m/44'/118'/0'/0/0"))
}

/// The secp256k1 private key at `hd_path` of the wallet `mnemonic` (empty BIP-39 passphrase).
pub fn derive_private_key(mnemonic: &str, hd_path: &str) -> anyhow::Result<SecretKey> {
    let m = parse_mnemonic(mnemonic)?;
    let path = parse_hd_path(hd_path)?;
    let seed = Zeroizing::new(m.to_seed_normalized(""));
    let xprv =
        bip32::XPrv::derive_from_path(seed.as_ref(), &path).map_err(|e| anyhow!("deriving key at {hd_path}: {e}"))?;
    let bytes = Zeroizing::new(xprv.private_key().to_bytes());
    SecretKey::from_slice(bytes.as_slice()).context("derived key is not a valid secp256k1 key")
}

/// The 33-byte compressed public key of `sk`.
pub fn compressed_pubkey(sk: &SecretKey) -> [u8; 33] {
    PublicKey::from_secret_key(SECP256K1, sk).serialize()
}

/// The account address (`pay1…`) of `sk`.
pub fn address_of(sk: &SecretKey) -> Address {
    Address::from_secp256k1_pubkey(&compressed_pubkey(sk))
}

/// Parses a raw private key given as 64 hex digits.
pub fn parse_private_key_hex(s: &str) -> anyhow::Result<SecretKey> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = Zeroizing::new(hex::decode(s).map_err(|_| anyhow!("private key is not hex"))?);
    if bytes.len() != 32 {
        bail!("private key must be 32 bytes (64 hex digits), got {} bytes", bytes.len());
    }
    SecretKey::from_slice(&bytes).map_err(|_| anyhow!("private key is not a valid secp256k1 scalar"))
}

// ---------------------------------------------------------------------------
// Secrets and their encryption
// ---------------------------------------------------------------------------

/// What a key's secret is: a mnemonic with its path (re-derivable, so it can
/// be shown again) or a bare private key (imported).
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Secret {
    Mnemonic { mnemonic: String, hd_path: String },
    PrivateKey { hex: String },
}

impl Secret {
    pub fn mnemonic(phrase: &str, hd_path: &str) -> anyhow::Result<Self> {
        let m = parse_mnemonic(phrase)?;
        parse_hd_path(hd_path)?;
        Ok(Secret::Mnemonic { mnemonic: m.to_string(), hd_path: hd_path.to_string() })
    }

    pub fn private_key(sk: &SecretKey) -> Self {
        Secret::PrivateKey { hex: hex::encode(sk.secret_bytes()) }
    }

    pub fn to_private_key(&self) -> anyhow::Result<SecretKey> {
        match self {
            Secret::Mnemonic { mnemonic, hd_path } => derive_private_key(mnemonic, hd_path),
            Secret::PrivateKey { hex } => parse_private_key_hex(hex),
        }
    }

    fn hd_path(&self) -> Option<String> {
        match self {
            Secret::Mnemonic { hd_path, .. } => Some(hd_path.clone()),
            Secret::PrivateKey { .. } => None,
        }
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        match self {
            Secret::Mnemonic { mnemonic, .. } => mnemonic.zeroize(),
            Secret::PrivateKey { hex } => hex.zeroize(),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How a secret sits in its key file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum StoredSecret {
    /// Test backend: the secret in clear.
    Plain { secret: serde_json::Value },
    /// An offline key (a multisig): only its public key is kept.
    Offline,
    /// File backend.
    Encrypted {
        cipher: String,
        scrypt_log_n: u8,
        scrypt_r: u32,
        scrypt_p: u32,
        salt: String,
        nonce: String,
        ciphertext: String,
    },
}

fn scrypt_key(passphrase: &str, salt: &[u8], log_n: u8, r: u32, p: u32) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    if log_n > MAX_SCRYPT_LOG_N || r == 0 || r > 32 || p == 0 || p > 16 {
        bail!("key file asks for unreasonable scrypt parameters (log_n={log_n}, r={r}, p={p})");
    }
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| anyhow!("scrypt parameters: {e}"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, key.as_mut()).map_err(|e| anyhow!("scrypt: {e}"))?;
    Ok(key)
}

/// Seals `plaintext` under `passphrase`. `aad` binds the ciphertext to its
/// record (the address), so a secret moved into another key's file fails to open.
fn encrypt(plaintext: &[u8], passphrase: &str, aad: &[u8]) -> anyhow::Result<StoredSecret> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = scrypt_key(passphrase, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| anyhow!("encryption failed"))?;
    Ok(StoredSecret::Encrypted {
        cipher: CIPHER_NAME.to_string(),
        scrypt_log_n: SCRYPT_LOG_N,
        scrypt_r: SCRYPT_R,
        scrypt_p: SCRYPT_P,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

// ---------------------------------------------------------------------------
// Key records
// ---------------------------------------------------------------------------

/// The public description of a key, as `keys show` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    pub address: Address,
    /// 33-byte compressed secp256k1 public key.
    pub pub_key: Vec<u8>,
    /// The HD path the key was derived at (`None` for imported private keys).
    pub hd_path: Option<String>,
    /// Set for an offline multisig key (`keys add --multisig`); `pub_key` is then empty.
    pub multisig: Option<paychain_auth::PubKey>,
}

impl KeyInfo {
    pub fn pub_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.pub_key)
    }

    /// The SDK's `keys show --output json` shape.
    pub fn to_json(&self) -> serde_json::Value {
        if let Some(m) = &self.multisig {
            return serde_json::json!({
                "name": self.name,
                "type": "multi",
                "address": self.address.to_string(),
                "pubkey": m.to_json().to_string(),
            });
        }
        serde_json::json!({
            "name": self.name,
            "type": "local",
            "address": self.address.to_string(),
            "pubkey": serde_json::json!({
                "@type": "/cosmos.crypto.secp256k1.PubKey",
                "key": self.pub_key_base64(),
            }).to_string(),
        })
    }
}

/// The on-disk form of one key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRecord {
    version: u32,
    name: String,
    address: String,
    algo: String,
    /// Base64 of the compressed public key.
    pub_key: String,
    hd_path: Option<String>,
    secret: StoredSecret,
}

impl KeyRecord {
    fn info(&self, file: &Path) -> anyhow::Result<KeyInfo> {
        let bad = |what: &str| anyhow!("key file {} is corrupt: {what}", file.display());
        if self.version != RECORD_VERSION {
            return Err(bad(&format!("unsupported version {}", self.version)));
        }
        let pub_key = base64::engine::general_purpose::STANDARD
            .decode(&self.pub_key)
            .map_err(|_| bad("pub_key is not base64"))?;
        if self.algo == MULTISIG_ALGO {
            // pub_key holds the protobuf LegacyAminoPubKey.
            let any = prost_types_any(paychain_auth::pubkey::MULTISIG_PUBKEY_TYPE_URL, pub_key);
            let key = paychain_auth::PubKey::from_any(&any).map_err(|e| bad(&e.log))?;
            if key.address().to_string() != self.address {
                return Err(bad("address does not match pub_key"));
            }
            if !matches!(self.secret, StoredSecret::Offline) {
                return Err(bad("a multisig key cannot hold a secret"));
            }
            return Ok(KeyInfo {
                name: self.name.clone(),
                address: key.address(),
                pub_key: Vec::new(),
                hd_path: None,
                multisig: Some(key),
            });
        }
        if self.algo != "secp256k1" {
            return Err(bad(&format!("unsupported algorithm {:?}", self.algo)));
        }
        PublicKey::from_slice(&pub_key).map_err(|_| bad("pub_key is not a secp256k1 key"))?;
        let address = Address::from_secp256k1_pubkey(&pub_key);
        if address.to_string() != self.address {
            return Err(bad("address does not match pub_key"));
        }
        Ok(KeyInfo { name: self.name.clone(), address, pub_key, hd_path: self.hd_path.clone(), multisig: None })
    }
}

/// Key names become file names, so they are restricted to a safe alphabet.
pub fn validate_key_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if !ok {
        bail!("invalid key name {name:?}: use 1-64 characters from A-Z a-z 0-9 _ . - (not starting with '.')");
    }
    Ok(())
}

/// A directory of keys in one backend.
pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
}

impl Keyring {
    /// The keyring of `backend` under `home` (`<home>/keyring-<backend>`).
    /// Nothing is created until a key is added.
    pub fn open(home: &Path, backend: Backend) -> Self {
        Self { dir: home.join(format!("keyring-{backend}")), backend }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    pub fn exists(&self, name: &str) -> bool {
        validate_key_name(name).is_ok() && self.path_of(name).exists()
    }

    fn read_record(&self, name: &str) -> anyhow::Result<(KeyRecord, PathBuf)> {
        validate_key_name(name)?;
        let path = self.path_of(name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("key {name:?} not found in the {} keyring ({})", self.backend, self.dir.display())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let record: KeyRecord =
            serde_json::from_str(&text).with_context(|| format!("key file {} is corrupt", path.display()))?;
        if record.name != name {
            bail!("key file {} is corrupt: it names key {:?}", path.display(), record.name);
        }
        Ok((record, path))
    }

    /// The public description of key `name`.
    pub fn get(&self, name: &str) -> anyhow::Result<KeyInfo> {
        let (record, path) = self.read_record(name)?;
        record.info(&path)
    }

    /// All keys, sorted by name.
    pub fn list(&self) -> anyhow::Result<Vec<KeyInfo>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.dir.display())),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", self.dir.display()))?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else { continue };
            if validate_key_name(name).is_ok() {
                names.push(name.to_string());
            }
        }
        names.sort();
        names.iter().map(|n| self.get(n)).collect()
    }

    /// Finds a key by its address.
    pub fn find_by_address(&self, address: &Address) -> anyhow::Result<Option<KeyInfo>> {
        Ok(self.list()?.into_iter().find(|k| &k.address == address))
    }

    /// Stores a new key. `passphrase` is required by the file backend and
    /// ignored by the test backend. Fails if the name is taken.
    pub fn add(&self, name: &str, secret: &Secret, passphrase: Option<&str>) -> anyhow::Result<KeyInfo> {
        validate_key_name(name)?;
        if self.path_of(name).exists() {
            bail!("key {name:?} already exists in the {} keyring; delete it first or pick another name", self.backend);
        }
        let sk = secret.to_private_key()?;
        let pub_key = compressed_pubkey(&sk);
        let address = Address::from_secp256k1_pubkey(&pub_key);
        let plaintext = Zeroizing::new(serde_json::to_vec(secret)?);
        let stored = match self.backend {
            Backend::Test => StoredSecret::Plain { secret: serde_json::from_slice(&plaintext)? },
            Backend::File => {
                let pass = passphrase.ok_or_else(|| anyhow!("the file keyring needs a passphrase"))?;
                if pass.chars().count() < MIN_PASSPHRASE_LEN {
                    bail!("passphrase must be at least {MIN_PASSPHRASE_LEN} characters");
                }
                encrypt(&plaintext, pass, address.to_string().as_bytes())?
            }
        };
        let record = KeyRecord {
            version: RECORD_VERSION,
            name: name.to_string(),
            address: address.to_string(),
            algo: "secp256k1".to_string(),
            pub_key: base64::engine::general_purpose::STANDARD.encode(pub_key),
            hd_path: secret.hd_path(),
            secret: stored,
        };
        let text = Zeroizing::new(serde_json::to_string_pretty(&record)?);
        write_private_file(&self.dir, &self.path_of(name), text.as_bytes())?;
        Ok(KeyInfo {
            name: name.to_string(),
            address,
            pub_key: pub_key.to_vec(),
            hd_path: secret.hd_path(),
            multisig: None,
        })
    }

    /// Stores an offline multisig key (`keys add NAME --multisig k1,k2 --multisig-threshold 2`).
    /// Fails if the name is taken or `key` is not a multisig.
    pub fn add_multisig(&self, name: &str, key: &paychain_auth::PubKey) -> anyhow::Result<KeyInfo> {
        validate_key_name(name)?;
        if self.path_of(name).exists() {
            bail!("key {name:?} already exists in the {} keyring; delete it first or pick another name", self.backend);
        }
        if !matches!(key, paychain_auth::PubKey::Multisig(_)) {
            bail!("not a multisig key");
        }
        let address = key.address();
        let record = KeyRecord {
            version: RECORD_VERSION,
            name: name.to_string(),
            address: address.to_string(),
            algo: MULTISIG_ALGO.to_string(),
            pub_key: base64::engine::general_purpose::STANDARD.encode(key.to_any().value),
            hd_path: None,
            secret: StoredSecret::Offline,
        };
        let text = serde_json::to_string_pretty(&record)?;
        write_private_file(&self.dir, &self.path_of(name), text.as_bytes())?;
        Ok(KeyInfo { name: name.to_string(), address, pub_key: Vec::new(), hd_path: None, multisig: Some(key.clone()) })
    }

    /// Opens key `name`'s secret (decrypting it in the file backend) and checks
    /// it still matches the public key on record.
    pub fn secret(&self, name: &str, passphrase: Option<&str>) -> anyhow::Result<Secret> {
        let (record, path) = self.read_record(name)?;
        let info = record.info(&path)?;
        let secret: Secret = match (&record.secret, self.backend) {
            (StoredSecret::Plain { secret }, Backend::Test) => serde_json::from_value(secret.clone())
                .with_context(|| format!("key file {} is corrupt", path.display()))?,
            (
                StoredSecret::Encrypted { cipher, scrypt_log_n, scrypt_r, scrypt_p, salt, nonce, ciphertext },
                Backend::File,
            ) => {
                if cipher != CIPHER_NAME {
                    bail!("key file {} uses unsupported cipher {cipher:?}", path.display());
                }
                let corrupt = || anyhow!("key file {} is corrupt", path.display());
                let salt = hex::decode(salt).map_err(|_| corrupt())?;
                let nonce = hex::decode(nonce).map_err(|_| corrupt())?;
                let ciphertext = hex::decode(ciphertext).map_err(|_| corrupt())?;
                if nonce.len() != 24 {
                    return Err(corrupt());
                }
                let pass = passphrase.ok_or_else(|| anyhow!("key {name:?} is encrypted: a passphrase is needed"))?;
                let key = scrypt_key(pass, &salt, *scrypt_log_n, *scrypt_r, *scrypt_p)?;
                let cipher = XChaCha20Poly1305::new(key.as_ref().into());
                let plaintext = Zeroizing::new(
                    cipher
                        .decrypt(
                            XNonce::from_slice(&nonce),
                            Payload { msg: &ciphertext, aad: record.address.as_bytes() },
                        )
                        .map_err(|_| anyhow!("wrong passphrase for key {name:?} (or its key file was altered)"))?,
                );
                serde_json::from_slice(&plaintext).map_err(|_| corrupt())?
            }
            (StoredSecret::Offline, _) => {
                bail!("key {name:?} is an offline multisig key: it cannot sign; sign with its member keys (tx sign --multisig) and combine them with tx multisign")
            }
            (StoredSecret::Plain { .. }, Backend::File) => {
                bail!("key file {} holds an unencrypted secret, which the file keyring refuses", path.display())
            }
            (StoredSecret::Encrypted { .. }, Backend::Test) => {
                bail!("key file {} is encrypted; use --keyring-backend file", path.display())
            }
        };
        let sk = secret.to_private_key()?;
        if compressed_pubkey(&sk).as_slice() != info.pub_key.as_slice() {
            bail!("key file {} is corrupt: its secret does not match its public key", path.display());
        }
        Ok(secret)
    }

    /// Key `name`'s private key, ready to sign.
    pub fn private_key(&self, name: &str, passphrase: Option<&str>) -> anyhow::Result<SecretKey> {
        self.secret(name, passphrase)?.to_private_key()
    }

    /// Removes key `name`.
    pub fn delete(&self, name: &str) -> anyhow::Result<()> {
        let (_, path) = self.read_record(name)?;
        fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))
    }
}

/// Writes a file only its owner can read, atomically (temp file + rename), so
/// a crash never leaves a half-written key.
pub fn write_private_file(dir: &Path, path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn known_mnemonic_gives_known_address() {
        // The standard BIP-39 test vector at m/44'/118'/0'/0/0, as every Cosmos wallet derives it.
        let sk = derive_private_key(ABANDON, DEFAULT_HD_PATH).unwrap();
        assert_eq!(address_of(&sk).to_bech32_with_prefix("cosmos"), "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4");
        assert!(address_of(&sk).to_string().starts_with("pay1"));
        // Sloppy spacing and case are normalized.
        let messy = format!("  {}\n", ABANDON.to_uppercase().replace(' ', "   "));
        assert_eq!(derive_private_key(&messy, DEFAULT_HD_PATH).unwrap(), sk);
        // Another path gives another key.
        assert_ne!(derive_private_key(ABANDON, "m/44'/118'/0'/0/1").unwrap(), sk);
    }

    #[test]
    fn bad_mnemonics_and_paths_are_rejected() {
        let err = |s: &str| parse_mnemonic(s).unwrap_err().to_string();
        assert!(err("").contains("empty"));
        assert!(err("abandon abandon").contains("2 words"));
        assert!(err(&ABANDON.replace("about", "zzzz")).contains("word 12"));
        assert!(err(&ABANDON.replace("about", "abandon")).contains("checksum"));
        assert!(parse_hd_path("m/44'/118'/0'/0/x").is_err());
        assert!(derive_private_key(ABANDON, "44/118").is_err());
    }

    #[test]
    fn generated_mnemonics_are_24_valid_words() {
        let m = generate_mnemonic();
        assert_eq!(m.split(' ').count(), 24);
        derive_private_key(&m, DEFAULT_HD_PATH).unwrap();
        assert_ne!(*m, *generate_mnemonic());
    }

    #[test]
    fn file_backend_round_trip_and_wrong_passphrase() {
        let home = tempfile::tempdir().unwrap();
        let kr = Keyring::open(home.path(), Backend::File);
        let secret = Secret::mnemonic(ABANDON, DEFAULT_HD_PATH).unwrap();
        assert!(kr.add("alice", &secret, None).is_err(), "file backend needs a passphrase");
        assert!(kr.add("alice", &secret, Some("short")).unwrap_err().to_string().contains("at least"));
        let info = kr.add("alice", &secret, Some("correct horse")).unwrap();
        assert_eq!(info.address.to_bech32_with_prefix("cosmos"), "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4");

        // The mnemonic is not on disk in clear; the file is private.
        let path = home.path().join("keyring-file/alice.json");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("abandon"));
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

        // Public data needs no passphrase; the secret does, and only the right one.
        assert_eq!(kr.get("alice").unwrap(), info);
        let sk = kr.private_key("alice", Some("correct horse")).unwrap();
        assert_eq!(address_of(&sk), info.address);
        let err = kr.private_key("alice", Some("wrong horse")).unwrap_err().to_string();
        assert!(err.contains("wrong passphrase"), "{err}");
        assert!(kr.private_key("alice", None).is_err());

        // Names are unique; listing and deleting work.
        assert!(kr.add("alice", &secret, Some("correct horse")).unwrap_err().to_string().contains("already exists"));
        let sk2 = parse_private_key_hex(&"11".repeat(32)).unwrap();
        kr.add("bob", &Secret::private_key(&sk2), Some("another pass")).unwrap();
        let names: Vec<_> = kr.list().unwrap().into_iter().map(|k| k.name).collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(kr.find_by_address(&address_of(&sk2)).unwrap().unwrap().name, "bob");
        kr.delete("alice").unwrap();
        assert!(kr.get("alice").unwrap_err().to_string().contains("not found"));
        assert!(kr.delete("alice").is_err());
    }

    #[test]
    fn tampered_ciphertext_fails_to_open() {
        let home = tempfile::tempdir().unwrap();
        let kr = Keyring::open(home.path(), Backend::File);
        kr.add("k", &Secret::mnemonic(ABANDON, DEFAULT_HD_PATH).unwrap(), Some("passphrase")).unwrap();
        let path = home.path().join("keyring-file/k.json");
        let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let ct = v["secret"]["ciphertext"].as_str().unwrap().to_string();
        let flipped = format!("{}{}", if &ct[..1] == "0" { "1" } else { "0" }, &ct[1..]);
        v["secret"]["ciphertext"] = flipped.into();
        std::fs::write(&path, v.to_string()).unwrap();
        assert!(kr.private_key("k", Some("passphrase")).is_err());
        // Absurd scrypt costs are refused rather than attempted.
        v["secret"]["scrypt_log_n"] = 40.into();
        std::fs::write(&path, v.to_string()).unwrap();
        assert!(kr.private_key("k", Some("passphrase")).unwrap_err().to_string().contains("scrypt"));
    }

    #[test]
    fn test_backend_is_plain_and_needs_no_passphrase() {
        let home = tempfile::tempdir().unwrap();
        let kr = Keyring::open(home.path(), Backend::Test);
        let info = kr.add("dev", &Secret::mnemonic(ABANDON, DEFAULT_HD_PATH).unwrap(), None).unwrap();
        let sk = kr.private_key("dev", None).unwrap();
        assert_eq!(address_of(&sk), info.address);
        let secret = kr.secret("dev", None).unwrap();
        match &secret {
            Secret::Mnemonic { mnemonic, hd_path } => {
                assert_eq!(mnemonic, ABANDON);
                assert_eq!(hd_path, DEFAULT_HD_PATH);
            }
            other => panic!("unexpected {other:?}"),
        }
        // The backends do not read each other's files.
        let file_kr = Keyring::open(home.path(), Backend::File);
        assert!(file_kr.get("dev").is_err());
    }

    #[test]
    fn key_names_are_checked() {
        for bad in ["", ".hidden", "a/b", "../x", "with space", &"x".repeat(65)] {
            assert!(validate_key_name(bad).is_err(), "{bad:?}");
        }
        for good in ["dev", "alice-1", "Bob_2.old"] {
            validate_key_name(good).unwrap();
        }
        let home = tempfile::tempdir().unwrap();
        let kr = Keyring::open(home.path(), Backend::Test);
        assert!(kr.get("../etc/passwd").is_err());
        assert!(parse_private_key_hex("zz").is_err());
        assert!(parse_private_key_hex("00").is_err());
        assert!(parse_private_key_hex(&"00".repeat(32)).is_err(), "zero is not a valid key");
    }
}
