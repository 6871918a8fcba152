//! The gateway's one error type, grouped by where the fault lies (the HTTP client, the
//! provider side, or the gateway itself), and the single place errors become HTTP responses.
//!
//! Statuses come from tables written as pure functions over typed causes (Dubbo status bytes,
//! [`CallError`] variants); no status is ever chosen by matching error text.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde_json::{json, Map, Value as Json};
use std::time::Duration;
use tianlu_protocol::dubbo::{CallError, Status};
use tianlu_protocol::generic::JavaException;

/// Everything that can end a request with an error.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    // ---- downstream: the HTTP client's request is at fault ----
    /// No route matches the path.
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    /// A route matches the path but not the method.
    #[error("method {method} not allowed; allowed: {}", allowed.join(", "))]
    MethodNotAllowed {
        method: String,
        allowed: Vec<String>,
    },
    /// The route exists but is switched off (`enable: false`).
    #[error("API not online")]
    ApiDisabled,
    /// The request is malformed or a value does not fit its declared type.
    #[error("{field}: {reason}")]
    BadRequest { field: String, reason: String },
    /// The request body is larger than the configured limit.
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A security rule refused the request (interface or class not allowed, …).
    #[error("{reason}")]
    Forbidden { reason: String },
    /// The request carries no valid credentials (API key, JWT).
    #[error("{reason}")]
    Unauthorized { reason: String },
    /// A rate limit refused the request; a token is due after `retry_after`.
    #[error("rate limit exceeded; retry in {}s", retry_after_secs(*retry_after))]
    RateLimited { retry_after: Duration },

    // ---- upstream: the provider side ----
    /// The cluster has no usable provider.
    #[error("no provider available for cluster {cluster}")]
    NoProvider { cluster: String },
    /// The provider call failed at the transport or protocol level.
    #[error("provider call to {endpoint} failed: {source}")]
    Upstream {
        endpoint: String,
        #[source]
        source: CallError,
    },
    /// The route deadline passed before the provider answered.
    #[error("no answer within {}ms", after.as_millis())]
    Timeout { after: Duration },
    /// The provider threw a Java exception.
    #[error("{}", exception.summary())]
    Business { exception: Box<JavaException> },
    /// The provider's answer could not be turned into JSON.
    #[error("bad response from provider: {reason}")]
    BadResponse { reason: String },
    /// A circuit breaker is open (recent calls failed); probes start after `retry_after`.
    #[error("circuit open after recent failures; retry in {}s", retry_after_secs(*retry_after))]
    CircuitOpen { retry_after: Duration },
    /// A concurrency limit is reached: `limit` requests are already in flight.
    #[error("too many requests in flight (limit {limit})")]
    Overloaded { limit: usize },
    /// A shared rate limit could not be checked (Redis down) and `on_failure` is `deny`.
    #[error("the shared rate limiter is unavailable")]
    LimiterUnavailable,

    // ---- internal ----
    /// A fault in the gateway itself.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl GatewayError {
    /// A 400 for `field`.
    pub fn bad_request(field: impl Into<String>, reason: impl Into<String>) -> Self {
        GatewayError::BadRequest {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            GatewayError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::ApiDisabled => StatusCode::NOT_ACCEPTABLE,
            GatewayError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            GatewayError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::Forbidden { .. } => StatusCode::FORBIDDEN,
            GatewayError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            GatewayError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::NoProvider { .. } => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Upstream { source, .. } => call_error_status(source),
            GatewayError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::Business { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            GatewayError::BadResponse { .. } => StatusCode::BAD_GATEWAY,
            GatewayError::CircuitOpen { .. }
            | GatewayError::Overloaded { .. }
            | GatewayError::LimiterUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::RouteNotFound { .. } => "ROUTE_NOT_FOUND",
            GatewayError::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            GatewayError::ApiDisabled => "API_DISABLED",
            GatewayError::BadRequest { .. } => "BAD_REQUEST",
            GatewayError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            GatewayError::Forbidden { .. } => "FORBIDDEN",
            GatewayError::Unauthorized { .. } => "UNAUTHORIZED",
            GatewayError::RateLimited { .. } => "RATE_LIMITED",
            GatewayError::NoProvider { .. } => "NO_PROVIDER",
            GatewayError::Upstream { source, .. } => call_error_code(source),
            GatewayError::Timeout { .. } => "UPSTREAM_TIMEOUT",
            GatewayError::Business { .. } => BUSINESS_EXCEPTION,
            GatewayError::BadResponse { .. } => "BAD_RESPONSE",
            GatewayError::CircuitOpen { .. } => CIRCUIT_OPEN,
            GatewayError::Overloaded { .. } => CONCURRENCY_LIMIT,
            GatewayError::LimiterUnavailable => "RATE_LIMITER_UNAVAILABLE",
            GatewayError::Internal { .. } => "INTERNAL",
        }
    }

    /// True when the failed attempt certainly did not reach a provider, so another endpoint may
    /// be tried without risking a duplicate call.
    pub fn retryable(&self) -> bool {
        match self {
            // A request over the payload limit would be refused by every endpoint alike.
            GatewayError::Upstream {
                source: CallError::PayloadTooLarge { .. },
                ..
            } => false,
            GatewayError::Upstream { source, .. } => !source.reached_provider(),
            _ => false,
        }
    }

    /// The JSON error body `{code, message, request_id, …}`.
    pub fn body(&self, request_id: &str) -> Json {
        let mut body = Map::new();
        body.insert("code".into(), json!(self.code()));
        let mut message = self.to_string();
        if let GatewayError::Upstream {
            source: CallError::Status { .. },
            ..
        } = self
        {
            // A provider's error text carries its Java stack trace after the first line; like
            // business exceptions, the HTTP client never sees stack traces.
            if let Some(end) = message.find('\n') {
                message.truncate(end);
            }
        }
        body.insert("message".into(), json!(message));
        body.insert("request_id".into(), json!(request_id));
        match self {
            GatewayError::BadRequest { field, .. } => {
                body.insert("field".into(), json!(field));
            }
            GatewayError::MethodNotAllowed { allowed, .. } => {
                body.insert("allowed".into(), json!(allowed));
            }
            GatewayError::RateLimited { retry_after }
            | GatewayError::CircuitOpen { retry_after } => {
                body.insert("retry_after".into(), json!(retry_after_secs(*retry_after)));
            }
            GatewayError::Overloaded { limit } => {
                body.insert("limit".into(), json!(limit));
            }
            GatewayError::Business { exception } => {
                body.insert("exception".into(), json!(exception.class));
                let mut detail = Map::new();
                if let Some(m) = &exception.message {
                    detail.insert("message".into(), json!(m));
                }
                if !exception.fields.is_empty() {
                    detail.insert("fields".into(), Json::Object(exception.fields.clone()));
                }
                if !exception.causes.is_empty() {
                    let causes: Vec<Json> = exception
                        .causes
                        .iter()
                        .map(|(class, message)| json!({"exception": class, "message": message}))
                        .collect();
                    detail.insert("causes".into(), Json::Array(causes));
                }
                body.insert("detail".into(), Json::Object(detail));
            }
            GatewayError::Upstream {
                source: CallError::Status { status, .. },
                ..
            } => {
                body.insert("dubbo_status".into(), json!(status.code()));
            }
            _ => {}
        }
        Json::Object(body)
    }

    /// The complete HTTP response for this error, carrying its [`ErrorCode`] as a response
    /// extension for the response phase of filters.
    pub fn into_response_with(self, request_id: &str) -> Response {
        let status = self.status();
        let body = self.body(request_id);
        let mut resp = (status, axum::Json(body)).into_response();
        resp.extensions_mut().insert(ErrorCode(self.code()));
        match &self {
            GatewayError::MethodNotAllowed { allowed, .. } => {
                if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                    resp.headers_mut().insert(header::ALLOW, v);
                }
            }
            GatewayError::RateLimited { retry_after }
            | GatewayError::CircuitOpen { retry_after } => {
                resp.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs(*retry_after)),
                );
            }
            _ => {}
        }
        resp
    }
}

/// `code` of [`GatewayError::CircuitOpen`].
pub const CIRCUIT_OPEN: &str = "CIRCUIT_OPEN";
/// `code` of [`GatewayError::Overloaded`].
pub const CONCURRENCY_LIMIT: &str = "CONCURRENCY_LIMIT";
/// `code` of [`GatewayError::Business`].
pub const BUSINESS_EXCEPTION: &str = "BUSINESS_EXCEPTION";

/// The error code of a gateway error response, placed in the response's extensions so filters'
/// response phases can tell kinds of failure apart (a business exception from a gateway fault,
/// both 500) without parsing the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);

/// `Retry-After` seconds for a wait: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// HTTP status for a transport/protocol failure of a provider call.
pub fn call_error_status(err: &CallError) -> StatusCode {
    match err {
        CallError::Connect { .. } | CallError::Unavailable { .. } | CallError::ConnectionClosed => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        CallError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        CallError::Status { status, .. } => dubbo_status_http(*status),
        CallError::PayloadTooLarge { .. } => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_GATEWAY,
    }
}

fn call_error_code(err: &CallError) -> &'static str {
    match err {
        CallError::Connect { .. } | CallError::Unavailable { .. } => "PROVIDER_UNREACHABLE",
        CallError::ConnectionClosed => "PROVIDER_CONNECTION_LOST",
        CallError::Timeout { .. } => "UPSTREAM_TIMEOUT",
        CallError::Status { status, .. } => dubbo_status_code(*status),
        CallError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE_UPSTREAM",
        _ => "BAD_RESPONSE",
    }
}

/// The table from Dubbo response status bytes to HTTP statuses.
pub fn dubbo_status_http(status: Status) -> StatusCode {
    match status.code() {
        30 | 31 => StatusCode::GATEWAY_TIMEOUT,
        35 | 100 => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    }
}

/// The table from Dubbo response status bytes to error codes in the JSON body.
pub fn dubbo_status_code(status: Status) -> &'static str {
    match status.code() {
        25 => "DUBBO_SERIALIZATION_ERROR",
        30 => "DUBBO_CLIENT_TIMEOUT",
        31 => "DUBBO_SERVER_TIMEOUT",
        35 => "DUBBO_CHANNEL_INACTIVE",
        40 => "DUBBO_BAD_REQUEST",
        50 => "DUBBO_BAD_RESPONSE",
        60 => "DUBBO_SERVICE_NOT_FOUND",
        70 => "DUBBO_SERVICE_ERROR",
        80 => "DUBBO_SERVER_ERROR",
        90 => "DUBBO_CLIENT_ERROR",
        100 => "DUBBO_THREADPOOL_EXHAUSTED",
        _ => "DUBBO_UNKNOWN_STATUS",
    }
}
