//! `tianlu.filter.http.mock`: answers matching requests from the configuration (status,
//! headers, JSON body) without calling a provider; the first matching rule answers. Useful while
//! a provider is being written, and for stubbing a route in tests.

use super::{Flow, HttpFilter, RequestCtx};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue, StatusCode};
use tianlu_api_config::bootstrap::filter::{MockConfig, PathMatch};

struct Rule {
    method: Option<String>,
    path_match: PathMatch,
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The serialized JSON body, built once.
    body: Option<Bytes>,
}

/// The mock filter.
pub struct Mock {
    rules: Vec<Rule>,
}

impl Mock {
    /// Builds the filter; fails on headers that cannot be sent.
    pub fn new(cfg: &MockConfig) -> Result<Self, String> {
        let mut rules = Vec::new();
        for r in &cfg.rules {
            let status = StatusCode::from_u16(r.status)
                .map_err(|_| format!("mock: {} is not a status code", r.status))?;
            let mut headers = Vec::new();
            for (n, v) in &r.headers {
                let name = HeaderName::from_bytes(n.as_bytes())
                    .map_err(|_| format!("mock: {n:?} is not a header name"))?;
                let value = HeaderValue::from_str(v)
                    .map_err(|_| format!("mock: the value of {n} cannot be sent"))?;
                headers.push((name, value));
            }
            let body = match &r.body {
                Some(v) => Some(Bytes::from(
                    serde_json::to_vec(v).map_err(|e| format!("mock: body: {e}"))?,
                )),
                None => None,
            };
            rules.push(Rule {
                method: r.method.clone(),
                path_match: r.path_match.clone(),
                status,
                headers,
                body,
            });
        }
        Ok(Mock { rules })
    }
}

impl Rule {
    fn response(&self) -> Response {
        let mut resp = match &self.body {
            Some(b) => {
                let mut r = (self.status, b.clone()).into_response();
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
            None => self.status.into_response(),
        };
        for (n, v) in &self.headers {
            resp.headers_mut().insert(n.clone(), v.clone());
        }
        resp
    }
}

impl HttpFilter for Mock {
    fn name(&self) -> &'static str {
        "tianlu.filter.http.mock"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        let (path, query) = (ctx.uri.path(), ctx.uri.query());
        let hit = self.rules.iter().find(|r| {
            r.method.as_deref().is_none_or(|m| m == ctx.method.as_str())
                && r.path_match.matches(path, query)
        });
        match hit {
            Some(rule) => Flow::Reply(rule.response()),
            None => Flow::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use http_body_util::BodyExt;
    use serde_json::json;
    use tianlu_api_config::bootstrap::filter::MockRule;

    fn filter() -> Mock {
        Mock::new(&MockConfig {
            rules: vec![
                MockRule {
                    method: Some("GET".into()),
                    path_match: PathMatch::Path("/api/users/1".into()),
                    status: 200,
                    headers: vec![("x-mock".into(), "yes".into())],
                    body: Some(json!({"id": 1, "name": "mock"})),
                },
                MockRule {
                    method: None,
                    path_match: PathMatch::Prefix("/api/gone".into()),
                    status: 410,
                    headers: vec![],
                    body: None,
                },
            ],
        })
        .unwrap()
    }

    #[tokio::test]
    async fn matching_requests_are_answered_locally() {
        let f = filter();
        let Flow::Reply(resp) = f.on_request(&mut ctx("GET", "/api/users/1", &[])) else {
            panic!("mocked")
        };
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["x-mock"], "yes");
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"id":1,"name":"mock"}"#);
        let Flow::Reply(resp) = f.on_request(&mut ctx("DELETE", "/api/gone/x", &[])) else {
            panic!("any method")
        };
        assert_eq!(resp.status(), StatusCode::GONE);
        assert!(!resp.headers().contains_key(CONTENT_TYPE));
    }

    #[test]
    fn other_requests_go_on_and_responses_pass() {
        let f = filter();
        assert!(matches!(
            f.on_request(&mut ctx("POST", "/api/users/1", &[])),
            Flow::Continue
        ));
        assert!(matches!(
            f.on_request(&mut ctx("GET", "/api/users/2", &[])),
            Flow::Continue
        ));
        let mut resp = StatusCode::OK.into_response();
        f.on_response(&ctx("GET", "/x", &[]), &mut resp);
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
