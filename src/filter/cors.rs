//! `dgp.filter.http.cors`: answers CORS preflight requests locally and adds the CORS headers to
//! responses for allowed origins.

use super::{Flow, HttpFilter, RequestCtx};
use axum::response::{IntoResponse, Response};
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderValue, Method, StatusCode};

/// CORS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsSettings {
    /// Allowed origins; `*` allows any.
    pub allow_origin: Vec<String>,
    /// Allowed methods for preflight answers.
    pub allow_methods: Vec<String>,
    /// Allowed request headers for preflight answers.
    pub allow_headers: Vec<String>,
    /// Response headers exposed to scripts.
    pub expose_headers: Vec<String>,
    /// Preflight cache time in seconds.
    pub max_age: Option<u64>,
    /// Whether credentials are allowed (then the origin is echoed, never `*`).
    pub allow_credentials: bool,
}

/// The CORS filter.
pub struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    methods: HeaderValue,
    headers: Option<HeaderValue>,
    expose: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
    credentials: bool,
}

fn header_list(items: &[String], field: &str) -> Result<Option<HeaderValue>, String> {
    if items.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_str(&items.join(", "))
        .map(Some)
        .map_err(|_| format!("cors: {field} contains characters not allowed in a header"))
}

impl Cors {
    /// Builds the filter; fails on values that cannot be sent as headers.
    pub fn new(s: &CorsSettings) -> Result<Self, String> {
        let methods = if s.allow_methods.is_empty() {
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS")
        } else {
            header_list(&s.allow_methods, "allow_methods")?
                .unwrap_or(HeaderValue::from_static("GET"))
        };
        Ok(Cors {
            any_origin: s.allow_origin.iter().any(|o| o == "*"),
            origins: s.allow_origin.clone(),
            methods,
            headers: header_list(&s.allow_headers, "allow_headers")?,
            expose: header_list(&s.expose_headers, "expose_headers")?,
            max_age: s.max_age.map(HeaderValue::from),
            credentials: s.allow_credentials,
        })
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
    fn allow_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        let text = origin.to_str().ok()?;
        if self.any_origin && !self.credentials {
            return Some(HeaderValue::from_static("*"));
        }
        if self.any_origin || self.origins.iter().any(|o| o.eq_ignore_ascii_case(text)) {
            return Some(origin.clone());
        }
        None
    }

    fn decorate(&self, allowed: HeaderValue, resp: &mut Response) {
        let h = resp.headers_mut();
        let echoed = allowed != "*";
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        if echoed {
            h.append(VARY, HeaderValue::from_static("Origin"));
        }
        if self.credentials {
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(e) = &self.expose {
            h.insert(ACCESS_CONTROL_EXPOSE_HEADERS, e.clone());
        }
    }
}

impl HttpFilter for Cors {
    fn name(&self) -> &'static str {
        "dgp.filter.http.cors"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        let preflight = ctx.method == Method::OPTIONS
            && ctx.headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if !preflight {
            return Flow::Continue;
        }
        let Some(origin) = ctx.headers.get(ORIGIN) else {
            return Flow::Continue;
        };
        let mut resp = StatusCode::NO_CONTENT.into_response();
        // A disallowed origin gets a plain 204 without CORS headers: the browser then refuses.
        if let Some(allowed) = self.allow_origin(origin) {
            self.decorate(allowed, &mut resp);
            let h = resp.headers_mut();
            h.insert(ACCESS_CONTROL_ALLOW_METHODS, self.methods.clone());
            if let Some(v) = &self.headers {
                h.insert(ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
            }
            if let Some(v) = &self.max_age {
                h.insert(ACCESS_CONTROL_MAX_AGE, v.clone());
            }
        }
        Flow::Reply(resp)
    }

    fn reads_request_headers_on_response(&self) -> bool {
        true
    }

    fn on_response(&self, ctx: &RequestCtx, resp: &mut Response) {
        if resp.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
            return;
        }
        if let Some(allowed) = ctx.headers.get(ORIGIN).and_then(|o| self.allow_origin(o)) {
            self.decorate(allowed, resp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;

    fn filter(origins: &[&str], credentials: bool) -> Cors {
        Cors::new(&CorsSettings {
            allow_origin: origins.iter().map(|s| s.to_string()).collect(),
            allow_methods: vec!["GET".into(), "POST".into()],
            allow_headers: vec!["Content-Type".into()],
            expose_headers: vec!["X-Request-Id".into()],
            max_age: Some(600),
            allow_credentials: credentials,
        })
        .unwrap()
    }

    #[test]
    fn preflight_is_answered_locally() {
        let f = filter(&["https://app.example"], false);
        let mut c = ctx(
            "OPTIONS",
            "/api/users",
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
            ],
        );
        let Flow::Reply(resp) = f.on_request(&mut c) else {
            panic!("preflight must be answered");
        };
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let h = resp.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_METHODS], "GET, POST");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_HEADERS], "Content-Type");
        assert_eq!(h[ACCESS_CONTROL_MAX_AGE], "600");
    }

    #[test]
    fn disallowed_origin_gets_no_cors_headers() {
        let f = filter(&["https://app.example"], false);
        let mut c = ctx(
            "OPTIONS",
            "/x",
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "GET"),
            ],
        );
        let Flow::Reply(resp) = f.on_request(&mut c) else {
            panic!()
        };
        assert!(!resp.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
        let c = ctx("GET", "/x", &[("origin", "https://evil.example")]);
        let mut resp = StatusCode::OK.into_response();
        f.on_response(&c, &mut resp);
        assert!(!resp.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
    }

    #[test]
    fn response_phase_decorates_and_non_preflight_continues() {
        let f = filter(&["*"], false);
        let mut c = ctx("GET", "/x", &[("origin", "https://a.example")]);
        assert!(matches!(f.on_request(&mut c), Flow::Continue));
        let mut resp = StatusCode::OK.into_response();
        f.on_response(&c, &mut resp);
        assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            resp.headers()[ACCESS_CONTROL_EXPOSE_HEADERS],
            "X-Request-Id"
        );
    }

    #[test]
    fn credentials_echo_the_origin() {
        let f = filter(&["*"], true);
        let c = ctx("GET", "/x", &[("origin", "https://a.example")]);
        let mut resp = StatusCode::OK.into_response();
        f.on_response(&c, &mut resp);
        assert_eq!(
            resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://a.example"
        );
        assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(resp.headers()[VARY], "Origin");
    }
}
