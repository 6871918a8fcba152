//! `dgp.filter.http.authority`: refuses clients by IP with 403, from white lists (only listed
//! clients pass) and black lists (listed clients are refused); every list must pass. The client
//! is the TCP peer: behind a load balancer, list the balancer's addresses or put the filter on
//! a listener that clients reach directly.

use super::{Flow, HttpFilter, RequestCtx};
use crate::error::GatewayError;
use tianlu_api_config::bootstrap::filter::{AuthorityConfig, AuthorityRule};

/// The authority filter.
pub struct Authority {
    rules: Vec<AuthorityRule>,
}

impl Authority {
    /// Builds the filter.
    pub fn new(cfg: &AuthorityConfig) -> Self {
        Authority {
            rules: cfg.rules.clone(),
        }
    }
}

impl HttpFilter for Authority {
    fn name(&self) -> &'static str {
        "dgp.filter.http.authority"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        let ip = ctx.remote.map(|a| a.ip());
        if self.rules.iter().all(|r| r.passes(ip)) {
            return Flow::Continue;
        }
        let who = ip.map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string());
        Flow::Reply(
            GatewayError::Forbidden {
                reason: format!("requests from {who} are not allowed"),
            }
            .into_response_with(&ctx.request_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use axum::response::IntoResponse;
    use tianlu_api_config::bootstrap::filter::{IpNet, Strategy};

    fn filter(rules: &[(Strategy, &[&str])]) -> Authority {
        Authority::new(&AuthorityConfig {
            rules: rules
                .iter()
                .map(|(strategy, items)| AuthorityRule {
                    strategy: *strategy,
                    items: items.iter().map(|i| IpNet::parse(i).unwrap()).collect(),
                })
                .collect(),
        })
    }

    fn from(f: &Authority, peer: Option<&str>) -> u16 {
        let mut c = ctx("GET", "/x", &[]);
        c.remote = peer.map(|p| p.parse().unwrap());
        match f.on_request(&mut c) {
            Flow::Continue => 200,
            Flow::Reply(r) => r.status().as_u16(),
        }
    }

    #[test]
    fn white_and_black_lists_combine() {
        let f = filter(&[
            (Strategy::Allow, &["10.0.0.0/8", "::1"]),
            (Strategy::Deny, &["10.9.0.0/16"]),
        ]);
        let cases = [
            (Some("10.1.2.3:5000"), 200),
            (Some("10.9.1.1:5000"), 403),
            (Some("192.168.1.1:5000"), 403),
            (Some("[::1]:5000"), 200),
            (Some("[::ffff:10.1.2.3]:5000"), 200),
            (None, 403),
        ];
        for (peer, want) in cases {
            assert_eq!(from(&f, peer), want, "{peer:?}");
        }
        let deny_only = filter(&[(Strategy::Deny, &["127.0.0.1"])]);
        assert_eq!(
            from(&deny_only, None),
            200,
            "unknown peers pass a black list"
        );
        assert_eq!(from(&deny_only, Some("127.0.0.1:1")), 403);
    }

    #[test]
    fn refusal_is_a_json_403_and_responses_pass_untouched() {
        let f = filter(&[(Strategy::Allow, &["10.0.0.1"])]);
        let mut c = ctx("GET", "/x", &[]);
        c.remote = Some("10.0.0.2:1".parse().unwrap());
        let Flow::Reply(resp) = f.on_request(&mut c) else {
            panic!("must refuse")
        };
        assert_eq!(resp.status(), http::StatusCode::FORBIDDEN);
        assert_eq!(
            resp.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
        let mut ok = http::StatusCode::OK.into_response();
        f.on_response(&c, &mut ok);
        assert_eq!(ok.status(), http::StatusCode::OK);
    }
}
