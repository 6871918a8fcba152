//! `tianlu.filter.http.bodylimit`: lowers the largest request body a listener or route accepts.
//! A declared `Content-Length` over the limit is refused here with 413; bodies without one are
//! cut off at the limit while being read.

use super::{Flow, HttpFilter, RequestCtx};
use crate::error::GatewayError;
use http::header::CONTENT_LENGTH;

/// The body-limit filter.
pub struct BodyLimit {
    max_bytes: usize,
}

impl BodyLimit {
    /// A limit of `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        BodyLimit { max_bytes }
    }
}

impl HttpFilter for BodyLimit {
    fn name(&self) -> &'static str {
        "tianlu.filter.http.bodylimit"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        ctx.body_limit = ctx.body_limit.min(self.max_bytes);
        let declared = ctx
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared {
            Some(n) if n > ctx.body_limit as u64 => Flow::Reply(
                GatewayError::PayloadTooLarge {
                    limit: ctx.body_limit,
                }
                .into_response_with(&ctx.request_id),
            ),
            _ => Flow::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;

    #[test]
    fn refuses_declared_oversize_and_lowers_limit() {
        let f = BodyLimit::new(100);
        let mut c = ctx("POST", "/x", &[("content-length", "101")]);
        let Flow::Reply(resp) = f.on_request(&mut c) else {
            panic!("oversize body must be refused")
        };
        assert_eq!(resp.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
        let mut c = ctx("POST", "/x", &[("content-length", "100")]);
        assert!(matches!(f.on_request(&mut c), Flow::Continue));
        assert_eq!(c.body_limit, 100);
        let mut c = ctx("POST", "/x", &[]);
        c.body_limit = 50;
        assert!(matches!(f.on_request(&mut c), Flow::Continue));
        assert_eq!(c.body_limit, 50, "never raises a lower limit");
    }
}
