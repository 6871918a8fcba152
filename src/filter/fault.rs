//! `dgp.filter.http.faultinjection`: for matching requests, and for the configured share of
//! them, either answers at once with a status and body (abort) or waits before going on
//! (delay). The first matching rule applies. The request phase waits only when a delay rule
//! exists.

use super::{FilterFuture, Flow, HttpFilter, RequestCtx};
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use rand::Rng;
use tianlu_api_config::bootstrap::filter::{FaultAction, FaultConfig, FaultRule};

/// The fault-injection filter.
pub struct FaultInjection {
    rules: Vec<FaultRule>,
    has_delay: bool,
}

/// What a request gets.
#[derive(Debug, PartialEq)]
enum Verdict<'a> {
    Pass,
    Abort(&'a FaultAction),
    Delay(std::time::Duration),
}

impl FaultInjection {
    /// Builds the filter.
    pub fn new(cfg: &FaultConfig) -> Self {
        FaultInjection {
            has_delay: cfg
                .rules
                .iter()
                .any(|r| matches!(r.action, FaultAction::Delay(_))),
            rules: cfg.rules.clone(),
        }
    }

    /// Picks the verdict with `roll` in 1..=100 (the caller's dice).
    fn verdict(&self, ctx: &RequestCtx, roll: impl FnOnce() -> u8) -> Verdict<'_> {
        let (path, query) = (ctx.uri.path(), ctx.uri.query());
        let Some(rule) = self
            .rules
            .iter()
            .find(|r| r.path_match.matches(path, query))
        else {
            return Verdict::Pass;
        };
        let hit = match rule.percent {
            0 => false,
            100.. => true,
            p => roll() <= p,
        };
        match &rule.action {
            _ if !hit => Verdict::Pass,
            FaultAction::Delay(d) => Verdict::Delay(*d),
            abort => Verdict::Abort(abort),
        }
    }
}

fn roll() -> u8 {
    rand::rng().random_range(1..=100)
}

/// The local answer of an abort: the body as JSON when it parses as JSON, else as text.
fn abort_response(action: &FaultAction) -> Response {
    let FaultAction::Abort { status, body } = action else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body.clone()).into_response();
    if !body.is_empty() {
        let json = serde_json::from_str::<serde_json::Value>(body).is_ok();
        let ct = if json {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    resp
}

impl HttpFilter for FaultInjection {
    fn name(&self) -> &'static str {
        "dgp.filter.http.faultinjection"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        match self.verdict(ctx, roll) {
            Verdict::Abort(a) => Flow::Reply(abort_response(a)),
            // Only reached through `on_request_async`'s fallback when no delay rule exists.
            Verdict::Pass | Verdict::Delay(_) => Flow::Continue,
        }
    }

    fn is_async(&self) -> bool {
        self.has_delay
    }

    fn on_request_async<'a>(&'a self, ctx: &'a mut RequestCtx) -> FilterFuture<'a> {
        Box::pin(async move {
            match self.verdict(ctx, roll) {
                Verdict::Pass => Flow::Continue,
                Verdict::Abort(a) => Flow::Reply(abort_response(a)),
                Verdict::Delay(d) => {
                    tokio::time::sleep(d).await;
                    Flow::Continue
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use std::time::Duration;
    use tianlu_api_config::bootstrap::filter::PathMatch;

    fn rule(m: PathMatch, action: FaultAction, percent: u8) -> FaultRule {
        FaultRule {
            path_match: m,
            action,
            percent,
        }
    }

    fn abort(status: u16, body: &str) -> FaultAction {
        FaultAction::Abort {
            status,
            body: body.into(),
        }
    }

    #[test]
    fn first_matching_rule_and_odds_decide() {
        let f = FaultInjection::new(&FaultConfig {
            rules: vec![
                rule(PathMatch::Uri("/a?x=1".into()), abort(418, ""), 100),
                rule(PathMatch::Prefix("/a".into()), abort(503, ""), 30),
                rule(PathMatch::Path("/never".into()), abort(500, ""), 0),
            ],
        });
        let c = |uri: &str| ctx("GET", uri, &[]);
        let status = |v: Verdict<'_>| match v {
            Verdict::Abort(FaultAction::Abort { status, .. }) => *status,
            _ => 0,
        };
        assert_eq!(status(f.verdict(&c("/a?x=1"), || 100)), 418);
        assert_eq!(status(f.verdict(&c("/a/b"), || 30)), 503, "30 ≤ 30 hits");
        assert_eq!(f.verdict(&c("/a/b"), || 31), Verdict::Pass, "31 misses");
        assert_eq!(
            f.verdict(&c("/never"), || 1),
            Verdict::Pass,
            "odds 0 never hit"
        );
        assert_eq!(f.verdict(&c("/other"), || 1), Verdict::Pass);
        assert!(!f.is_async(), "no delay rule, no waiting");
    }

    #[test]
    fn abort_answers_with_status_and_typed_body() {
        let f = FaultInjection::new(&FaultConfig {
            rules: vec![
                rule(
                    PathMatch::Prefix("/j".into()),
                    abort(503, r#"{"down":true}"#),
                    100,
                ),
                rule(PathMatch::Prefix("/t".into()), abort(500, "boom"), 100),
            ],
        });
        let Flow::Reply(r) = f.on_request(&mut ctx("GET", "/j", &[])) else {
            panic!()
        };
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        let Flow::Reply(r) = f.on_request(&mut ctx("GET", "/t", &[])) else {
            panic!()
        };
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
        let mut resp = StatusCode::OK.into_response();
        f.on_response(&ctx("GET", "/j", &[]), &mut resp);
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "the response phase changes nothing"
        );
    }

    #[tokio::test]
    async fn delay_waits_then_continues() {
        let f = FaultInjection::new(&FaultConfig {
            rules: vec![rule(
                PathMatch::any(),
                FaultAction::Delay(Duration::from_millis(50)),
                100,
            )],
        });
        assert!(f.is_async());
        let start = std::time::Instant::now();
        let mut c = ctx("GET", "/x", &[]);
        assert!(matches!(f.on_request_async(&mut c).await, Flow::Continue));
        assert!(start.elapsed() >= Duration::from_millis(50), "it waited");
    }
}
