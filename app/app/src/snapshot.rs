//! State-sync snapshots (CometBFT's ListSnapshots / LoadSnapshotChunk / OfferSnapshot /
//! ApplySnapshotChunk), format 1.
//!
//! # Format 1
//!
//! The *stream* serializes every leaf of the state at height `H`
//! ([`MerkleStore::export`]): for each substore in name order, empty ones included,
//! `0x01 varint(len) name`, then for each of its leaves in key order
//! `0x02 varint(len) key varint(len) value`; then `0x00`. Varints are unsigned LEB128.
//!
//! Chunk `i` is bytes `[i * C, (i + 1) * C)` of the stream (the last one shorter), `C` =
//! app.toml `snapshot_chunk_bytes`. The *metadata* is, big-endian:
//! `format u32 | height u64 | app_hash [32] | C u32 | stream length u64 | n u32 |
//! sha256(chunk 0..n) [32 each]`, and `snapshot.hash = sha256(metadata)`. Everything is a
//! function of the state and `C`, so nodes with the same `C` serve byte-identical snapshots
//! and CometBFT can fetch chunks from any of them.
//!
//! # Trust
//!
//! Only OfferSnapshot's `app_hash` is trusted (light-client verified). Metadata is
//! self-consistent or REJECTed; each chunk must match its metadata hash (else RETRY: refetch
//! it, reject its sender); the restored state must produce the trusted app hash, which is
//! checked before anything is written (else REJECT_SNAPSHOT, the store stays empty).
//!
//! # On disk
//!
//! `<dir>/<height>/metadata` and `<dir>/<height>/<i>`, written under `<dir>/.tmp-<height>`,
//! fsynced, then renamed into place: a crash never leaves a listed half snapshot (leftover
//! `.tmp-*`/`.del-*` directories are removed at start).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{bail, Context as _};
use parking_lot::Mutex;
use paychain_store::{Exporter, Importer, MerkleStore, StoreError};
use sha2::{Digest, Sha256};
use tendermint_proto::v0_38::abci::{
    self as pb, response_apply_snapshot_chunk::Result as ApplyResult, response_offer_snapshot::Result as OfferResult,
};

/// The only snapshot format this node produces and restores.
pub const FORMAT: u32 = 1;
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;
/// Small chunks only make sense in tests; below this the metadata outgrows the chunks.
pub const MIN_CHUNK_BYTES: usize = 64;
/// CometBFT drops chunk messages over 16 MB (16e6 bytes); leave room for the envelope.
pub const MAX_CHUNK_BYTES: usize = 15 << 20;
/// CometBFT drops snapshot messages over 4 MB, and the metadata holds 32 bytes per chunk.
const MAX_CHUNKS: u32 = 100_000;
/// Largest name, key or value a stream may declare: bounds what a restore buffers.
const MAX_FIELD_BYTES: u64 = 64 << 20;

const METADATA_FILE: &str = "metadata";
const TMP_PREFIX: &str = ".tmp-";
const DEL_PREFIX: &str = ".del-";

const TAG_END: u8 = 0;
const TAG_SUBSTORE: u8 = 1;
const TAG_LEAF: u8 = 2;

/// State-sync snapshots (what app.toml's `snapshot_*` settings set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotOptions {
    /// Take a snapshot after committing every multiple of this height (0 = off).
    pub interval: u64,
    /// How many of the newest snapshots to keep (at least 1).
    pub keep_recent: u32,
    /// Chunk size in bytes; nodes serving the same snapshot must agree on it.
    pub chunk_bytes: usize,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        Self { interval: 0, keep_recent: 2, chunk_bytes: DEFAULT_CHUNK_BYTES }
    }
}

/// Checks the snapshot options (errors name app.toml's fields).
pub fn validate_options(options: &SnapshotOptions) -> anyhow::Result<()> {
    if !(MIN_CHUNK_BYTES..=MAX_CHUNK_BYTES).contains(&options.chunk_bytes) {
        bail!("snapshot_chunk_bytes: must be between {MIN_CHUNK_BYTES} and {MAX_CHUNK_BYTES}");
    }
    if options.keep_recent == 0 {
        bail!("snapshot_keep_recent: must be at least 1");
    }
    Ok(())
}

/// Where `App::open` keeps snapshots for a store at `db_path`: beside it for
/// the node layout (`<home>/data/application.db` → `<home>/data/snapshots`), else inside it
/// (RocksDB ignores files it does not know), so a store in a temp dir keeps its snapshots there.
pub fn snapshot_dir_for(db_path: &Path) -> PathBuf {
    match db_path.parent() {
        Some(parent) if db_path.file_name().is_some_and(|n| n == "application.db") => parent.join("snapshots"),
        _ => db_path.join("snapshots"),
    }
}

/// Decoded format-1 metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub height: u64,
    pub app_hash: [u8; 32],
    pub chunk_bytes: u32,
    pub total_bytes: u64,
    pub chunk_hashes: Vec<[u8; 32]>,
}

impl Metadata {
    const HEADER: usize = 4 + 8 + 32 + 4 + 8 + 4;

    pub fn chunks(&self) -> u32 {
        // At most MAX_CHUNKS (checked by `decode` and when writing).
        self.chunk_hashes.len() as u32
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::HEADER + 32 * self.chunk_hashes.len());
        out.extend_from_slice(&FORMAT.to_be_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.app_hash);
        out.extend_from_slice(&self.chunk_bytes.to_be_bytes());
        out.extend_from_slice(&self.total_bytes.to_be_bytes());
        out.extend_from_slice(&self.chunks().to_be_bytes());
        for h in &self.chunk_hashes {
            out.extend_from_slice(h);
        }
        out
    }

    /// Decodes and checks internal consistency (sizes, counts); says what is wrong.
    pub fn decode(b: &[u8]) -> Result<Self, String> {
        if b.len() < Self::HEADER {
            return Err(format!("metadata of {} bytes is shorter than its header", b.len()));
        }
        let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let format = u32_at(0);
        if format != FORMAT {
            return Err(format!("metadata of format {format}"));
        }
        let height = u64_at(4);
        let app_hash: [u8; 32] = b[12..44].try_into().expect("32 bytes");
        let chunk_bytes = u32_at(44);
        let total_bytes = u64_at(48);
        let n = u32_at(56);
        if height == 0 {
            return Err("height 0".into());
        }
        if chunk_bytes == 0 || chunk_bytes as usize > MAX_CHUNK_BYTES {
            return Err(format!("chunk size {chunk_bytes} out of range"));
        }
        if n == 0 || n > MAX_CHUNKS {
            return Err(format!("{n} chunks (must be 1..={MAX_CHUNKS})"));
        }
        if b.len() != Self::HEADER + 32 * n as usize {
            return Err(format!("metadata of {} bytes for {n} chunks", b.len()));
        }
        // Every chunk but the last is full, the last is not empty.
        let full = u64::from(n - 1) * u64::from(chunk_bytes);
        if total_bytes <= full || total_bytes > full + u64::from(chunk_bytes) {
            return Err(format!("stream of {total_bytes} bytes does not make {n} chunks of {chunk_bytes}"));
        }
        let chunk_hashes = b[Self::HEADER..].chunks_exact(32).map(|c| c.try_into().expect("32 bytes")).collect();
        Ok(Self { height, app_hash, chunk_bytes, total_bytes, chunk_hashes })
    }

    /// The ABCI view of a snapshot with this metadata.
    pub fn to_snapshot(&self) -> pb::Snapshot {
        let metadata = self.encode();
        pb::Snapshot {
            height: self.height,
            format: FORMAT,
            chunks: self.chunks(),
            hash: sha256(&metadata).to_vec().into(),
            metadata: metadata.into(),
        }
    }
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `*pos`: `Ok(None)` if `b` ends first (more bytes needed).
fn get_varint(b: &[u8], pos: &mut usize) -> Result<Option<u64>, String> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&byte) = b.get(*pos + i) else { return Ok(None) };
        if i == 9 && byte > 1 {
            return Err("varint overflows u64".into());
        }
        v |= u64::from(byte & 0x7F) << (7 * i);
        if byte < 0x80 {
            *pos += i + 1;
            return Ok(Some(v));
        }
    }
    Err("varint longer than 10 bytes".into())
}

/// Reads `varint(len) bytes` at `*pos`: `Ok(None)` if incomplete (then `*pos` is unchanged).
fn get_field<'a>(b: &'a [u8], pos: &mut usize) -> Result<Option<&'a [u8]>, String> {
    let mut p = *pos;
    let Some(len) = get_varint(b, &mut p)? else { return Ok(None) };
    if len > MAX_FIELD_BYTES {
        return Err(format!("field of {len} bytes exceeds the limit of {MAX_FIELD_BYTES}"));
    }
    let len = len as usize;
    let Some(field) = b.get(p..p + len) else { return Ok(None) };
    *pos = p + len;
    Ok(Some(field))
}

/// Cuts the stream into chunk files, hashing each.
struct ChunkWriter {
    dir: PathBuf,
    chunk_bytes: usize,
    buf: Vec<u8>,
    hashes: Vec<[u8; 32]>,
    total: u64,
}

impl ChunkWriter {
    fn new(dir: PathBuf, chunk_bytes: usize) -> Self {
        Self { dir, chunk_bytes, buf: Vec::new(), hashes: Vec::new(), total: 0 }
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.buf.extend_from_slice(bytes);
        while self.buf.len() >= self.chunk_bytes {
            self.flush(self.chunk_bytes)?;
        }
        Ok(())
    }

    fn flush(&mut self, len: usize) -> anyhow::Result<()> {
        if self.hashes.len() >= MAX_CHUNKS as usize {
            bail!("the snapshot needs more than {MAX_CHUNKS} chunks: raise snapshot_chunk_bytes");
        }
        let chunk = &self.buf[..len];
        let path = self.dir.join(self.hashes.len().to_string());
        write_synced(&path, chunk)?;
        self.hashes.push(sha256(chunk));
        self.total += len as u64;
        self.buf.drain(..len);
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<(Vec<[u8; 32]>, u64)> {
        if !self.buf.is_empty() {
            self.flush(self.buf.len())?;
        }
        Ok((self.hashes, self.total))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))
}

/// Serializes the leaf stream of `exporter` (see the module docs) into `w`.
fn write_stream(substores: &[String], exporter: Exporter, w: &mut ChunkWriter) -> anyhow::Result<()> {
    let mut rec = Vec::new();
    let mut names = substores.iter();
    let mut current: Option<&String> = None;
    fn header(rec: &mut Vec<u8>, name: &str) {
        rec.push(TAG_SUBSTORE);
        put_varint(rec, name.len() as u64);
        rec.extend_from_slice(name.as_bytes());
    }
    for leaf in exporter {
        let leaf = leaf?;
        rec.clear();
        while current != Some(&leaf.substore) {
            let name = names.next().with_context(|| format!("leaf of unlisted substore {:?}", leaf.substore))?;
            header(&mut rec, name);
            current = Some(name);
        }
        rec.push(TAG_LEAF);
        put_varint(&mut rec, leaf.key.len() as u64);
        rec.extend_from_slice(&leaf.key);
        put_varint(&mut rec, leaf.value.len() as u64);
        rec.extend_from_slice(&leaf.value);
        w.write(&rec)?;
    }
    rec.clear();
    for name in names {
        header(&mut rec, name);
    }
    rec.push(TAG_END);
    w.write(&rec)
}

/// Parses a stream fed chunk by chunk into an [`Importer`].
struct StreamDecoder {
    /// Bytes of an incomplete record carried over to the next chunk.
    buf: Vec<u8>,
    substores: Vec<String>,
    ended: bool,
}

impl StreamDecoder {
    fn new() -> Self {
        Self { buf: Vec::new(), substores: Vec::new(), ended: false }
    }

    fn feed(&mut self, chunk: &[u8], importer: &mut Importer) -> Result<(), String> {
        self.buf.extend_from_slice(chunk);
        let b = &self.buf;
        let mut pos = 0;
        while pos < b.len() {
            if self.ended {
                return Err("bytes after the end of the stream".into());
            }
            let mut p = pos + 1;
            match b[pos] {
                TAG_END => self.ended = true,
                TAG_SUBSTORE => {
                    let Some(name) = get_field(b, &mut p)? else { break };
                    let name = std::str::from_utf8(name).map_err(|_| "substore name is not UTF-8".to_string())?;
                    self.substores.push(name.to_string());
                }
                TAG_LEAF => {
                    let Some(key) = get_field(b, &mut p)? else { break };
                    let Some(value) = get_field(b, &mut p)? else { break };
                    let substore = self.substores.last().ok_or("leaf before any substore")?;
                    importer.push(substore, key.to_vec(), value.to_vec()).map_err(|e| e.to_string())?;
                }
                tag => return Err(format!("unknown record tag {tag}")),
            }
            pos = p;
        }
        self.buf.drain(..pos);
        Ok(())
    }

    /// The stream must be complete and list exactly the store's substores.
    fn finish(self, substores: &[String]) -> Result<(), String> {
        if !self.ended || !self.buf.is_empty() {
            return Err("stream ends early".into());
        }
        if self.substores != substores {
            return Err(format!("snapshot substores {:?}, this node has {substores:?}", self.substores));
        }
        Ok(())
    }
}

/// A restore in progress (between an accepted OfferSnapshot and its last chunk).
struct Restore {
    meta: Metadata,
    trusted_app_hash: Vec<u8>,
    /// Index of the next chunk to decode.
    next: u32,
    /// Verified chunks that arrived ahead of `next` (CometBFT sends them in order; defensive).
    early: BTreeMap<u32, Vec<u8>>,
    decoder: StreamDecoder,
    importer: Importer,
}

/// What ApplySnapshotChunk did.
pub struct Applied {
    pub response: pb::ResponseApplySnapshotChunk,
    /// The last chunk completed the restore: the store now holds the snapshot's height.
    pub restored: bool,
}

fn apply_response(result: ApplyResult) -> Applied {
    Applied {
        response: pb::ResponseApplySnapshotChunk { result: result as i32, ..Default::default() },
        restored: false,
    }
}

/// The snapshot files; shared with the background writer thread.
struct SnapshotFiles {
    dir: PathBuf,
    chunk_bytes: usize,
    keep_recent: u32,
    /// One writer at a time (the background thread or [`SnapshotManager::create`]).
    write_lock: Mutex<()>,
}

impl SnapshotFiles {
    /// Heights of the complete snapshots, newest first.
    fn heights(&self) -> anyhow::Result<Vec<u64>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", self.dir.display())),
        };
        let mut heights = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            // Only canonical decimal names: temp and deleted directories never list.
            if let Some(h) = name.to_str().and_then(|n| n.parse::<u64>().ok().filter(|h| h.to_string() == n)) {
                heights.push(h);
            }
        }
        heights.sort_unstable_by(|a, b| b.cmp(a));
        Ok(heights)
    }

    fn metadata(&self, height: u64) -> anyhow::Result<Metadata> {
        let path = self.dir.join(height.to_string()).join(METADATA_FILE);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Metadata::decode(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Writes the snapshot of `exporter`'s version (if not there yet), then applies retention.
    fn write(&self, exporter: Exporter, substores: &[String], app_hash: [u8; 32]) -> anyhow::Result<pb::Snapshot> {
        let _guard = self.write_lock.lock();
        let height = exporter.version();
        let target = self.dir.join(height.to_string());
        if target.exists() {
            match self.metadata(height) {
                Ok(m) if m.app_hash == app_hash => {
                    self.apply_retention()?;
                    return Ok(m.to_snapshot());
                }
                // Not of this state (e.g. left over from a chain whose store was wiped).
                _ => self.retire(height)?,
            }
        }
        let tmp = self.dir.join(format!("{TMP_PREFIX}{height}"));
        let written = self.write_tmp(&tmp, exporter, substores, app_hash);
        let meta = match written {
            Ok(meta) => meta,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp); // best effort; also removed at the next start
                return Err(e);
            }
        };
        fs::rename(&tmp, &target).with_context(|| format!("renaming {} into place", tmp.display()))?;
        sync_dir(&self.dir)?;
        self.apply_retention()?;
        Ok(meta.to_snapshot())
    }

    /// Writes a complete snapshot into `tmp`, every file and the directory synced.
    fn write_tmp(
        &self,
        tmp: &Path,
        exporter: Exporter,
        substores: &[String],
        app_hash: [u8; 32],
    ) -> anyhow::Result<Metadata> {
        let height = exporter.version();
        if tmp.exists() {
            fs::remove_dir_all(tmp).with_context(|| format!("removing {}", tmp.display()))?;
        }
        fs::create_dir_all(tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = ChunkWriter::new(tmp.to_path_buf(), self.chunk_bytes);
        write_stream(substores, exporter, &mut w)?;
        let (chunk_hashes, total_bytes) = w.finish()?;
        let chunk_bytes = self.chunk_bytes as u32; // <= MAX_CHUNK_BYTES (validated)
        let meta = Metadata { height, app_hash, chunk_bytes, total_bytes, chunk_hashes };
        write_synced(&tmp.join(METADATA_FILE), &meta.encode())?;
        sync_dir(tmp)?;
        Ok(meta)
    }

    fn apply_retention(&self) -> anyhow::Result<()> {
        for h in self.heights()?.into_iter().skip(self.keep_recent as usize) {
            self.retire(h)?;
        }
        Ok(())
    }

    fn retire(&self, height: u64) -> anyhow::Result<()> {
        // Renamed first, so a crash mid-delete leaves nothing that lists.
        let del = self.dir.join(format!("{DEL_PREFIX}{height}"));
        if del.exists() {
            fs::remove_dir_all(&del).with_context(|| format!("removing {}", del.display()))?;
        }
        fs::rename(self.dir.join(height.to_string()), &del).with_context(|| format!("retiring snapshot {height}"))?;
        fs::remove_dir_all(&del).with_context(|| format!("removing {}", del.display()))
    }

    fn remove_leftovers(&self) -> anyhow::Result<()> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", self.dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TMP_PREFIX) || name.starts_with(DEL_PREFIX) {
                fs::remove_dir_all(entry.path()).with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
        Ok(())
    }
}

/// Takes, serves and restores snapshots.
pub struct SnapshotManager {
    /// `None`: no snapshot directory (nothing taken or served; restoring still works).
    files: Option<Arc<SnapshotFiles>>,
    interval: u64,
    worker: Mutex<Option<JoinHandle<()>>>,
    restore: Mutex<Option<Restore>>,
    chunks_rejected: AtomicU64,
}

impl SnapshotManager {
    pub fn new(dir: Option<PathBuf>, config: &SnapshotOptions) -> anyhow::Result<Self> {
        validate_options(config)?;
        let files = dir.map(|dir| {
            Arc::new(SnapshotFiles {
                dir,
                chunk_bytes: config.chunk_bytes,
                keep_recent: config.keep_recent,
                write_lock: Mutex::new(()),
            })
        });
        if let Some(f) = &files {
            f.remove_leftovers()?;
        }
        Ok(Self {
            files,
            interval: config.interval,
            worker: Mutex::new(None),
            restore: Mutex::new(None),
            chunks_rejected: AtomicU64::new(0),
        })
    }

    pub fn dir(&self) -> Option<&Path> {
        self.files.as_ref().map(|f| f.dir.as_path())
    }

    /// Chunks refused since start because they did not match the metadata.
    pub fn chunks_rejected(&self) -> u64 {
        self.chunks_rejected.load(Ordering::Relaxed)
    }

    /// Called after each commit: starts a background snapshot at the configured interval.
    /// Never waits: if the previous snapshot is still being written, this height is skipped.
    pub fn on_commit(&self, store: &MerkleStore, height: u64) {
        let Some(files) = &self.files else { return };
        if self.interval == 0 || !height.is_multiple_of(self.interval) {
            return;
        }
        let mut worker = self.worker.lock();
        if worker.as_ref().is_some_and(|w| !w.is_finished()) {
            tracing::warn!(height, "previous snapshot still being written; no snapshot at this height");
            return;
        }
        // Pinned here rather than in the thread: the next commit could otherwise prune `height`.
        let exporter = match store.export(height) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(height, "cannot start snapshot: {e}");
                return;
            }
        };
        let app_hash = match store.app_hash(height) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(height, "cannot start snapshot: {e}");
                return;
            }
        };
        let files = files.clone();
        let substores = store.substores().to_vec();
        let spawned = std::thread::Builder::new().name("snapshot".into()).spawn(move || {
            let started = std::time::Instant::now();
            match files.write(exporter, &substores, app_hash) {
                Ok(s) => tracing::info!(
                    height,
                    chunks = s.chunks,
                    hash = %hex::encode_upper(&s.hash),
                    secs = started.elapsed().as_secs_f64(),
                    "snapshot taken"
                ),
                Err(e) => tracing::error!(height, "snapshot failed: {e:#}"),
            }
        });
        match spawned {
            Ok(handle) => *worker = Some(handle),
            Err(e) => tracing::error!(height, "cannot start snapshot thread: {e}"),
        }
    }

    /// Takes the snapshot of `height` now, on this thread (tests, tools).
    pub fn create(&self, store: &MerkleStore, height: u64) -> anyhow::Result<pb::Snapshot> {
        let files = self.files.as_ref().context("no snapshot directory")?;
        let exporter = store.export(height)?;
        let app_hash = store.app_hash(height)?;
        files.write(exporter, store.substores(), app_hash)
    }

    /// Waits for a background snapshot, if one is running.
    pub fn wait(&self) {
        // Not joined under the lock: Commit takes it.
        let worker = self.worker.lock().take();
        if let Some(w) = worker {
            let _ = w.join();
        }
    }

    /// The complete snapshots, newest first.
    pub fn list(&self) -> Vec<pb::Snapshot> {
        let Some(files) = &self.files else { return Vec::new() };
        let heights = files.heights().unwrap_or_else(|e| {
            tracing::warn!("cannot list snapshots: {e:#}");
            Vec::new()
        });
        heights
            .into_iter()
            .filter_map(|h| match files.metadata(h) {
                Ok(m) => Some(m.to_snapshot()),
                Err(e) => {
                    tracing::warn!("skipping snapshot {h}: {e:#}");
                    None
                }
            })
            .collect()
    }

    /// A chunk as stored (the receiver verifies it); empty if there is no such chunk.
    pub fn load_chunk(&self, height: u64, format: u32, index: u32) -> Vec<u8> {
        let Some(files) = &self.files else { return Vec::new() };
        if format != FORMAT {
            return Vec::new();
        }
        fs::read(files.dir.join(height.to_string()).join(index.to_string())).unwrap_or_default()
    }

    /// OfferSnapshot. A new offer always replaces a restore in progress (CometBFT offers
    /// again after RETRY_SNAPSHOT, and then re-applies every chunk).
    pub fn offer(&self, store: &MerkleStore, snapshot: Option<&pb::Snapshot>, trusted_app_hash: &[u8]) -> OfferResult {
        let mut restore = self.restore.lock();
        *restore = None;
        let Some(s) = snapshot else { return OfferResult::Reject };
        if let Some(latest) = store.latest_version() {
            // CometBFT state-syncs only with an empty state of its own, so this store is left
            // over from another run; no offer can ever fit, so stop rather than reject them all.
            tracing::error!(
                latest,
                "state sync offered a snapshot but the state store already holds height {latest}; \
                 aborting state sync (move the app's data aside to state-sync this node)"
            );
            return OfferResult::Abort;
        }
        if s.format != FORMAT {
            return OfferResult::RejectFormat;
        }
        let reject = |why: String| {
            tracing::warn!(height = s.height, "snapshot offer rejected: {why}");
            OfferResult::Reject
        };
        if s.height == 0 {
            return reject("height 0".into());
        }
        if sha256(&s.metadata)[..] != s.hash[..] {
            return reject("hash is not sha256 of the metadata".into());
        }
        let meta = match Metadata::decode(&s.metadata) {
            Ok(m) => m,
            Err(e) => return reject(format!("malformed metadata: {e}")),
        };
        if meta.height != s.height || meta.chunks() != s.chunks {
            return reject(format!(
                "metadata says height {} with {} chunks, the offer height {} with {} chunks",
                meta.height,
                meta.chunks(),
                s.height,
                s.chunks
            ));
        }
        if meta.app_hash[..] != *trusted_app_hash {
            return reject(format!(
                "snapshot of app hash {}, the chain has {}",
                hex::encode_upper(meta.app_hash),
                hex::encode_upper(trusted_app_hash)
            ));
        }
        let importer = match store.importer(s.height) {
            Ok(i) => i,
            Err(StoreError::NotEmpty(_)) => return OfferResult::Abort,
            Err(e) => return reject(e.to_string()),
        };
        tracing::info!(height = s.height, chunks = s.chunks, "snapshot accepted, restoring");
        *restore = Some(Restore {
            meta,
            trusted_app_hash: trusted_app_hash.to_vec(),
            next: 0,
            early: BTreeMap::new(),
            decoder: StreamDecoder::new(),
            importer,
        });
        OfferResult::Accept
    }

    /// ApplySnapshotChunk. The last chunk imports the state, checks the trusted app hash and
    /// only then commits it. `Err` only for a failure to write the store (the node must stop).
    pub fn apply_chunk(
        &self,
        store: &MerkleStore,
        index: u32,
        chunk: &[u8],
        sender: &str,
    ) -> Result<Applied, StoreError> {
        let mut guard = self.restore.lock();
        let Some(r) = guard.as_mut() else {
            tracing::warn!(index, "snapshot chunk without an accepted snapshot");
            return Ok(apply_response(ApplyResult::Abort));
        };
        let height = r.meta.height;
        let Some(expected) = r.meta.chunk_hashes.get(index as usize) else {
            tracing::warn!(height, index, "snapshot chunk index out of range; rejecting the snapshot");
            *guard = None;
            return Ok(apply_response(ApplyResult::RejectSnapshot));
        };
        if sha256(chunk) != *expected {
            self.chunks_rejected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                height,
                index,
                sender,
                "snapshot chunk rejected: its sha256 differs from the snapshot metadata; refetching it elsewhere"
            );
            let reject_senders = if sender.is_empty() { Vec::new() } else { vec![sender.to_string()] };
            let response = pb::ResponseApplySnapshotChunk {
                result: ApplyResult::Retry as i32,
                refetch_chunks: vec![index],
                reject_senders,
            };
            return Ok(Applied { response, restored: false });
        }
        if index < r.next {
            return Ok(apply_response(ApplyResult::Accept)); // applied before
        }
        if index > r.next {
            r.early.insert(index, chunk.to_vec());
            return Ok(apply_response(ApplyResult::Accept));
        }
        let mut fed = r.decoder.feed(chunk, &mut r.importer);
        r.next += 1;
        while fed.is_ok() {
            let Some(c) = r.early.remove(&r.next) else { break };
            fed = r.decoder.feed(&c, &mut r.importer);
            r.next += 1;
        }
        if let Err(e) = fed {
            tracing::warn!(height, "snapshot rejected: its chunks match the metadata but do not decode: {e}");
            *guard = None;
            return Ok(apply_response(ApplyResult::RejectSnapshot));
        }
        if r.next < r.meta.chunks() {
            return Ok(apply_response(ApplyResult::Accept));
        }

        let r = guard.take().expect("checked above");
        if let Err(e) = r.decoder.finish(store.substores()) {
            tracing::warn!(height, "snapshot rejected: {e}");
            return Ok(apply_response(ApplyResult::RejectSnapshot));
        }
        let prepared = match r.importer.finish() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(height, "snapshot rejected: {e}");
                return Ok(apply_response(ApplyResult::RejectSnapshot));
            }
        };
        if prepared.app_hash[..] != r.trusted_app_hash[..] {
            tracing::error!(
                height,
                restored = %hex::encode_upper(prepared.app_hash),
                trusted = %hex::encode_upper(&r.trusted_app_hash),
                "snapshot rejected: the restored state does not have the chain's app hash; nothing written"
            );
            return Ok(apply_response(ApplyResult::RejectSnapshot));
        }
        store.commit(prepared)?;
        tracing::info!(height, "state restored from snapshot");
        Ok(Applied { response: apply_response(ApplyResult::Accept).response, restored: true })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use paychain_store::{ChangeSet, StoreConfig};

    use super::*;

    fn store(dir: &Path) -> MerkleStore {
        let substores = ["a", "b", "empty"].iter().map(|s| s.to_string()).collect();
        MerkleStore::open(dir, StoreConfig { substores, retention: None }).unwrap()
    }

    fn filled(dir: &Path) -> MerkleStore {
        let s = store(dir);
        let mut cs: ChangeSet = BTreeMap::new();
        for i in 0u32..300 {
            let value = vec![b'v'; 1 + (i as usize * 7) % 300]; // some values span many chunks
            cs.entry(if i % 3 == 0 { "b" } else { "a" }.into())
                .or_default()
                .insert(i.to_be_bytes().to_vec(), Some(value));
        }
        let p = s.prepare(4, &cs).unwrap();
        s.commit(p).unwrap();
        s
    }

    /// Writes the stream of `s` at 4 with chunk size `c`; returns the chunks.
    fn chunks_of(s: &MerkleStore, c: usize) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::new(dir.path().to_path_buf(), c);
        write_stream(s.substores(), s.export(4).unwrap(), &mut w).unwrap();
        let (hashes, total) = w.finish().unwrap();
        let chunks: Vec<Vec<u8>> =
            (0..hashes.len()).map(|i| fs::read(dir.path().join(i.to_string())).unwrap()).collect();
        assert_eq!(chunks.iter().map(|c| c.len() as u64).sum::<u64>(), total);
        assert!(chunks.iter().zip(&hashes).all(|(c, h)| sha256(c) == *h));
        chunks
    }

    #[test]
    fn the_stream_restores_the_same_app_hash_at_any_chunk_size() {
        let d = tempfile::tempdir().unwrap();
        let src = filled(d.path());
        let whole = chunks_of(&src, 1 << 20).concat();
        for c in [64, 1000] {
            let files = chunks_of(&src, c);
            let split: Vec<Vec<u8>> = whole.chunks(c).map(<[u8]>::to_vec).collect();
            assert_eq!(files, split, "chunk files are the stream cut every {c} bytes");
        }
        // Records split at every possible byte boundary still decode.
        for c in [1, 2, 7, 64, 1000, whole.len(), whole.len() + 1] {
            let dd = tempfile::tempdir().unwrap();
            let dst = store(dd.path());
            let mut imp = dst.importer(4).unwrap();
            let mut dec = StreamDecoder::new();
            for chunk in whole.chunks(c) {
                dec.feed(chunk, &mut imp).unwrap();
            }
            dec.finish(dst.substores()).unwrap();
            assert_eq!(imp.finish().unwrap().app_hash, src.app_hash(4).unwrap(), "chunk size {c}");
        }
    }

    #[test]
    fn malformed_streams_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let dst = store(d.path());
        let feed = |bytes: &[u8]| -> Result<(), String> {
            let mut imp = dst.importer(1).unwrap();
            let mut dec = StreamDecoder::new();
            dec.feed(bytes, &mut imp)?;
            dec.finish(dst.substores())
        };
        let header = |n: &str| [&[TAG_SUBSTORE, n.len() as u8][..], n.as_bytes()].concat();
        let good =
            [header("a"), vec![TAG_LEAF, 1, b'k', 1, b'v'], header("b"), header("empty"), vec![TAG_END]].concat();
        feed(&good).unwrap();
        assert!(feed(&[&good[..], &[0]].concat()).unwrap_err().contains("after the end"));
        assert!(feed(&good[..good.len() - 1]).unwrap_err().contains("ends early"));
        assert!(feed(&[TAG_LEAF, 1, b'k', 1, b'v', TAG_END]).unwrap_err().contains("before any substore"));
        assert!(feed(&[&header("a")[..], &[9]].concat()).unwrap_err().contains("unknown record tag"));
        let huge = [&header("a")[..], &[TAG_LEAF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]].concat();
        assert!(feed(&huge).unwrap_err().contains("exceeds the limit"));
        let missing_substore = [header("a"), header("b"), vec![TAG_END]].concat();
        assert!(feed(&missing_substore).unwrap_err().contains("this node has"));
        let unknown = [header("zz"), vec![TAG_LEAF, 1, b'k', 1, b'v', TAG_END]].concat();
        assert!(feed(&unknown).unwrap_err().contains("unknown substore"));
        let unordered = [header("a"), vec![TAG_LEAF, 1, b'k', 1, b'v', TAG_LEAF, 1, b'k', 1, b'w']].concat();
        assert!(feed(&unordered).unwrap_err().contains("out of order"));
    }

    #[test]
    fn varints_roundtrip_and_overlong_ones_fail() {
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut pos = 0;
            assert_eq!(get_varint(&b, &mut pos), Ok(Some(v)));
            assert_eq!(pos, b.len());
            let mut pos = 0;
            assert_eq!(get_varint(&b[..b.len() - 1], &mut pos), Ok(None), "incomplete");
            assert_eq!(pos, 0);
        }
        assert!(get_varint(&[0xFF; 10], &mut 0).is_err());
        assert!(get_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], &mut 0).is_err());
    }

    #[test]
    fn metadata_roundtrips_and_inconsistent_metadata_is_refused() {
        let m = Metadata {
            height: 9,
            app_hash: [3; 32],
            chunk_bytes: 100,
            total_bytes: 250,
            chunk_hashes: vec![[1; 32]; 3],
        };
        let b = m.encode();
        assert_eq!(Metadata::decode(&b), Ok(m.clone()));
        let s = m.to_snapshot();
        assert_eq!((s.height, s.format, s.chunks), (9, FORMAT, 3));
        assert_eq!(s.hash[..], sha256(&b)[..]);

        let bad = |f: &dyn Fn(&mut Metadata)| {
            let mut x = m.clone();
            f(&mut x);
            Metadata::decode(&x.encode())
        };
        assert!(bad(&|x| x.total_bytes = 200).is_err(), "last chunk would be empty");
        assert!(bad(&|x| x.total_bytes = 301).is_err(), "last chunk would be too big");
        assert!(bad(&|x| x.height = 0).is_err());
        assert!(bad(&|x| x.chunk_bytes = 0).is_err());
        assert!(bad(&|x| x.chunk_hashes.clear()).is_err());
        assert!(Metadata::decode(&b[..b.len() - 1]).is_err());
        assert!(Metadata::decode(&[&b[..], &[0]].concat()).is_err());
        assert!(Metadata::decode(&b[..10]).is_err());
        let mut other_format = b.clone();
        other_format[3] = 2;
        assert!(Metadata::decode(&other_format).is_err());
    }

    #[test]
    fn snapshot_options_are_validated() {
        let ok = SnapshotOptions::default();
        assert_eq!((ok.interval, ok.keep_recent, ok.chunk_bytes), (0, 2, 4 << 20));
        validate_options(&ok).unwrap();
        for bad in [
            SnapshotOptions { chunk_bytes: MIN_CHUNK_BYTES - 1, ..SnapshotOptions::default() },
            SnapshotOptions { chunk_bytes: MAX_CHUNK_BYTES + 1, ..SnapshotOptions::default() },
            SnapshotOptions { keep_recent: 0, ..SnapshotOptions::default() },
        ] {
            assert!(validate_options(&bad).is_err(), "{bad:?}");
            assert!(SnapshotManager::new(None, &bad).is_err());
        }
    }

    #[test]
    fn snapshot_dir_sits_beside_the_node_store_or_inside_another() {
        assert_eq!(snapshot_dir_for(Path::new("/h/data/application.db")), Path::new("/h/data/snapshots"));
        assert_eq!(snapshot_dir_for(Path::new("/tmp/x")), Path::new("/tmp/x/snapshots"));
    }
}
