//! Calendar arithmetic for block times: RFC 3339 text in UTC, as proto3 JSON
//! writes a `Timestamp` and CometBFT its block times. Integer math only.

use crate::context::BlockTime;
use crate::error::SdkError;
use crate::state::StateRead;

/// Where the app keeps the last committed block's time, seconds (i64) then nanos
/// (i32), big-endian: in state, so a restart or a state sync gives CheckTx the right
/// time and a query at a height sees that height's time.
pub const BLOCK_TIME_STORE: &str = "app";
pub const BLOCK_TIME_KEY: &[u8] = b"block_time";

pub fn encode_block_time(t: BlockTime) -> Vec<u8> {
    [&t.seconds.to_be_bytes()[..], &t.nanos.to_be_bytes()[..]].concat()
}

pub fn decode_block_time(b: &[u8]) -> Option<BlockTime> {
    let seconds = i64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    let nanos = i32::from_be_bytes(b.get(8..)?.try_into().ok()?);
    Some(BlockTime { seconds, nanos })
}

/// The time of the block `state` was committed at (none before the first block):
/// what queries answering "now" use.
pub fn committed_block_time(state: &dyn StateRead) -> Result<Option<BlockTime>, SdkError> {
    match state.get(BLOCK_TIME_STORE, BLOCK_TIME_KEY)? {
        None => Ok(None),
        Some(b) => decode_block_time(&b)
            .map(Some)
            .ok_or_else(|| SdkError::fatal(format!("corrupt block time in store: {b:?}"))),
    }
}

/// (year, month, day) of `days` since 1970-01-01 (Howard Hinnant's days-to-civil).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-01-02T03:04:05Z`, with the shortest of 3, 6 or 9 fraction digits when
/// `nanos` is not zero (`...05.500Z`), as proto3 JSON writes a `Timestamp`.
pub fn rfc3339(seconds: i64, nanos: i32) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
    let nanos = nanos.clamp(0, 999_999_999);
    if nanos != 0 {
        if nanos % 1_000_000 == 0 {
            out.push_str(&format!(".{:03}", nanos / 1_000_000));
        } else if nanos % 1_000 == 0 {
            out.push_str(&format!(".{:06}", nanos / 1_000));
        } else {
            out.push_str(&format!(".{nanos:09}"));
        }
    }
    out.push('Z');
    out
}

// Howard Hinnant's days-from-civil (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &[u8], what: &str) -> Result<i64, String> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return Err(format!("invalid {what}"));
    }
    Ok(s.iter().fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')))
}

/// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, fraction of 1 to 9
/// digits) into (seconds, nanos) since the Unix epoch in UTC. Years are 0000 to
/// 9999 (four digits); callers with narrower ranges check them.
pub fn parse_rfc3339(s: &str) -> Result<(i64, i32), String> {
    let err = |why: &str| format!("invalid RFC 3339 timestamp {s:?}: {why}");
    let b = s.as_bytes();
    if b.len() < 20 {
        return Err(err("too short (expected e.g. 2026-01-02T03:04:05Z)"));
    }
    let sep_ok = b[4] == b'-' && b[7] == b'-' && matches!(b[10], b'T' | b't') && b[13] == b':' && b[16] == b':';
    if !sep_ok {
        return Err(err("expected YYYY-MM-DDTHH:MM:SS"));
    }
    let y = digits(&b[0..4], "year").map_err(|e| err(&e))?;
    let m = digits(&b[5..7], "month").map_err(|e| err(&e))?;
    let d = digits(&b[8..10], "day").map_err(|e| err(&e))?;
    let hh = digits(&b[11..13], "hour").map_err(|e| err(&e))?;
    let mm = digits(&b[14..16], "minute").map_err(|e| err(&e))?;
    let ss = digits(&b[17..19], "second").map_err(|e| err(&e))?;
    if !(1..=12).contains(&m) {
        return Err(err("month out of range"));
    }
    if d < 1 || d > days_in_month(y, m) {
        return Err(err("day out of range"));
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return Err(err("time of day out of range"));
    }
    let mut rest = &b[19..];
    let mut nanos = 0i64;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err(err("fraction of a second must have 1 to 9 digits"));
        }
        nanos = digits(&frac[..n], "fraction").map_err(|e| err(&e))? * 10i64.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = digits(&[*h1, *h2], "offset hour").map_err(|e| err(&e))?;
            let om = digits(&[*m1, *m2], "offset minute").map_err(|e| err(&e))?;
            if oh > 23 || om > 59 {
                return Err(err("offset out of range"));
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return Err(err("expected Z or a ±HH:MM offset after the time")),
    };
    let seconds = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - offset;
    Ok((seconds, nanos as i32))
}

/// `google.protobuf.Timestamp` whose serde form is its proto3 JSON (RFC 3339,
/// [`rfc3339`]), so modules' generated JSON writes timestamps as the SDK's
/// gateway does. Same wire bytes as `prost_types::Timestamp`; modules map the
/// well-known type to it in their `build.rs`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&rfc3339(self.seconds, self.nanos))
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `String`, not `&str`: the REST JSON probe reads `deserialize_string` as a text field.
        let s = String::deserialize(deserializer)?;
        let (seconds, nanos) = parse_rfc3339(&s).map_err(serde::de::Error::custom)?;
        Ok(Timestamp { seconds, nanos })
    }
}

// ---- Timestamps of messages and state: validity, ordering against block time, text.
// Limited to 1970..=9999 so that indexes can use unsigned big-endian seconds.

/// 1970-01-01T00:00:00Z.
pub const MIN_SECONDS: i64 = 0;
/// 9999-12-31T23:59:59Z, the last second proto3 JSON can write.
pub const MAX_SECONDS: i64 = 253_402_300_799;

/// Checks a timestamp is one we accept; the error says why.
pub fn validate(t: &Timestamp) -> Result<(), String> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err(format!("nanos {} out of range [0, 999999999]", t.nanos));
    }
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&t.seconds) {
        return Err(format!(
            "seconds {} out of range (must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z)",
            t.seconds
        ));
    }
    Ok(())
}

pub fn from_block_time(t: BlockTime) -> Timestamp {
    Timestamp { seconds: t.seconds, nanos: t.nanos }
}

pub fn to_block_time(t: &Timestamp) -> BlockTime {
    BlockTime { seconds: t.seconds, nanos: t.nanos }
}

/// Orders timestamps (seconds, then nanos).
pub fn key(t: &Timestamp) -> (i64, i32) {
    (t.seconds, t.nanos)
}

/// Whether block time `now` has reached `t` (`now >= t`).
pub fn reached(now: BlockTime, t: &Timestamp) -> bool {
    (now.seconds, now.nanos) >= key(t)
}

/// RFC 3339 in UTC, as proto3 JSON writes a `Timestamp` (`2026-01-02T03:04:05Z`,
/// `...05.500Z`). Out-of-range values are written as best as possible (callers
/// validate first).
pub fn format(t: &Timestamp) -> String {
    rfc3339(t.seconds, t.nanos)
}

/// `format` of an optional timestamp; unset = empty string (event attributes).
pub fn format_opt(t: Option<&Timestamp>) -> String {
    t.map(format).unwrap_or_default()
}

/// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, fraction of 1 to 9
/// digits) into a valid timestamp in UTC.
pub fn parse(s: &str) -> Result<Timestamp, String> {
    let (seconds, nanos) = parse_rfc3339(s)?;
    let t = Timestamp { seconds, nanos };
    validate(&t).map_err(|e| format!("invalid RFC 3339 timestamp {s:?}: {e}"))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_json() {
        let t = Timestamp { seconds: 1_767_323_045, nanos: 500_000_000 };
        let v = serde_json::to_value(t).unwrap();
        assert_eq!(v, serde_json::json!("2026-01-02T03:04:05.500Z"));
        assert_eq!(serde_json::from_value::<Timestamp>(v).unwrap(), t);
        let shifted: Timestamp = serde_json::from_value(serde_json::json!("2026-01-02T04:04:05+01:00")).unwrap();
        assert_eq!(shifted, Timestamp { seconds: 1_767_323_045, nanos: 0 });
        assert!(serde_json::from_value::<Timestamp>(serde_json::json!("2026-02-30T00:00:00Z")).is_err());
        assert!(serde_json::from_value::<Timestamp>(serde_json::json!(17)).is_err());
        assert_eq!(parse_rfc3339("2026-01-01T23:04:05.000000007-04:00").unwrap(), (1_767_323_045, 7));
    }

    #[test]
    fn formats_utc_dates_across_eras() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000, 0), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(0, 500_000_000), "1970-01-01T00:00:00.500Z");
        assert_eq!(rfc3339(0, 1_000), "1970-01-01T00:00:00.000001Z");
        assert_eq!(rfc3339(0, 7), "1970-01-01T00:00:00.000000007Z");
    }

    fn ts(seconds: i64, nanos: i32) -> Timestamp {
        Timestamp { seconds, nanos }
    }

    #[test]
    fn formats_and_parses_rfc3339() {
        assert_eq!(format(&ts(0, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(format(&ts(1_767_323_045, 0)), "2026-01-02T03:04:05Z");
        assert_eq!(format(&ts(1_767_323_045, 500_000_000)), "2026-01-02T03:04:05.500Z");
        assert_eq!(format(&ts(1_767_323_045, 1_000)), "2026-01-02T03:04:05.000001Z");
        assert_eq!(format(&ts(1_767_323_045, 7)), "2026-01-02T03:04:05.000000007Z");
        assert_eq!(format(&ts(951_782_400, 0)), "2000-02-29T00:00:00Z");
        assert_eq!(format(&ts(MAX_SECONDS, 999_999_999)), "9999-12-31T23:59:59.999999999Z");
        for (s, t) in [
            ("2026-01-02T03:04:05Z", ts(1_767_323_045, 0)),
            ("2026-01-02T03:04:05.5Z", ts(1_767_323_045, 500_000_000)),
            ("2026-01-02T04:04:05+01:00", ts(1_767_323_045, 0)),
            ("2026-01-01T23:04:05.000000007-04:00", ts(1_767_323_045, 7)),
            ("2000-02-29T00:00:00z", ts(951_782_400, 0)),
        ] {
            assert_eq!(parse(s).unwrap(), t, "{s}");
        }
        for t in [ts(0, 0), ts(1, 1), ts(86_399, 999_000_000), ts(4_102_444_800, 0), ts(MAX_SECONDS, 0)] {
            assert_eq!(parse(&format(&t)).unwrap(), t);
        }
        for bad in [
            "",
            "2026-01-02",
            "2026-01-02 03:04:05Z",
            "2026-13-02T03:04:05Z",
            "2026-02-29T03:04:05Z",
            "2026-01-02T24:04:05Z",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05.Z",
            "2026-01-02T03:04:05.1234567890Z",
            "1969-12-31T23:59:59Z",
            "2026-01-02T03:04:05+1:00",
            "+026-01-02T03:04:05Z",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(validate(&ts(0, -1)).is_err());
        assert!(validate(&ts(0, 1_000_000_000)).is_err());
        assert!(validate(&ts(-1, 0)).is_err());
        assert!(validate(&ts(MAX_SECONDS + 1, 0)).is_err());
    }
}
