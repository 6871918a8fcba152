//! Canary routing and traffic splits of a route (`integrationRequest.split`), compiled at load
//! time: header entries are tried in order, then one random draw in 0..100 picks a weight entry
//! (or none, leaving the request on the route's own target). A chosen entry may change the
//! cluster (with that cluster's retry budget), the provider group and the version.

use crate::upstream::{Cluster, RetryBudget};
use http::HeaderMap;
use std::collections::HashMap;
use std::sync::Arc;
use tianlu_api_config::api::split::{SplitRule, SplitWhen, SPLIT_TOTAL};

/// One compiled split entry.
pub struct SplitTarget {
    when: SplitWhen,
    /// The cluster to call instead of the route's, with its retry budget.
    pub cluster: Option<(Arc<Cluster>, Arc<RetryBudget>)>,
    /// The provider group to call.
    pub group: Option<String>,
    /// The provider version to call.
    pub version: Option<String>,
}

/// A route's split entries.
#[derive(Default)]
pub struct Split {
    targets: Vec<SplitTarget>,
    weighted: bool,
}

impl Split {
    /// Compiles `rules`; `cluster_of` gives a cluster and its budget by name.
    pub fn compile(
        rules: &[SplitRule],
        cluster_of: impl Fn(&str) -> Option<(Arc<Cluster>, Arc<RetryBudget>)>,
    ) -> Result<Split, String> {
        let mut targets = Vec::with_capacity(rules.len());
        for r in rules {
            let cluster = match &r.cluster {
                Some(name) => Some(
                    cluster_of(name)
                        .ok_or_else(|| format!("split: cluster {name} is not defined"))?,
                ),
                None => None,
            };
            targets.push(SplitTarget {
                when: r.when.clone(),
                cluster,
                group: r.group.clone(),
                version: r.version.clone(),
            });
        }
        let weighted = targets
            .iter()
            .any(|t| matches!(t.when, SplitWhen::Weight(w) if w > 0));
        Ok(Split { targets, weighted })
    }

    /// The entry this request goes to, if any.
    pub fn pick(&self, headers: &HeaderMap) -> Option<&SplitTarget> {
        if self.targets.is_empty() {
            return None;
        }
        let by_header = self.targets.iter().find(|t| match &t.when {
            SplitWhen::Header { name, value } => match headers.get(name.as_str()) {
                Some(v) => value
                    .as_ref()
                    .is_none_or(|want| v.as_bytes() == want.as_bytes()),
                None => false,
            },
            SplitWhen::Weight(_) => false,
        });
        if by_header.is_some() || !self.weighted {
            return by_header;
        }
        let mut draw = rand::random_range(0..SPLIT_TOTAL);
        for t in &self.targets {
            if let SplitWhen::Weight(w) = t.when {
                if draw < w {
                    return Some(t);
                }
                draw -= w;
            }
        }
        None
    }
}

/// Clusters by name, for [`Split::compile`].
pub fn lookup<'a>(
    clusters: &'a HashMap<String, Arc<Cluster>>,
    budgets: &'a HashMap<String, Arc<RetryBudget>>,
) -> impl Fn(&str) -> Option<(Arc<Cluster>, Arc<RetryBudget>)> + 'a {
    move |name| {
        Some((
            Arc::clone(clusters.get(name)?),
            Arc::clone(budgets.get(name)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(when: SplitWhen, group: &str) -> SplitRule {
        tianlu_api_config::api::split::SplitRule::for_tests(when, group)
    }

    #[test]
    fn headers_first_then_weights() {
        let s = Split::compile(
            &[
                rule(
                    SplitWhen::Header {
                        name: "x-canary".into(),
                        value: Some("1".into()),
                    },
                    "h",
                ),
                rule(SplitWhen::Weight(25), "w"),
            ],
            |_| None,
        )
        .unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-canary", "1".parse().unwrap());
        assert_eq!(s.pick(&h).unwrap().group.as_deref(), Some("h"));
        h.insert("x-canary", "2".parse().unwrap());
        let hits = (0..4000)
            .filter(|_| s.pick(&h).is_some_and(|t| t.group.as_deref() == Some("w")))
            .count();
        assert!((800..1200).contains(&hits), "{hits} of 4000 at 25%");
        assert!(Split::default().pick(&h).is_none());
    }
}
