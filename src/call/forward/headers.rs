//! Header rules of a forwarding proxy: hop-by-hop headers (RFC 9110 §7.6.1, plus the ones
//! named in `Connection`) are dropped in both directions, and the upstream learns the client
//! through `X-Forwarded-For` (the client's address appended), `X-Forwarded-Proto` and
//! `X-Forwarded-Host`.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::net::SocketAddr;

/// Hop-by-hop headers, never forwarded.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including every header the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Adds `X-Forwarded-For` (appending `client` to any value the client sent), and sets
/// `X-Forwarded-Proto` and `X-Forwarded-Host` (the `Host` the client asked for).
pub fn add_forwarded(
    headers: &mut HeaderMap,
    client: Option<SocketAddr>,
    https: bool,
    host: Option<&HeaderValue>,
) {
    if let Some(client) = client {
        let ip = client.ip().to_string();
        let value = match headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
        {
            prior if prior.is_empty() => ip,
            prior => format!("{}, {ip}", prior.join(", ")),
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert("x-forwarded-for", v);
        }
    }
    headers.insert(
        "x-forwarded-proto",
        HeaderValue::from_static(if https { "https" } else { "http" }),
    );
    if let Some(h) = host {
        headers.insert("x-forwarded-host", h.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_hop_by_hop_and_connection_named_headers() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("close, x-secret"));
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert("x-kept", HeaderValue::from_static("yes"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h["x-kept"], "yes");
    }

    #[test]
    fn forwarded_headers_append_the_client() {
        let mut h = HeaderMap::new();
        let client: SocketAddr = "10.1.2.3:5555".parse().unwrap();
        let host = HeaderValue::from_static("api.example.com");
        add_forwarded(&mut h, Some(client), false, Some(&host));
        assert_eq!(h["x-forwarded-for"], "10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "api.example.com");

        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("1.1.1.1"));
        h.append("x-forwarded-for", HeaderValue::from_static("2.2.2.2"));
        add_forwarded(&mut h, Some(client), true, None);
        assert_eq!(h["x-forwarded-for"], "1.1.1.1, 2.2.2.2, 10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert!(h.get("x-forwarded-host").is_none());
    }
}
