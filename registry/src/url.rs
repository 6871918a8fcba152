//! Dubbo provider URLs (`dubbo://10.0.0.1:20880/org.example.Greeter?version=1.0.0&…`) as
//! registries carry them, parsed the way Java's `org.apache.dubbo.common.URL.valueOf` does.
//!
//! ZooKeeper node names hold the whole URL encoded once with `java.net.URLEncoder` (form
//! encoding: `+` is a space); [`ProviderUrl::parse`] accepts both that encoded form and the raw
//! form. Registry data is untrusted: every malformed input is a [`UrlError`], never a panic.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::instance::{Instance, Protocol};

/// Dubbo's default provider weight (`CommonConstants.DEFAULT_WEIGHT`).
pub const DEFAULT_WEIGHT: u32 = 100;

/// Dubbo's default warm-up (`CommonConstants.DEFAULT_WARMUP`, 10 minutes).
pub const DEFAULT_WARMUP: Duration = Duration::from_secs(10 * 60);

/// Longest URL accepted (ZooKeeper node names are far shorter in practice).
pub const MAX_URL_LEN: usize = 64 * 1024;

/// Why a provider URL was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Empty input.
    #[error("empty URL")]
    Empty,
    /// Longer than [`MAX_URL_LEN`].
    #[error("URL is {0} bytes long, more than the {MAX_URL_LEN} accepted")]
    TooLong(usize),
    /// Bad `%XX` escape or the decoded bytes are not UTF-8.
    #[error("bad URL encoding: {0}")]
    Encoding(String),
    /// No `scheme://`.
    #[error("no protocol (`scheme://`) in {0:?}")]
    NoProtocol(String),
    /// The port is not a number in 0..=65535.
    #[error("bad port {0:?}")]
    BadPort(String),
    /// The host is missing.
    #[error("no host in {0:?}")]
    NoHost(String),
    /// The host is not an IP literal (instances need a socket address).
    #[error("host {0:?} is not an IP address")]
    HostNotIp(String),
    /// Port 0 / missing: nothing to connect to.
    #[error("no port in {0:?}")]
    NoPort(String),
    /// A protocol the gateway cannot call (`rest`, `grpc`, `injvm`, `empty`, …).
    #[error("unsupported protocol {0:?} (only dubbo and tri)")]
    UnsupportedProtocol(String),
}

/// A parsed Dubbo URL: `protocol://[user[:password]@]host[:port][/path][?k=v&…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUrl {
    /// `dubbo`, `tri`, …
    pub protocol: String,
    /// User name of the optional userinfo part.
    pub username: Option<String>,
    /// Password of the optional userinfo part.
    pub password: Option<String>,
    /// Host as written (IPv6 without brackets).
    pub host: String,
    /// Port, 0 when absent.
    pub port: u16,
    /// Path without the leading `/` (normally the interface name).
    pub path: String,
    /// All parameters (last one wins on duplicates, as in Java's map; `default.x` also sets `x`
    /// when `x` is absent).
    pub params: BTreeMap<String, String>,
}

impl ProviderUrl {
    /// Parses a raw URL, or one encoded as a whole (ZooKeeper node names: `dubbo%3A%2F%2F…`).
    pub fn parse(input: &str) -> Result<ProviderUrl, UrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(UrlError::Empty);
        }
        if input.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong(input.len()));
        }
        if !input.contains("://") && is_encoded_url(input) {
            let decoded = form_decode(input)?;
            return Self::parse_raw(&decoded);
        }
        Self::parse_raw(input)
    }

    /// Parses a raw (not encoded) URL exactly like `URL.valueOf(url)`: parameter values are taken
    /// as they are.
    pub fn parse_raw(url: &str) -> Result<ProviderUrl, UrlError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(UrlError::Empty);
        }
        if url.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong(url.len()));
        }
        let (rest, query) = match url.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (url, None),
        };
        let mut params = BTreeMap::new();
        if let Some(query) = query {
            parse_query(query, &mut params);
        }
        let Some((protocol, rest)) = rest.split_once("://") else {
            return Err(UrlError::NoProtocol(abbreviate(url)));
        };
        if protocol.is_empty() {
            return Err(UrlError::NoProtocol(abbreviate(url)));
        }
        let (authority, path) = match rest.split_once('/') {
            Some((authority, path)) => (authority, path.trim_start_matches('/')),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((user, pass)) => (non_empty(user), non_empty(pass)),
                None => (non_empty(info), None),
            },
            None => (None, None),
        };
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            return Err(UrlError::NoHost(abbreviate(url)));
        }
        Ok(ProviderUrl {
            protocol: protocol.to_string(),
            username,
            password,
            host,
            port,
            path: path.to_string(),
            params,
        })
    }

    /// A parameter, `None` when absent or empty.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The `interface` parameter, else the path.
    pub fn interface(&self) -> &str {
        self.param("interface").unwrap_or(&self.path)
    }

    /// The `group` parameter (`None` when absent or empty).
    pub fn group(&self) -> Option<&str> {
        self.param("group")
    }

    /// The `version` parameter (`None` when absent or empty).
    pub fn version(&self) -> Option<&str> {
        self.param("version")
    }

    /// The `weight` parameter; [`DEFAULT_WEIGHT`] when absent or not a number, 0 when negative.
    pub fn weight(&self) -> u32 {
        match self.param("weight").map(|w| w.trim().parse::<i64>()) {
            Some(Ok(w)) => u32::try_from(w.max(0)).unwrap_or(u32::MAX),
            _ => DEFAULT_WEIGHT,
        }
    }

    /// The `warmup` parameter (milliseconds); [`DEFAULT_WARMUP`] when absent or invalid.
    pub fn warmup(&self) -> Duration {
        match self.param("warmup").map(|w| w.trim().parse::<u64>()) {
            Some(Ok(ms)) => Duration::from_millis(ms),
            _ => DEFAULT_WARMUP,
        }
    }

    /// The `timestamp` parameter (provider start, milliseconds since the epoch).
    pub fn timestamp(&self) -> Option<SystemTime> {
        parse_timestamp(self.param("timestamp")?)
    }

    /// False when `enabled=false` or `disabled=true`: such a provider must not be routed to.
    pub fn is_enabled(&self) -> bool {
        let enabled = !self
            .param("enabled")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
        let disabled = self
            .param("disabled")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        enabled && !disabled
    }

    /// The `methods` list (comma separated, blanks dropped).
    pub fn methods(&self) -> Vec<&str> {
        split_list(self.param("methods").unwrap_or(""))
    }

    /// The `serialization` parameter.
    pub fn serialization(&self) -> Option<&str> {
        self.param("serialization")
    }

    /// The `prefer.serialization` list.
    pub fn prefer_serialization(&self) -> Vec<&str> {
        split_list(self.param("prefer.serialization").unwrap_or(""))
    }

    /// The `side` parameter (`provider` for providers).
    pub fn side(&self) -> Option<&str> {
        self.param("side")
    }

    /// The `application` parameter.
    pub fn application(&self) -> Option<&str> {
        self.param("application")
    }

    /// The `category` parameter (`providers` when absent, as Dubbo assumes).
    pub fn category(&self) -> &str {
        self.param("category").unwrap_or("providers")
    }

    /// The socket address, when the host is an IP literal and the port is set.
    pub fn socket_addr(&self) -> Result<SocketAddr, UrlError> {
        let ip: IpAddr = self
            .host
            .parse()
            .map_err(|_| UrlError::HostNotIp(self.host.clone()))?;
        if self.port == 0 {
            return Err(UrlError::NoPort(format!("{}:{}", self.host, self.port)));
        }
        Ok(SocketAddr::new(ip, self.port))
    }

    /// The routable instance this URL describes.
    pub fn to_instance(&self) -> Result<Instance, UrlError> {
        let protocol = Protocol::from_name(&self.protocol)
            .ok_or_else(|| UrlError::UnsupportedProtocol(self.protocol.clone()))?;
        let mut params = self.params.clone();
        if !self.path.is_empty() {
            params
                .entry("path".to_string())
                .or_insert_with(|| self.path.clone());
        }
        Ok(Instance {
            addr: self.socket_addr()?,
            protocol,
            weight: self.weight(),
            warmup: self.warmup(),
            started_at: self.timestamp(),
            group: self.group().map(str::to_string),
            version: self.version().map(str::to_string),
            params,
        })
    }
}

impl std::fmt::Display for ProviderUrl {
    /// The raw URL form (`protocol://host:port/path?k=v&…`, parameters sorted by key).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://", self.protocol)?;
        if let Some(user) = &self.username {
            write!(f, "{user}")?;
            if let Some(pass) = &self.password {
                write!(f, ":{pass}")?;
            }
            write!(f, "@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if self.port != 0 {
            write!(f, ":{}", self.port)?;
        }
        write!(f, "/{}", self.path)?;
        for (i, (k, v)) in self.params.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// Parses `timestamp`-style milliseconds since the epoch.
pub(crate) fn parse_timestamp(ms: &str) -> Option<SystemTime> {
    let ms = ms.trim().parse::<u64>().ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(ms))
}

/// Splits a comma-separated list, trimming items and dropping blanks.
pub(crate) fn split_list(list: &str) -> Vec<&str> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn abbreviate(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// True for a whole URL encoded once (`dubbo%3A%2F%2F…`).
fn is_encoded_url(s: &str) -> bool {
    s.find("%3A%2F%2F")
        .or_else(|| s.find("%3a%2f%2f"))
        .is_some_and(|i| i > 0 && s[..i].bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn parse_query(query: &str, params: &mut BTreeMap<String, String>) {
    let mut defaults = Vec::new();
    for part in query.split('&') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            // Java's URL.valueOf stores a bare key as key=key.
            None => (part, part),
        };
        if key.is_empty() {
            continue;
        }
        if let Some(stripped) = key.strip_prefix("default.") {
            if !stripped.is_empty() {
                defaults.push((stripped.to_string(), value.to_string()));
            }
        }
        params.insert(key.to_string(), value.to_string());
    }
    for (key, value) in defaults {
        params.entry(key).or_insert(value);
    }
}

fn split_host_port(hostport: &str) -> Result<(String, u16), UrlError> {
    if let Some(rest) = hostport.strip_prefix('[') {
        // [v6]:port
        let Some((host, after)) = rest.split_once(']') else {
            return Err(UrlError::NoHost(hostport.to_string()));
        };
        let port = match after.strip_prefix(':') {
            Some(port) => parse_port(port)?,
            None if after.is_empty() => 0,
            None => return Err(UrlError::BadPort(after.to_string())),
        };
        return Ok((host.to_string(), port));
    }
    // A bare IPv6 literal (more than one ':') has no port.
    if hostport.matches(':').count() > 1 {
        return Ok((hostport.to_string(), 0));
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_string(), parse_port(port)?)),
        None => Ok((hostport.to_string(), 0)),
    }
}

fn parse_port(port: &str) -> Result<u16, UrlError> {
    if port.is_empty() {
        return Ok(0);
    }
    port.parse::<u16>()
        .map_err(|_| UrlError::BadPort(port.to_string()))
}

/// Decodes `application/x-www-form-urlencoded` text as `java.net.URLDecoder` does: `+` is a
/// space, `%XX` a byte; the bytes must form UTF-8.
pub fn form_decode(s: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .ok_or_else(|| UrlError::Encoding(format!("truncated escape at byte {i}")))?;
                let value = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| UrlError::Encoding(format!("bad escape at byte {i}")))?;
                out.push(value);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::Encoding("decoded bytes are not UTF-8".into()))
}

/// Encodes text as `java.net.URLEncoder` does (`A-Za-z0-9.-*_` kept, space as `+`, the rest
/// `%XX` of the UTF-8 bytes).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            other => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(other >> 4)]));
                out.push(char::from(HEX[usize::from(other & 0x0f)]));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
