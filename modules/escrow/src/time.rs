//! Timestamps: validity (proto `Timestamp` rules, limited to 1970..=9999 so that
//! the expiry index can use unsigned big-endian seconds) and RFC 3339 text, as
//! proto3 JSON writes it (`2026-01-02T03:04:05Z`, fractions in 3, 6 or 9 digits).

pub use paychain_framework::time::Timestamp;
use paychain_framework::BlockTime;

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
    paychain_framework::time::rfc3339(t.seconds, t.nanos)
}

/// `format` of an optional timestamp; unset = empty string (event attributes).
pub fn format_opt(t: Option<&Timestamp>) -> String {
    t.map(format).unwrap_or_default()
}

/// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, fraction of 1 to 9
/// digits) into a valid timestamp in UTC.
pub fn parse(s: &str) -> Result<Timestamp, String> {
    let (seconds, nanos) = paychain_framework::time::parse_rfc3339(s)?;
    let t = Timestamp { seconds, nanos };
    validate(&t).map_err(|e| format!("invalid RFC 3339 timestamp {s:?}: {e}"))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

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
