//! Formatting of benchmark results (floats are fine here: nothing goes back into state).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// Microseconds with one decimal.
pub fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

/// `count / d` per second, rounded.
pub fn per_sec(count: u64, d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs <= 0.0 {
        return "-".to_string();
    }
    format!("{:.0}", count as f64 / secs)
}

/// `part` as a percentage of `whole`.
pub fn percent(part: Duration, whole: Duration) -> String {
    if whole.is_zero() {
        return "-".to_string();
    }
    format!("{:.1}%", part.as_secs_f64() * 100.0 / whole.as_secs_f64())
}

/// Average of `total` over `count` occurrences.
pub fn average(total: Duration, count: u64) -> Duration {
    match u32::try_from(count) {
        Ok(0) => Duration::ZERO,
        Ok(n) => total / n,
        Err(_) => Duration::from_secs_f64(total.as_secs_f64() / count as f64),
    }
}

/// The `q`-quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median of unsorted values.
pub fn median(values: &[Duration]) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    quantile(&v, 0.5)
}

/// Mebibytes with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1u64 << 20) as f64)
}

/// CPUs, the 1-minute load average before the run and the machine's speed now: other
/// processes on the machine slow a benchmark down, and its report should say so.
pub fn machine_line() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string());
    format!(
        "machine: {cpus} CPUs, load average {load} before the run (above 0 = other processes compete for them); \
         one secp256k1 verification {} us on one core now (a rough gauge of the machine's speed)",
        secp256k1_verify_time().map_or_else(|| "?".to_string(), us)
    )
}

/// The median time of one signature check as the node makes it (`verify_secp256k1`: key and
/// signature parsed, sha256, libsecp256k1) over a few short rounds on this thread. A shared
/// virtual machine runs the same instructions up to ~2x slower in some hours with no steal
/// time to show for it (docs/benchmarks.md, "This machine's speed"), so a report that carries
/// this can be compared with one from another hour. 700 checks: about 30-100 ms.
pub fn secp256k1_verify_time() -> Option<Duration> {
    use paychain_tx::{build::sign_bytes, sign::verify_secp256k1};
    use secp256k1::{PublicKey, SecretKey, SECP256K1};
    const ROUNDS: usize = 7;
    const PER_ROUND: u32 = 100;
    let key = SecretKey::from_slice(&[7u8; 32]).ok()?;
    let public = PublicKey::from_secret_key(SECP256K1, &key).serialize();
    let message = b"paychain machine speed";
    let signature = sign_bytes(message, &key);
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = std::time::Instant::now();
        for _ in 0..PER_ROUND {
            // A failed check would time another path than the one a node runs.
            std::hint::black_box(verify_secp256k1(&public, message, &signature)).then_some(())?;
        }
        rounds.push(t.elapsed() / PER_ROUND);
    }
    rounds.sort_unstable();
    Some(rounds[ROUNDS / 2])
}

/// Today's UTC date, `YYYY-MM-DD` (for the results rows of docs/benchmarks.md).
pub fn today() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // The date part of the node's own RFC 3339 formatting.
    paychain_framework::time::rfc3339(i64::try_from(secs).unwrap_or(0), 0)[..10].to_string()
}

/// Parses a duration such as `60s`, `500ms`, `2m` or `1m30s`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?}: expected e.g. 60s, 500ms or 2m");
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let value: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value * 60),
            "h" => Duration::from_secs(value * 3600),
            _ => return Err(bad()),
        };
        total += part;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Resident memory of this process (Linux `VmRSS`), in MiB.
pub fn rss_mib() -> Option<u64> {
    proc_status_mib("VmRSS:")
}

/// A memory figure in MiB, or "?" where the system does not say.
pub fn mib_or_unknown(m: Option<u64>) -> String {
    m.map_or("?".to_string(), |m| m.to_string())
}

/// The most this process has held resident so far (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<u64> {
    proc_status_mib("VmHWM:")
}

fn proc_status_mib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secp256k1_verify_time_is_measured() {
        let t = secp256k1_verify_time().expect("the probe's own signature verifies");
        // A verification takes tens of microseconds on any machine this runs on; zero or
        // seconds would mean the probe timed something else.
        assert!(t > Duration::from_nanos(500) && t < Duration::from_millis(50), "{t:?}");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "s", "10", "1x", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&v, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
        assert_eq!(
            median(&[Duration::from_millis(3), Duration::from_millis(1), Duration::from_millis(2)]).as_millis(),
            2
        );
    }

    #[test]
    fn date_is_civil() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"), "{d}");
    }
}
