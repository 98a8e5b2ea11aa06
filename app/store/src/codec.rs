//! Byte encodings of the RocksDB keys and values (see the crate docs for the layout).

use crate::types::Version;

/// Tag byte of a `values` entry holding a value.
pub(crate) const TAG_PRESENT: u8 = 1;
/// Tag byte of a `values` entry recording a deletion.
pub(crate) const TAG_DELETED: u8 = 0;

/// Appends the order-preserving, self-delimiting encoding of `key`: every 0x00 becomes
/// 0x00 0xFF and the key is terminated by 0x00 0x00.
///
/// For raw keys `a < b` (lexicographic), `enc(a) < enc(b)`, and no encoding is a prefix of
/// another, so `enc(a) ++ x < enc(b) ++ y` for any suffixes `x`, `y`.
pub(crate) fn push_escaped(out: &mut Vec<u8>, key: &[u8]) {
    for &b in key {
        if b == 0 {
            out.extend_from_slice(&[0x00, 0xFF]);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&[0x00, 0x00]);
}

/// Decodes an escaped key at the start of `buf`; returns the raw key and the number of bytes
/// consumed (including the terminator). `None` if `buf` is not a valid encoding.
pub(crate) fn decode_escaped(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut raw = Vec::with_capacity(buf.len());
    let mut i = 0;
    while i < buf.len() {
        let b = buf[i];
        if b != 0 {
            raw.push(b);
            i += 1;
            continue;
        }
        match buf.get(i + 1)? {
            0xFF => {
                raw.push(0);
                i += 2;
            }
            0x00 => return Some((raw, i + 2)),
            _ => return None,
        }
    }
    None
}

/// `u64::MAX - version`, big-endian: newer versions sort first.
pub(crate) fn inv_version(version: Version) -> [u8; 8] {
    (u64::MAX - version).to_be_bytes()
}

pub(crate) fn be(version: Version) -> [u8; 8] {
    version.to_be_bytes()
}

pub(crate) fn read_be(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

/// `sid ++ enc(key)`: the common prefix of all versions of `key` in the `values` table.
pub(crate) fn value_prefix(sid: u8, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 11);
    out.push(sid);
    push_escaped(&mut out, key);
    out
}

/// `sid ++ enc(key) ++ inv(version)`.
pub(crate) fn value_key(sid: u8, key: &[u8], version: Version) -> Vec<u8> {
    let mut out = value_prefix(sid, key);
    out.extend_from_slice(&inv_version(version));
    out
}

/// The smallest byte string greater than every `values` key of the raw key with this prefix.
pub(crate) fn value_prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 9);
    out.extend_from_slice(prefix);
    out.extend_from_slice(&[0xFF; 8]);
    out.push(0);
    out
}

/// A parsed `values` table key.
pub(crate) struct ValueKey {
    pub raw: Vec<u8>,
    /// Length of `sid ++ enc(raw)`.
    pub prefix_len: usize,
    pub version: Version,
}

pub(crate) fn parse_value_key(key: &[u8]) -> Option<ValueKey> {
    let (_sid, rest) = key.split_first()?;
    let (raw, used) = decode_escaped(rest)?;
    let tail = &rest[used..];
    if tail.len() != 8 {
        return None;
    }
    Some(ValueKey { raw, prefix_len: 1 + used, version: u64::MAX - read_be(tail)? })
}

/// `values` entry payload.
pub(crate) fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        Some(v) => {
            let mut out = Vec::with_capacity(v.len() + 1);
            out.push(TAG_PRESENT);
            out.extend_from_slice(v);
            out
        }
        None => vec![TAG_DELETED],
    }
}

/// Decodes a `values` entry payload: `Some(Some(v))` present, `Some(None)` deleted, `None`
/// malformed.
pub(crate) fn decode_value(bytes: &[u8]) -> Option<Option<Vec<u8>>> {
    match bytes.split_first() {
        Some((&TAG_PRESENT, v)) => Some(Some(v.to_vec())),
        Some((&TAG_DELETED, [])) => Some(None),
        _ => None,
    }
}

/// `version BE ++ sid`: key of the `changelog` table, whose value is `enc(key)` of every key
/// the version wrote in substore `sid`, concatenated (the encoding is self-delimiting).
pub(crate) fn changelog_key(version: Version, sid: u8) -> [u8; 9] {
    let mut out = [0; 9];
    out[..8].copy_from_slice(&be(version));
    out[8] = sid;
    out
}

/// The keys of a `changelog` value; `None` if it is malformed.
pub(crate) fn decode_changelog(mut bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut keys = Vec::new();
    while !bytes.is_empty() {
        let (key, len) = decode_escaped(bytes)?;
        keys.push(key);
        bytes = &bytes[len..];
    }
    Some(keys)
}

/// `sid ++ key_hash`: key of the `preimages` table.
pub(crate) fn preimage_key(sid: u8, key_hash: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(33);
    out.push(sid);
    out.extend_from_slice(key_hash);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_preserves_order_and_roundtrips() {
        let keys: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            vec![0, 1],
            vec![0, 0xFF],
            vec![1],
            vec![1, 0],
            vec![1, 0, 0],
            vec![1, 1],
            vec![0xFF],
            vec![0xFF, 0],
            vec![0xFF, 0xFF],
        ];
        for a in &keys {
            let mut ea = vec![];
            push_escaped(&mut ea, a);
            assert_eq!(decode_escaped(&ea), Some((a.clone(), ea.len())));
            for b in &keys {
                let mut eb = vec![];
                push_escaped(&mut eb, b);
                assert_eq!(a.cmp(b), ea.cmp(&eb), "{a:?} vs {b:?}");
                // With version suffixes appended, order between different keys is unchanged.
                let (mut xa, mut xb) = (ea.clone(), eb.clone());
                xa.extend_from_slice(&[0xFF; 8]);
                xb.extend_from_slice(&[0x00; 8]);
                if a != b {
                    assert_eq!(a.cmp(b), xa.cmp(&xb), "{a:?} vs {b:?} (suffixed)");
                }
            }
        }
    }

    #[test]
    fn changelogs_roundtrip() {
        let keys: Vec<Vec<u8>> = vec![b"a".to_vec(), vec![0, 0, 1], vec![0xFF], b"key\0".to_vec()];
        let mut value = Vec::new();
        for k in &keys {
            push_escaped(&mut value, k);
        }
        assert_eq!(decode_changelog(&value), Some(keys));
        assert_eq!(decode_changelog(&[]), Some(vec![]));
        assert_eq!(decode_changelog(&value[..value.len() - 1]), None, "a cut-off key");
        assert!(changelog_key(1, 9) < changelog_key(2, 1), "version first");
    }

    #[test]
    fn value_keys_parse() {
        let k = value_key(3, b"a\0b", 42);
        let p = parse_value_key(&k).unwrap();
        assert_eq!((p.raw.as_slice(), p.version), (&b"a\0b"[..], 42));
        assert_eq!(p.prefix_len, value_prefix(3, b"a\0b").len());
        assert!(value_key(3, b"a", 5) < value_key(3, b"a", 4), "newer first");
        assert!(value_key(3, b"a", 0) < value_key(3, b"a\0", 9));
        assert!(parse_value_key(&k[..k.len() - 1]).is_none());
    }
}
