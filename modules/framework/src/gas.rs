//! Deterministic gas metering. Costs follow the Cosmos SDK's `KVGasConfig` so
//! that gas estimates (and wallets' default limits) are of the same magnitude.

use std::cell::Cell;

use crate::error::{sdk, SdkError};

pub type Gas = u64;

/// Per-operation costs of state access (the SDK's `KVGasConfig()` defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvGasConfig {
    pub has_cost: Gas,
    pub delete_cost: Gas,
    pub read_cost_flat: Gas,
    pub read_cost_per_byte: Gas,
    pub write_cost_flat: Gas,
    pub write_cost_per_byte: Gas,
    pub iter_next_cost_flat: Gas,
}

impl Default for KvGasConfig {
    fn default() -> Self {
        Self {
            has_cost: 1000,
            delete_cost: 1000,
            read_cost_flat: 1000,
            read_cost_per_byte: 3,
            write_cost_flat: 2000,
            write_cost_per_byte: 30,
            iter_next_cost_flat: 30,
        }
    }
}

/// Gas consumed against a limit. Uses interior mutability so that read-only
/// state access through `&Context` is metered too.
#[derive(Debug)]
pub struct GasMeter {
    limit: Option<Gas>,
    consumed: Cell<Gas>,
}

impl GasMeter {
    /// A meter that fails once `limit` is exceeded.
    pub fn new(limit: Gas) -> Self {
        Self { limit: Some(limit), consumed: Cell::new(0) }
    }

    /// A meter without limit (genesis, end-block work, simulation).
    pub fn infinite() -> Self {
        Self { limit: None, consumed: Cell::new(0) }
    }

    pub fn limit(&self) -> Option<Gas> {
        self.limit
    }

    pub fn consumed(&self) -> Gas {
        self.consumed.get()
    }

    /// Adds `amount`; errors with `sdk`/11 (out of gas) past the limit. The
    /// consumed amount still grows, as in the SDK, so `gas_used` reports it.
    pub fn consume(&self, amount: Gas, descriptor: &str) -> Result<(), SdkError> {
        let total = self.consumed.get().saturating_add(amount);
        self.consumed.set(total);
        match self.limit {
            Some(limit) if total > limit => Err(sdk::out_of_gas(format!(
                "out of gas in location: {descriptor}; gasWanted: {limit}, gasUsed: {total}"
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_fails_past_limit_and_keeps_counting() {
        let m = GasMeter::new(100);
        m.consume(60, "a").unwrap();
        let err = m.consume(50, "b").unwrap_err();
        assert_eq!(err.code, 11);
        assert!(err.log.contains("gasWanted: 100, gasUsed: 110"), "{}", err.log);
        assert_eq!(m.consumed(), 110);
        let inf = GasMeter::infinite();
        inf.consume(u64::MAX, "x").unwrap();
        inf.consume(1, "y").unwrap();
        assert_eq!(inf.consumed(), u64::MAX);
    }
}
