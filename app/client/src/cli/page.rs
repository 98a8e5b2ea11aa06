//! One page of a list query, as every module's `query` commands take it.

use anyhow::anyhow;
use base64::Engine as _;
use clap::Args;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;

/// `--limit`, `--page-key` (the previous page's `next_key`) or `--offset`,
/// `--count-total`, `--reverse`: the SDK's `PageRequest`.
#[derive(Args, Debug)]
pub struct PageArgs {
    /// Most entries to return
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// Start at this key (the `next_key` of the previous page, base64)
    #[arg(long, value_name = "KEY", conflicts_with = "offset")]
    pub page_key: Option<String>,
    /// Skip this many entries (instead of --page-key)
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Also count all matching entries (pagination.total)
    #[arg(long)]
    pub count_total: bool,
    /// Newest first
    #[arg(long)]
    pub reverse: bool,
}

impl PageArgs {
    pub fn request(&self) -> anyhow::Result<PageRequest> {
        let key = match &self.page_key {
            None => Vec::new(),
            Some(k) => base64::engine::general_purpose::STANDARD
                .decode(k.trim())
                .map_err(|_| anyhow!("--page-key {k:?}: expected the base64 next_key of a previous page"))?,
        };
        Ok(PageRequest {
            key,
            offset: self.offset,
            limit: self.limit,
            count_total: self.count_total,
            reverse: self.reverse,
        })
    }
}
