//! `tianlu.filter.http.headers`, also loaded for pixiu's `dgp.filter.http.header` (a no-op in
//! pixiu; here the name does what it says): removes, sets and adds request headers before later
//! filters and the parameter mapping (`headers.<name>`) see them, and response headers on every
//! answer, local replies and errors included.

use super::{Flow, HttpFilter, RequestCtx};
use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue};
use tianlu_api_config::bootstrap::filter::{HeaderOps, HeadersConfig};

/// Header changes ready to apply.
#[derive(Default)]
struct Ops {
    remove: Vec<HeaderName>,
    set: Vec<(HeaderName, HeaderValue)>,
    add: Vec<(HeaderName, HeaderValue)>,
}

impl Ops {
    fn new(ops: &HeaderOps, side: &str) -> Result<Ops, String> {
        let name = |n: &str| {
            HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| format!("headers: {side}: {n:?} is not a header name"))
        };
        let pair = |(n, v): &(String, String)| -> Result<(HeaderName, HeaderValue), String> {
            let value = HeaderValue::from_str(v)
                .map_err(|_| format!("headers: {side}: the value of {n} cannot be sent"))?;
            Ok((name(n)?, value))
        };
        Ok(Ops {
            remove: ops
                .remove
                .iter()
                .map(|n| name(n))
                .collect::<Result<_, _>>()?,
            set: ops.set.iter().map(pair).collect::<Result<_, _>>()?,
            add: ops.add.iter().map(pair).collect::<Result<_, _>>()?,
        })
    }

    fn apply(&self, headers: &mut HeaderMap) {
        for n in &self.remove {
            headers.remove(n);
        }
        for (n, v) in &self.set {
            headers.insert(n.clone(), v.clone());
        }
        for (n, v) in &self.add {
            headers.append(n.clone(), v.clone());
        }
    }
}

/// The header-manipulation filter (named `tianlu.filter.http.headers` whichever name loaded it).
pub struct Headers {
    request: Ops,
    response: Ops,
}

impl Headers {
    /// Builds the filter.
    pub fn new(cfg: &HeadersConfig) -> Result<Self, String> {
        Ok(Headers {
            request: Ops::new(&cfg.request, "request")?,
            response: Ops::new(&cfg.response, "response")?,
        })
    }
}

impl HttpFilter for Headers {
    fn name(&self) -> &'static str {
        "tianlu.filter.http.headers"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        self.request.apply(&mut ctx.headers);
        Flow::Continue
    }

    fn on_response(&self, _ctx: &RequestCtx, resp: &mut Response) {
        self.response.apply(resp.headers_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use axum::response::IntoResponse;

    fn ops(set: &[(&str, &str)], add: &[(&str, &str)], remove: &[&str]) -> HeaderOps {
        let own = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        HeaderOps {
            set: own(set),
            add: own(add),
            remove: remove.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn filter() -> Headers {
        Headers::new(&HeadersConfig {
            request: ops(&[("x-tenant", "t1")], &[("x-tag", "gw")], &["cookie"]),
            response: ops(&[("server", "tianlu")], &[("x-tag", "r")], &["x-internal"]),
        })
        .unwrap()
    }

    #[test]
    fn request_headers_are_removed_set_and_added() {
        let f = filter();
        let mut c = ctx(
            "GET",
            "/x",
            &[
                ("x-tenant", "spoofed"),
                ("x-tag", "client"),
                ("cookie", "s=1"),
            ],
        );
        assert!(matches!(f.on_request(&mut c), Flow::Continue));
        assert_eq!(
            c.headers["x-tenant"], "t1",
            "set replaces what the client sent"
        );
        let tags: Vec<_> = c.headers.get_all("x-tag").iter().collect();
        assert_eq!(tags, ["client", "gw"], "add keeps existing values");
        assert!(!c.headers.contains_key("cookie"));
    }

    #[test]
    fn response_headers_change_on_every_answer() {
        let f = filter();
        let c = ctx("GET", "/x", &[]);
        let mut resp = (
            http::StatusCode::BAD_GATEWAY,
            [("x-internal", "secret"), ("server", "other")],
        )
            .into_response();
        f.on_response(&c, &mut resp);
        let h = resp.headers();
        assert_eq!(h["server"], "tianlu");
        assert_eq!(h["x-tag"], "r");
        assert!(!h.contains_key("x-internal"));
        assert_eq!(f.name(), "tianlu.filter.http.headers");
    }

    #[test]
    fn bad_values_fail_the_build() {
        let cfg = HeadersConfig {
            request: ops(&[("x-a", "line\nbreak")], &[], &[]),
            response: HeaderOps::default(),
        };
        assert!(Headers::new(&cfg).is_err());
    }
}
