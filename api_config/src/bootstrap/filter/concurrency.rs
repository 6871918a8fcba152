//! `tianlu.filter.http.concurrency` config: `max`, the most requests one filter instance (a
//! route, or a listener) lets in flight at once; the excess is refused at once, never queued.

use crate::yaml::reader::{Ctx, MapView};

/// Largest `max`.
pub const MAX_CONCURRENCY: u64 = 1_000_000;

/// `tianlu.filter.http.concurrency` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcurrencyConfig {
    /// `max` (required, at least 1): requests in flight at once through this filter instance.
    pub max: usize,
}

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<ConcurrencyConfig> {
    if c.get("max").is_none() {
        c.missing(cx, "max");
        return None;
    }
    let max = c.uint(cx, "max", MAX_CONCURRENCY)?;
    if max == 0 {
        cx.problem(
            c.key_line("max"),
            &c.child("max"),
            "must be greater than 0 (0 would refuse every request)",
        );
        return None;
    }
    usize::try_from(max)
        .ok()
        .map(|max| ConcurrencyConfig { max })
}
