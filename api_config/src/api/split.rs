//! `integrationRequest.split` (tianlu extension): canary routing and traffic splits. Each entry
//! sends matching requests to another cluster, provider group and/or version than the route's
//! own target: by request header (`header`, optional exact `value`), or by share of traffic
//! (`weight`, percent). Header entries are checked first, in order; then one weighted draw
//! picks among the weight entries, with the rest (100 − Σ weights) going to the route's target.

use crate::yaml::reader::{Ctx, MapView};

/// An HTTP header name: one or more token characters.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Largest sum of `weight`s.
pub const SPLIT_TOTAL: u32 = 100;

/// When a split entry applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitWhen {
    /// `header` (lower-cased) and optional `value`: the header is present (and equal to it).
    Header {
        /// Header name.
        name: String,
        /// Exact value; `None` = any value.
        value: Option<String>,
    },
    /// `weight`: this percent of the requests no header entry took.
    Weight(u32),
}

/// One `split[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRule {
    /// When it applies.
    pub when: SplitWhen,
    /// `cluster`: call this cluster instead of the route's.
    pub cluster: Option<String>,
    /// `group`: the provider group to call.
    pub group: Option<String>,
    /// `version`: the provider version to call.
    pub version: Option<String>,
    /// Line and key path of `cluster`, for "no such cluster" problems.
    pub(crate) cluster_site: (usize, String),
}

impl SplitRule {
    /// A rule sending to `group` (for tests of the code that applies rules).
    #[doc(hidden)]
    pub fn for_tests(when: SplitWhen, group: &str) -> SplitRule {
        SplitRule {
            when,
            cluster: None,
            group: Some(group.to_owned()),
            version: None,
            cluster_site: (0, String::new()),
        }
    }
}

/// Reads `split` of an `integrationRequest` view (absent = no split).
pub(crate) fn read(cx: &mut Ctx, m: &mut MapView<'_>) -> Vec<SplitRule> {
    let mut rules = Vec::new();
    let mut total = 0u32;
    for (path, node) in m.list(cx, "split") {
        let mut e = MapView::new(cx, node, path);
        let header = e
            .string(cx, "header")
            .map(|h| h.trim().to_ascii_lowercase());
        let value = e.string(cx, "value");
        let weight = e.uint(cx, "weight", u64::from(SPLIT_TOTAL));
        let when = match (header, weight) {
            (Some(h), None) => {
                if !is_header_name(&h) {
                    cx.problem(
                        e.key_line("header"),
                        &e.child("header"),
                        format!("{h:?} is not a header name"),
                    );
                }
                Some(SplitWhen::Header { name: h, value })
            }
            (None, Some(w)) => {
                if value.is_some() {
                    cx.problem(
                        e.key_line("value"),
                        &e.child("value"),
                        "value is only used with header",
                    );
                }
                let w = u32::try_from(w).unwrap_or(SPLIT_TOTAL);
                total += w;
                Some(SplitWhen::Weight(w))
            }
            (Some(_), Some(_)) => {
                cx.problem(e.line(), e.path(), "set either header or weight, not both");
                None
            }
            (None, None) => {
                cx.problem(
                    e.line(),
                    e.path(),
                    "set header (with an optional value) or weight (percent)",
                );
                None
            }
        };
        let cluster = e.string(cx, "cluster").filter(|s| !s.trim().is_empty());
        let group = e.string(cx, "group").filter(|s| !s.is_empty());
        let version = e.string(cx, "version").filter(|s| !s.is_empty());
        if cluster.is_none() && group.is_none() && version.is_none() {
            cx.problem(
                e.line(),
                e.path(),
                "say where the split goes: cluster, group and/or version",
            );
        }
        let cluster_site = (e.key_line("cluster"), e.child("cluster"));
        e.finish(cx);
        if let Some(when) = when {
            rules.push(SplitRule {
                when,
                cluster,
                group,
                version,
                cluster_site,
            });
        }
    }
    if total > SPLIT_TOTAL {
        cx.problem(
            m.key_line("split"),
            &m.child("split"),
            format!("the weights add up to {total}; at most {SPLIT_TOTAL} (percent)"),
        );
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiConfig;

    fn load(split: &str) -> Result<Vec<SplitRule>, String> {
        let text = format!("name: t\nresources:\n  - path: /a\n    methods:\n      - httpVerb: GET\n        integrationRequest:\n          interface: a.B\n          method: m\n          clusterName: c\n          parameterTypes: []\n          split:\n{split}");
        ApiConfig::from_yaml_str(&text, "api.yaml")
            .map(|(a, _)| a.routes[0].target.split.clone())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_header_and_weight_entries() {
        let s = load("            - { header: X-Canary, value: \"1\", version: 2.0.0 }\n            - { weight: 10, cluster: canary, group: g2 }\n").unwrap();
        assert_eq!(
            s[0].when,
            SplitWhen::Header {
                name: "x-canary".into(),
                value: Some("1".into())
            }
        );
        assert_eq!(s[0].version.as_deref(), Some("2.0.0"));
        assert_eq!(s[1].when, SplitWhen::Weight(10));
        assert_eq!(
            (s[1].cluster.as_deref(), s[1].group.as_deref()),
            (Some("canary"), Some("g2"))
        );
    }

    #[test]
    fn problems_name_the_entry() {
        for (split, path, what) in [
            (
                "            - { weight: 60, group: a }\n            - { weight: 50, group: b }\n",
                "split",
                "add up to 110",
            ),
            (
                "            - { header: x, weight: 5, group: a }\n",
                "split[0]",
                "not both",
            ),
            ("            - { group: a }\n", "split[0]", "set header"),
            ("            - { weight: 5 }\n", "split[0]", "say where"),
            (
                "            - { weight: 5, value: x, group: a }\n",
                "split[0].value",
                "only used with header",
            ),
            (
                "            - { header: \"a b\", group: a }\n",
                "split[0].header",
                "not a header name",
            ),
            (
                "            - { weight: 101, group: a }\n",
                "split[0].weight",
                "",
            ),
        ] {
            let e = load(split).expect_err(split);
            assert!(e.contains(path) && e.contains(what), "{split}: {e}");
        }
    }
}
