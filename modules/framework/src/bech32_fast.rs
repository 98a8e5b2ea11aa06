//! A table-free bech32 codec for the common case: a lowercase address with a known prefix.
//!
//! The `bech32` crate is general (any checksum, any case, streaming iterators) and a payments
//! block paid for it: encoding and decoding addresses (events, stored accounts, messages) were
//! ~17% of the in-order execution and CheckTx at 1M accounts. This is the textbook BIP-173
//! loop over bytes. It only ever answers where its answer is certain to be the crate's: an
//! encode it can make is the one valid string; a decode it accepts is a lowercase string with
//! the expected prefix, a valid bech32 (not bech32m) checksum and zero padding bits, which
//! the crate decodes to the same bytes. Everything else (`None`) goes to the crate, so what is
//! accepted or refused, and every error text, is unchanged.

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// The value of each ASCII character in the data part (lowercase only), or -1.
const REV: [i8; 128] = {
    let mut rev = [-1i8; 128];
    let mut i = 0;
    while i < 32 {
        rev[CHARSET[i] as usize] = i as i8;
        i += 1;
    }
    rev
};

const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];

/// BIP-173's checksum constant for bech32 (bech32m's differs; those go to the crate).
const BECH32_CONST: u32 = 1;

/// BIP-173's limit on a whole string; longer ones go to the crate.
const MAX_LEN: usize = 90;

fn step(chk: u32, value: u8) -> u32 {
    let top = chk >> 25;
    let mut chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(value);
    for (i, g) in GEN.iter().enumerate() {
        if (top >> i) & 1 == 1 {
            chk ^= g;
        }
    }
    chk
}

/// The checksum state after the expanded human-readable part.
fn hrp_state(hrp: &[u8]) -> u32 {
    let mut chk = 1;
    for &c in hrp {
        chk = step(chk, c >> 5);
    }
    chk = step(chk, 0);
    for &c in hrp {
        chk = step(chk, c & 31);
    }
    chk
}

/// A prefix this codec handles: 1..=83 lowercase-or-non-letter printable ASCII characters.
fn plain_prefix(hrp: &str) -> bool {
    (1..=83).contains(&hrp.len()) && hrp.bytes().all(|c| (33..=126).contains(&c) && !c.is_ascii_uppercase())
}

/// `data` as bech32 with `hrp`, or `None` when the crate should do it.
pub fn encode(hrp: &str, data: &[u8]) -> Option<String> {
    let fes = data.len().checked_mul(8)?.div_ceil(5);
    if !plain_prefix(hrp) || hrp.len() + 1 + fes + 6 > MAX_LEN {
        return None;
    }
    let mut out = Vec::with_capacity(hrp.len() + 1 + fes + 6);
    out.extend_from_slice(hrp.as_bytes());
    out.push(b'1');
    let mut chk = hrp_state(hrp.as_bytes());
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut push = |fe: u8, chk: &mut u32| {
        *chk = step(*chk, fe);
        out.push(CHARSET[usize::from(fe)]);
    };
    for &b in data {
        acc = ((acc << 8) | u32::from(b)) & 0xfff; // at most 4 pending bits + 8 new ones
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            push(((acc >> bits) & 31) as u8, &mut chk);
        }
    }
    if bits > 0 {
        push(((acc << (5 - bits)) & 31) as u8, &mut chk);
    }
    for _ in 0..6 {
        chk = step(chk, 0);
    }
    chk ^= BECH32_CONST;
    for i in 0..6 {
        out.push(CHARSET[((chk >> (5 * (5 - i))) & 31) as usize]);
    }
    String::from_utf8(out).ok()
}

/// The bytes of `s` if it is a lowercase bech32 string with prefix `hrp`, a bech32 checksum
/// and zero padding; `None` otherwise (the crate then decides, and explains a refusal).
pub fn decode(s: &str, hrp: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    if !plain_prefix(hrp) || bytes.len() > MAX_LEN || bytes.len() < hrp.len() + 1 + 6 {
        return None;
    }
    let (head, rest) = bytes.split_at(hrp.len());
    if head != hrp.as_bytes() || rest[0] != b'1' {
        return None;
    }
    let data = &rest[1..];
    let mut chk = hrp_state(head);
    let mut fes = Vec::with_capacity(data.len());
    for &c in data {
        let v = *REV.get(usize::from(c))?;
        if v < 0 {
            return None;
        }
        chk = step(chk, v as u8);
        fes.push(v as u8);
    }
    if chk != BECH32_CONST {
        return None;
    }
    let payload = &fes[..fes.len() - 6];
    let mut out = Vec::with_capacity(payload.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &fe in payload {
        acc = ((acc << 5) | u32::from(fe)) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits must be padding of zeros; the crate drops them either way, but a string
    // with stray bits is left to it rather than reasoned about here.
    if bits >= 5 || acc & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bech32::{Bech32, Bech32m, Hrp};
    use rand::{Rng, SeedableRng};

    fn crate_encode(hrp: &str, data: &[u8]) -> String {
        bech32::encode::<Bech32>(Hrp::parse(hrp).unwrap(), data).unwrap()
    }

    #[test]
    fn encodes_as_the_crate_does() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for hrp in ["pay", "cosmos", "paycons", "a", "osmo"] {
            for len in [0usize, 1, 19, 20, 21, 32, 33, 40] {
                for _ in 0..50 {
                    let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                    match encode(hrp, &data) {
                        Some(s) => assert_eq!(s, crate_encode(hrp, &data), "{hrp} {data:?}"),
                        None => assert!(hrp.len() + 1 + (len * 8).div_ceil(5) + 6 > MAX_LEN),
                    }
                }
            }
        }
        assert_eq!(encode("PAY", &[1; 20]), None, "uppercase prefixes go to the crate");
    }

    /// The crate's answer for `s` with prefix `hrp`, as `Address` uses it.
    fn crate_decode(s: &str, hrp: &str) -> Option<Vec<u8>> {
        let (h, data) = bech32::decode(s).ok()?;
        (h.as_str() == hrp).then_some(data)
    }

    #[test]
    fn accepts_only_what_the_crate_decodes_identically() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let mut accepted = 0;
        for round in 0..20_000 {
            let len = [20usize, 32, 1, 5, 33][round % 5];
            let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let mut s = if round % 7 == 0 {
                bech32::encode::<Bech32m>(Hrp::parse("pay").unwrap(), &data).unwrap()
            } else {
                crate_encode("pay", &data)
            }
            .into_bytes();
            // Mutate some: a character, the case, the prefix, the length.
            match rng.gen_range(0..8) {
                0 => {
                    let i = rng.gen_range(0..s.len());
                    s[i] = CHARSET[rng.gen_range(0..32)];
                }
                1 => s.make_ascii_uppercase(),
                2 => s[0] = b'q',
                3 => {
                    s.pop();
                }
                4 => {
                    let i = rng.gen_range(0..s.len());
                    s[i] = rng.gen_range(0..128);
                }
                _ => {}
            }
            let s = String::from_utf8(s).unwrap();
            if let Some(fast) = decode(&s, "pay") {
                accepted += 1;
                assert_eq!(Some(fast), crate_decode(&s, "pay"), "{s}");
            }
        }
        assert!(accepted > 5_000, "the fast path takes the common case ({accepted})");
    }

    #[test]
    fn refuses_what_it_should_not_decide() {
        let addr = crate_encode("pay", &[7; 20]);
        assert_eq!(decode(&addr, "pay"), Some(vec![7; 20]));
        assert_eq!(decode(&addr, "cosmos"), None);
        assert_eq!(decode(&addr.to_uppercase(), "pay"), None);
        let m = bech32::encode::<Bech32m>(Hrp::parse("pay").unwrap(), &[7; 20]).unwrap();
        assert_eq!(decode(&m, "pay"), None, "bech32m is the crate's");
        assert_eq!(decode("pay1", "pay"), None);
        assert_eq!(decode("", "pay"), None);
    }
}
