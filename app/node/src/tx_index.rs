//! The node's own tx index (`paychain-txindex`) over the state store's side records.

use paychain_store::MerkleStore;
use paychain_txindex::IndexStore;

/// [`IndexStore`] over the store's side records: reads see the latest committed block.
pub struct StoreIndex<'a>(pub &'a MerkleStore);

impl IndexStore for StoreIndex<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.0.side_get(key).map_err(|e| e.to_string())
    }

    fn scan(&self, from: &[u8], to: &[u8], f: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> Result<(), String> {
        self.0.side_scan(from, to, f).map_err(|e| e.to_string())
    }
}
