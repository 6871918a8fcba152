//! `tianlu.filter.http.apikey`: requires a known API key in a header (default `x-api-key`) or,
//! when configured, a query parameter; 401 when it is missing or wrong. Keys are compared as
//! SHA-256 digests in constant time, always against every configured key, so neither the
//! position nor the prefix of a match shows in the timing. On success the key's owner is put in
//! the request's Dubbo attachments and the key header is removed, so a parameter mapping cannot
//! pass the secret on.

use super::{Flow, HttpFilter, RequestCtx};
use crate::error::GatewayError;
use http::HeaderName;
use ring::digest::{digest, SHA256};
use tianlu_api_config::bootstrap::filter::ApiKeyConfig;
use tianlu_api_config::query_param;

/// The API-key filter.
pub struct ApiKeyFilter {
    /// (owner, SHA-256 of the key).
    keys: Vec<(String, [u8; 32])>,
    header: HeaderName,
    query: Option<String>,
    attachment: String,
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// Equality of two digests without an early exit.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl ApiKeyFilter {
    /// Builds the filter; fails when the header name is invalid.
    pub fn new(cfg: &ApiKeyConfig) -> Result<Self, String> {
        let header = HeaderName::from_bytes(cfg.header.as_bytes())
            .map_err(|_| format!("apikey: {:?} is not a header name", cfg.header))?;
        Ok(ApiKeyFilter {
            keys: cfg
                .keys
                .iter()
                .map(|k| (k.name.clone(), sha256(k.key.expose().as_bytes())))
                .collect(),
            header,
            query: cfg.query.clone(),
            attachment: cfg.attachment.clone(),
        })
    }

    /// The owner of `presented`, if it is a configured key.
    fn owner(&self, presented: &[u8]) -> Option<&str> {
        let d = sha256(presented);
        let mut found = None;
        for (name, key) in &self.keys {
            if same(&d, key) && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

impl HttpFilter for ApiKeyFilter {
    fn name(&self) -> &'static str {
        "tianlu.filter.http.apikey"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        let from_header = ctx.headers.get(&self.header).map(|v| v.as_bytes().to_vec());
        let presented = from_header.or_else(|| {
            let q = self.query.as_deref()?;
            query_param(ctx.uri.query().unwrap_or(""), q).map(|v| v.as_bytes().to_vec())
        });
        let reason = match presented {
            None => "API key required",
            Some(p) => match self.owner(&p) {
                Some(owner) => {
                    ctx.headers.remove(&self.header);
                    if let Some(q) = &self.query {
                        strip_query_param(ctx, q);
                    }
                    ctx.attachments
                        .push((self.attachment.clone(), owner.to_owned()));
                    return Flow::Continue;
                }
                None => "invalid API key",
            },
        };
        Flow::Reply(
            GatewayError::Unauthorized {
                reason: reason.into(),
            }
            .into_response_with(&ctx.request_id),
        )
    }
}

/// Removes every `name=…` pair from the request's query string, so no later mapping can read
/// the key.
fn strip_query_param(ctx: &mut RequestCtx, name: &str) {
    let Some(query) = ctx.uri.query() else {
        return;
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            tianlu_api_config::percent_decode(key, true) != name
        })
        .collect();
    let path_and_query = if kept.is_empty() {
        ctx.uri.path().to_owned()
    } else {
        format!("{}?{}", ctx.uri.path(), kept.join("&"))
    };
    let mut parts = ctx.uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            ctx.uri = uri;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use axum::response::IntoResponse;
    use tianlu_api_config::bootstrap::filter::{ApiKey, Secret};

    fn filter(query: Option<&str>) -> ApiKeyFilter {
        ApiKeyFilter::new(&ApiKeyConfig {
            keys: vec![
                ApiKey {
                    name: "alpha".into(),
                    key: Secret::new("k-alpha"),
                },
                ApiKey {
                    name: "beta".into(),
                    key: Secret::new("k-beta"),
                },
            ],
            keys_file: None,
            header: "x-api-key".into(),
            query: query.map(str::to_owned),
            attachment: "tianlu.apikey".into(),
        })
        .unwrap()
    }

    fn run(f: &ApiKeyFilter, c: &mut RequestCtx) -> u16 {
        match f.on_request(c) {
            Flow::Continue => 200,
            Flow::Reply(r) => r.status().as_u16(),
        }
    }

    #[test]
    fn accepts_known_keys_and_records_the_owner() {
        let f = filter(None);
        let mut c = ctx("GET", "/x", &[("x-api-key", "k-beta")]);
        assert_eq!(run(&f, &mut c), 200);
        assert_eq!(c.attachments, [("tianlu.apikey".into(), "beta".into())]);
        assert!(
            !c.headers.contains_key("x-api-key"),
            "the secret goes no further"
        );
    }

    #[test]
    fn a_key_in_the_query_is_removed_from_it() {
        let f = filter(Some("api_key"));
        let mut c = ctx("GET", "/x?a=1&api_key=k-alpha&b=2&api%5Fkey=k-alpha", &[]);
        assert_eq!(run(&f, &mut c), 200);
        assert_eq!(c.uri.path_and_query().unwrap().as_str(), "/x?a=1&b=2");
        let mut c = ctx("GET", "/x?api_key=k-alpha", &[]);
        assert_eq!(run(&f, &mut c), 200);
        assert_eq!(c.uri.path_and_query().unwrap().as_str(), "/x");
    }

    #[test]
    fn refuses_missing_and_wrong_keys() {
        let f = filter(Some("api_key"));
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16);
        let cases: [Case<'_>; 6] = [
            ("/x", &[], 401),
            ("/x", &[("x-api-key", "k-alph")], 401),
            ("/x", &[("x-api-key", "k-alphaa")], 401),
            ("/x", &[("x-api-key", "")], 401),
            ("/x?api_key=k-alpha", &[], 200),
            ("/x?api_key=k%2Dalpha", &[], 200),
        ];
        for (uri, headers, want) in cases {
            let mut c = ctx("GET", uri, headers);
            assert_eq!(run(&f, &mut c), want, "{uri} {headers:?}");
        }
        let mut c = ctx("GET", "/x?api_key=k-alpha", &[]);
        assert_eq!(
            run(&filter(None), &mut c),
            401,
            "query only when configured"
        );
        let Flow::Reply(resp) = filter(None).on_request(&mut ctx("GET", "/x", &[])) else {
            panic!()
        };
        assert_eq!(resp.status(), http::StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn response_phase_passes_answers_through() {
        let f = filter(None);
        let c = ctx("GET", "/x", &[]);
        let mut resp = http::StatusCode::OK.into_response();
        f.on_response(&c, &mut resp);
        assert_eq!(resp.status(), http::StatusCode::OK);
    }
}
