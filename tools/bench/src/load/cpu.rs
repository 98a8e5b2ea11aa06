//! CPU time the run's processes used during the load, read from `/proc`.
//!
//! Why: this machine's speed changes by about 2× from hour to hour, so committed tx/s alone
//! cannot tell two settings apart unless they run in the same minute. CPU time per committed
//! tx, split by process, says where a send's cost went (CometBFT or the app) and moves much
//! less with the offered rate than throughput does.

use std::time::{Duration, Instant};

/// A process whose CPU time is reported, by what it runs.
#[derive(Clone, Debug)]
pub struct Watched {
    pub name: &'static str,
    pub pid: u32,
}

/// CPU times at one instant.
#[derive(Clone, Debug)]
pub struct CpuSample {
    at: Instant,
    /// Each watched process's user + system time (`None` once it is gone).
    processes: Vec<(&'static str, Option<Duration>)>,
    /// The machine's busy and total jiffies (`/proc/stat`'s first line).
    machine: Option<(u64, u64)>,
}

/// Between two samples.
#[derive(Clone, Debug)]
pub struct CpuUse {
    pub wall: Duration,
    pub processes: Vec<(&'static str, Option<Duration>)>,
    /// Share of every CPU's time spent busy (0–1), from `/proc/stat`.
    pub machine_busy: Option<f64>,
}

pub fn sample(watched: &[Watched]) -> CpuSample {
    CpuSample {
        at: Instant::now(),
        processes: watched.iter().map(|w| (w.name, process_cpu(w.pid))).collect(),
        machine: machine_jiffies(),
    }
}

impl CpuSample {
    pub fn until(&self, later: &CpuSample) -> CpuUse {
        let processes = self
            .processes
            .iter()
            .zip(&later.processes)
            .map(|((name, a), (_, b))| (*name, a.zip(*b).map(|(a, b)| b.saturating_sub(a))))
            .collect();
        let machine_busy = self.machine.zip(later.machine).and_then(|((busy0, total0), (busy1, total1))| {
            let total = total1.checked_sub(total0).filter(|t| *t > 0)?;
            Some(busy1.saturating_sub(busy0) as f64 / total as f64)
        });
        CpuUse { wall: later.at.saturating_duration_since(self.at), processes, machine_busy }
    }
}

impl CpuUse {
    /// Every watched process's CPU together (`None` if one is unknown).
    pub fn total(&self) -> Option<Duration> {
        self.processes.iter().map(|(_, d)| *d).sum()
    }

    /// [`CpuUse::total`] per committed tx, in microseconds.
    pub fn total_per_tx_us(&self, committed: u64) -> Option<u64> {
        let micros = self.total()?.as_micros();
        (committed > 0).then(|| u64::try_from(micros / u128::from(committed)).unwrap_or(u64::MAX))
    }

    /// `CPU during the load: CometBFT 41.2 s (180 µs per committed tx), ...`.
    pub fn line(&self, committed: u64) -> String {
        let per_tx = |d: Duration| {
            if committed == 0 {
                String::new()
            } else {
                format!(" ({} us per committed tx)", (d.as_secs_f64() * 1e6 / committed as f64).round())
            }
        };
        let mut parts: Vec<String> = self
            .processes
            .iter()
            .map(|(name, d)| match d {
                Some(d) => format!("{name} {:.1} s{}", d.as_secs_f64(), per_tx(*d)),
                None => format!("{name} unknown"),
            })
            .collect();
        if let Some(sum) = self.total().filter(|_| self.processes.len() > 1) {
            parts.push(format!("together {:.1} s{}", sum.as_secs_f64(), per_tx(sum)));
        }
        if let Some(busy) = self.machine_busy {
            parts.push(format!("machine {:.0}% busy", busy * 100.0));
        }
        format!("CPU during the load ({:.1} s): {}", self.wall.as_secs_f64(), parts.join(", "))
    }
}

/// Clock ticks per second of `/proc`'s times.
fn ticks_per_sec() -> Option<u64> {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|t| *t > 0)
}

/// A process's user + system time so far.
fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (utime, stime) = parse_process_stat(&stat)?;
    let ticks = ticks_per_sec()?;
    let total = utime.checked_add(stime)?;
    Some(Duration::from_nanos(total.checked_mul(1_000_000_000 / ticks)?))
}

/// `utime` and `stime` (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name (field
/// 2) is in parentheses and may hold spaces and parentheses, so fields count from the last `)`.
fn parse_process_stat(stat: &str) -> Option<(u64, u64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

fn machine_jiffies() -> Option<(u64, u64)> {
    parse_machine_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// Busy and total jiffies from `/proc/stat`'s `cpu` line (idle and iowait are not busy).
fn parse_machine_stat(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let values: Vec<u64> = line.split_whitespace().map(|v| v.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    let first8 = values.get(..8)?;
    let total: u64 = first8.iter().sum();
    let idle = first8[3] + first8[4];
    Some((total - idle, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_times_are_read_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 731 58 0 0 20 0 3 0 9 0 0";
        assert_eq!(parse_process_stat(stat), Some((731, 58)));
        assert_eq!(parse_process_stat("4242 (x) S 1 2"), None);
    }

    #[test]
    fn machine_busy_leaves_out_idle_and_iowait() {
        let stat = "cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
        assert_eq!(parse_machine_stat(stat), Some((160, 1000)));
        assert_eq!(parse_machine_stat("intr 1 2 3\n"), None);
    }

    #[test]
    fn this_process_uses_cpu_between_two_samples() {
        let me = [Watched { name: "this process", pid: std::process::id() }];
        let before = sample(&me);
        // Spin until the reading grows (it counts in clock ticks, and a loaded machine may
        // deschedule this thread), or give up after 10 s: a reading that never grows fails.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut x = 0u64;
        let used = loop {
            for _ in 0..1_000_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            let used = before.until(&sample(&me));
            if used.processes[0].1.is_some_and(|d| d >= Duration::from_millis(30)) || Instant::now() > deadline {
                break used;
            }
        };
        let cpu = used.processes[0].1.expect("own /proc entry");
        assert!(cpu >= Duration::from_millis(30), "{cpu:?} of CPU after spinning for {:?}", used.wall);
        assert!(used.line(10).contains("us per committed tx"));
        assert_eq!(used.total(), Some(cpu));
        assert_eq!(used.total_per_tx_us(10), Some(u64::try_from(cpu.as_micros() / 10).unwrap()));
        assert_eq!(used.total_per_tx_us(0), None);
    }
}
