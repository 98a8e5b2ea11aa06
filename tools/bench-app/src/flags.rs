//! `--name value`, `--name=value` and bare `--switch` flags, parsed by hand so the
//! app-level benchmark links nothing but the state machine (no CLI framework).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{bail, Context as _};

/// Flags given on the command line; each getter takes its flag out, so
/// [`Flags::finish`] can refuse the ones nobody asked for.
pub struct Flags {
    given: BTreeMap<String, Option<String>>,
}

impl Flags {
    /// `switches` are the flags that take no value.
    pub fn parse(args: &[String], switches: &[&str]) -> anyhow::Result<Self> {
        let mut given = BTreeMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else { bail!("unexpected argument {arg:?}") };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None if switches.contains(&name) => (name.to_string(), None),
                None => (name.to_string(), Some(it.next().with_context(|| format!("--{name} needs a value"))?.clone())),
            };
            if given.insert(name.clone(), value).is_some() {
                bail!("--{name} given twice");
            }
        }
        Ok(Self { given })
    }

    pub fn number<T: FromStr>(&mut self, name: &str, default: T) -> anyhow::Result<T> {
        match self.given.remove(name).flatten() {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| anyhow::anyhow!("--{name} {v:?}: not a number")),
        }
    }

    pub fn numbers(&mut self, name: &str, default: &[usize]) -> anyhow::Result<Vec<usize>> {
        match self.given.remove(name).flatten() {
            None => Ok(default.to_vec()),
            Some(v) => v
                .split(',')
                .map(|n| n.trim().parse().map_err(|_| anyhow::anyhow!("--{name} {v:?}: not a list of numbers")))
                .collect(),
        }
    }

    pub fn path(&mut self, name: &str) -> Option<PathBuf> {
        self.given.remove(name).flatten().map(PathBuf::from)
    }

    /// A flag without a value (`--check-tx`; `--check-tx=true|false` also reads as written).
    pub fn switch(&mut self, name: &str) -> anyhow::Result<bool> {
        match self.given.remove(name) {
            None => Ok(false),
            Some(None) => Ok(true),
            Some(Some(v)) => v.parse().map_err(|_| anyhow::anyhow!("--{name}={v:?}: expected true or false")),
        }
    }

    /// Fails on any flag no getter took.
    pub fn finish(&self) -> anyhow::Result<()> {
        match self.given.keys().next() {
            Some(name) => bail!("unknown flag --{name}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> anyhow::Result<Flags> {
        Flags::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &["check-tx"])
    }

    #[test]
    fn parses_values_switches_and_refuses_the_rest() {
        let mut f = flags(&["--blocks", "3", "--check-tx", "--dir=/x", "--sizes", "1,2"]).unwrap();
        assert_eq!(f.number("blocks", 5usize).unwrap(), 3);
        assert_eq!(f.number("seed", 7u64).unwrap(), 7);
        assert!(f.switch("check-tx").unwrap());
        assert_eq!(f.path("dir"), Some(PathBuf::from("/x")));
        assert_eq!(f.numbers("sizes", &[9]).unwrap(), vec![1, 2]);
        f.finish().unwrap();
        assert!(flags(&["--blocks"]).is_err(), "a value is missing");
        assert!(flags(&["blocks"]).is_err());
        assert!(flags(&["--seed", "1", "--seed", "2"]).is_err());
        assert!(flags(&["--blocks", "x"]).unwrap().number("blocks", 1usize).is_err());
        assert!(flags(&["--nope", "1"]).unwrap().finish().is_err());
        assert!(!flags(&["--check-tx=false"]).unwrap().switch("check-tx").unwrap());
        assert!(flags(&["--check-tx=maybe"]).unwrap().switch("check-tx").is_err());
    }
}
