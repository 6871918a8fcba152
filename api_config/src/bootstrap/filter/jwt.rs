//! `dgp.filter.http.auth.jwt` config, in pixiu's shape: `providers[]` (where keys come from and
//! how tokens are found) and `rules[]` (`match.prefix` → `requires.requires_any` /
//! `requires_all` provider names), plus tianlu's `secret` / `public_key` key sources, `audiences`,
//! `claims_to_attachments` and `leeway`.
//!
//! Where tianlu differs from pixiu: `requires_all` needs every listed provider to accept the
//! token (pixiu accepts any one); `forward_payload_header` carries the verified payload
//! (base64url JSON, as Envoy does; pixiu writes the issuer); a rule without `requires` lets
//! requests through unauthenticated (pixiu refuses them); the first matching rule decides.

use std::time::Duration;

use super::common::{header_name, read_match, string_map, PathMatch, Secret};
use crate::yaml::reader::{as_string, list_items, Ctx, MapView};
use crate::yaml::{Kind, Node};

/// Default `leeway` for `exp` and `nbf`.
pub const DEFAULT_JWT_LEEWAY: Duration = Duration::from_secs(30);
/// Default `remote_jwks` fetch timeout (pixiu's `http_uri.timeout`).
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `remote_jwks.refresh`.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(300);
/// The signing algorithms tianlu verifies.
pub const JWT_ALGORITHMS: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

/// `dgp.filter.http.auth.jwt` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// `providers`.
    pub providers: Vec<JwtProvider>,
    /// `rules`, first match decides; requests no rule matches pass.
    pub rules: Vec<JwtRule>,
    /// `err_msg`: the message of 401 answers (default: what was wrong).
    pub err_msg: Option<String>,
    /// `leeway` for `exp` / `nbf` (default 30s).
    pub leeway: Duration,
}

/// One `providers[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtProvider {
    /// `name`, referenced by rules.
    pub name: String,
    /// `issuer`: the `iss` claim must equal it when set.
    pub issuer: Option<String>,
    /// `audiences`: the `aud` claim must hold one of them when set.
    pub audiences: Vec<String>,
    /// `from_headers` (default `Authorization` with prefix `Bearer `).
    pub from_headers: Vec<TokenHeader>,
    /// `forward_payload_header`: set to the verified payload (base64url JSON).
    pub forward_payload_header: Option<String>,
    /// `claims_to_attachments`: claim name → Dubbo attachment name.
    pub claims_to_attachments: Vec<(String, String)>,
    /// Where the verification keys come from.
    pub keys: JwtKeys,
}

/// One `from_headers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    /// `name` (lower-cased).
    pub name: String,
    /// `value_prefix` (compared case-insensitively; empty = the whole value is the token).
    pub value_prefix: String,
}

/// The key source of a provider (exactly one per provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtKeys {
    /// `secret` with `algorithm` HS256 (default), HS384 or HS512.
    Secret {
        /// The shared secret (its UTF-8 bytes).
        secret: Secret,
        /// The HMAC algorithm.
        algorithm: String,
    },
    /// `public_key`: a PEM public key (RSA, EC or Ed25519); `algorithm` defaults by key type
    /// (RS256, ES256 or ES384 by curve, EdDSA).
    PublicKey {
        /// The PEM text.
        pem: String,
        /// `algorithm`, when set.
        algorithm: Option<String>,
    },
    /// `local_jwks.inline_string`: a JWK set as JSON text (checked to be a JSON object with a
    /// `keys` list).
    LocalJwks(String),
    /// `remote_jwks`: a JWK set fetched over HTTP(S) and refreshed in the background.
    RemoteJwks {
        /// `http_uri.uri` (or `uri`).
        uri: String,
        /// `http_uri.timeout` (or `timeout`), default 5s.
        timeout: Duration,
        /// `refresh`, default 5m.
        refresh: Duration,
    },
}

/// One `rules[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRule {
    /// `match` (absent = every request).
    pub path_match: PathMatch,
    /// `requires`.
    pub requires: JwtRequires,
}

/// What a rule requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtRequires {
    /// No `requires`: the request passes without a token.
    Nothing,
    /// `requires_any`: a token accepted by one of these providers.
    Any(Vec<String>),
    /// `requires_all`: a token accepted by each of these providers.
    All(Vec<String>),
}

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<JwtConfig> {
    let before = cx.problems.len();
    let mut providers: Vec<JwtProvider> = Vec::new();
    let items = c.list(cx, "providers");
    // Names of every provider entry, valid or not, so rules naming a broken provider do not
    // add a second, misleading problem.
    let names: Vec<String> = items
        .iter()
        .filter_map(|(_, n)| match &n.kind {
            Kind::Map(e) => e
                .iter()
                .find(|e| e.key == "name")
                .and_then(|e| e.value.scalar_text().map(str::to_owned)),
            _ => None,
        })
        .collect();
    for (path, node) in items {
        let mut p = MapView::new(cx, node, path);
        if let Some(provider) = read_provider(cx, &mut p) {
            if providers.iter().any(|o| o.name == provider.name) {
                cx.problem(
                    p.key_line("name"),
                    &p.child("name"),
                    format!("provider {:?} is defined twice", provider.name),
                );
            }
            providers.push(provider);
        }
        p.finish(cx);
    }
    if c.get("providers").is_none() {
        c.missing(cx, "providers");
    }
    let mut rules = Vec::new();
    let items = c.list(cx, "rules");
    if items.is_empty() {
        cx.problem(
            c.key_line("rules"),
            &c.child("rules"),
            "list at least one rule (match.prefix / requires)",
        );
    }
    for (path, node) in items {
        let mut r = MapView::new(cx, node, path);
        let path_match = read_match(cx, &mut r);
        let requires = read_requires(cx, &mut r, &names);
        r.finish(cx);
        if let (Some(path_match), Some(requires)) = (path_match, requires) {
            rules.push(JwtRule {
                path_match,
                requires,
            });
        }
    }
    let err_msg = c.string(cx, "err_msg").filter(|s| !s.trim().is_empty());
    let leeway = c.duration(cx, "leeway").unwrap_or(DEFAULT_JWT_LEEWAY);
    (cx.problems.len() == before).then_some(JwtConfig {
        providers,
        rules,
        err_msg,
        leeway,
    })
}

fn algorithm(cx: &mut Ctx, p: &mut MapView<'_>, allowed: &[&str]) -> Option<String> {
    let alg = p.string(cx, "algorithm")?;
    if allowed.contains(&alg.as_str()) {
        Some(alg)
    } else {
        cx.problem(
            p.key_line("algorithm"),
            &p.child("algorithm"),
            format!(
                "algorithm {alg:?} does not fit this key; use one of: {}",
                allowed.join(", ")
            ),
        );
        None
    }
}

fn read_provider(cx: &mut Ctx, p: &mut MapView<'_>) -> Option<JwtProvider> {
    let name = p.req_string(cx, "name");
    let issuer = p.string(cx, "issuer").filter(|s| !s.is_empty());
    let audiences = p.string_list(cx, "audiences").unwrap_or_default();
    let from_headers = read_from_headers(cx, p);
    let forward_payload_header = p.string(cx, "forward_payload_header").and_then(|h| {
        header_name(
            cx,
            p.key_line("forward_payload_header"),
            &p.child("forward_payload_header"),
            h.trim(),
        )
    });
    let claims_to_attachments = string_map(cx, p, "claims_to_attachments")
        .into_iter()
        .map(|(claim, att, ..)| (claim, att))
        .collect();

    let sources: Vec<&str> = ["secret", "public_key", "local_jwks", "remote_jwks"]
        .into_iter()
        .filter(|k| p.get(k).is_some())
        .collect();
    let keys = match sources.as_slice() {
        ["secret"] => {
            let secret = p.req_string(cx, "secret");
            let alg = algorithm(cx, p, &JWT_ALGORITHMS[..3]).unwrap_or_else(|| "HS256".into());
            secret.map(|s| {
                if s.len() < 32 {
                    cx.warn(
                        p.key_line("secret"),
                        &p.child("secret"),
                        "an HMAC secret shorter than 32 bytes is easy to guess",
                    );
                }
                JwtKeys::Secret {
                    secret: Secret::new(s),
                    algorithm: alg,
                }
            })
        }
        ["public_key"] => {
            let pem = p.string(cx, "public_key");
            let alg = algorithm(cx, p, &JWT_ALGORITHMS[3..]);
            match pem {
                Some(pem) if pem.contains("-----BEGIN") => Some(JwtKeys::PublicKey {
                    pem,
                    algorithm: alg,
                }),
                Some(_) => {
                    cx.problem(
                        p.key_line("public_key"),
                        &p.child("public_key"),
                        "expected a PEM public key (-----BEGIN PUBLIC KEY-----)",
                    );
                    None
                }
                None => None,
            }
        }
        ["local_jwks"] => read_local_jwks(cx, p),
        ["remote_jwks"] => read_remote_jwks(cx, p),
        [] => {
            cx.problem(
                p.line(),
                p.path(),
                "set one key source: secret, public_key, local_jwks or remote_jwks",
            );
            None
        }
        _ => {
            cx.problem(
                p.line(),
                p.path(),
                format!("set only one key source, not {}", sources.join(" and ")),
            );
            None
        }
    };
    if !matches!(sources.as_slice(), ["secret"] | ["public_key"]) {
        p.reject(
            cx,
            "algorithm",
            "algorithm is only used with secret or public_key",
        );
    }
    Some(JwtProvider {
        name: name?,
        issuer,
        audiences,
        from_headers: from_headers?,
        forward_payload_header,
        claims_to_attachments,
        keys: keys?,
    })
}

fn read_from_headers(cx: &mut Ctx, p: &mut MapView<'_>) -> Option<Vec<TokenHeader>> {
    let Some(node) = p.get("from_headers") else {
        return Some(vec![TokenHeader {
            name: "authorization".into(),
            value_prefix: "Bearer ".into(),
        }]);
    };
    let path = p.child("from_headers");
    let items: Vec<(String, &Node)> = match &node.kind {
        Kind::Seq(_) => list_items(cx, node, &path),
        _ => vec![(path, node)],
    };
    let mut out = Vec::new();
    let before = cx.problems.len();
    for (path, item) in items {
        let mut h = MapView::new(cx, item, path);
        let name = h
            .string(cx, "name")
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Authorization".into());
        let name = header_name(cx, h.key_line("name"), &h.child("name"), name.trim());
        let value_prefix = match h.get("value_prefix") {
            Some(v) => as_string(cx, v, &h.child("value_prefix")).unwrap_or_default(),
            // pixiu's default prefix belongs to its default header only.
            None if name.as_deref() == Some("authorization") => "Bearer ".into(),
            None => String::new(),
        };
        h.finish(cx);
        if let Some(name) = name {
            out.push(TokenHeader { name, value_prefix });
        }
    }
    (cx.problems.len() == before).then_some(out)
}

fn read_local_jwks(cx: &mut Ctx, p: &mut MapView<'_>) -> Option<JwtKeys> {
    let mut l = p.map(cx, "local_jwks")?;
    let text = l.req_string(cx, "inline_string");
    let (line, path) = (l.key_line("inline_string"), l.child("inline_string"));
    l.finish(cx);
    let text = text?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) if v.get("keys").is_some_and(serde_json::Value::is_array) => {
            Some(JwtKeys::LocalJwks(text))
        }
        Ok(_) => {
            cx.problem(
                line,
                &path,
                "a JWK set is a JSON object with a \"keys\" list",
            );
            None
        }
        Err(e) => {
            cx.problem(line, &path, format!("not JSON: {e}"));
            None
        }
    }
}

fn read_remote_jwks(cx: &mut Ctx, p: &mut MapView<'_>) -> Option<JwtKeys> {
    let mut r = p.map(cx, "remote_jwks")?;
    let (mut uri, mut timeout, mut site) = (None, None, (r.line(), r.child("uri")));
    if let Some(mut h) = r.map(cx, "http_uri") {
        uri = h.req_string(cx, "uri");
        timeout = h.duration(cx, "timeout");
        h.reject(
            cx,
            "cluster",
            "fetching keys through a cluster is not supported; uri is fetched directly",
        );
        site = (h.key_line("uri"), h.child("uri"));
        h.finish(cx);
    }
    if let Some(u) = r.string(cx, "uri") {
        if uri.is_some() {
            cx.problem(
                r.key_line("uri"),
                &r.child("uri"),
                "set uri or http_uri.uri, not both",
            );
        }
        site = (r.key_line("uri"), r.child("uri"));
        uri = Some(u);
    }
    if let Some(t) = r.duration(cx, "timeout") {
        timeout = Some(t);
    }
    let refresh = r.duration(cx, "refresh").unwrap_or(DEFAULT_JWKS_REFRESH);
    if refresh < Duration::from_secs(1) {
        cx.problem(
            r.key_line("refresh"),
            &r.child("refresh"),
            "refresh must be at least 1s",
        );
    }
    let timeout = timeout.unwrap_or(DEFAULT_JWKS_TIMEOUT);
    if timeout.is_zero() {
        cx.problem(r.line(), &r.child("timeout"), "must be greater than 0");
    }
    r.finish(cx);
    let Some(uri) = uri else {
        cx.problem(site.0, &site.1, "missing required key");
        return None;
    };
    if !(uri.starts_with("http://") || uri.starts_with("https://")) {
        cx.problem(site.0, &site.1, "must be an http:// or https:// URL");
        return None;
    }
    Some(JwtKeys::RemoteJwks {
        uri,
        timeout,
        refresh,
    })
}

/// `requires_any` / `requires_all`: a `{provider_name}` mapping or a list of them.
fn provider_names(
    cx: &mut Ctx,
    q: &mut MapView<'_>,
    key: &'static str,
    providers: &[String],
) -> Option<Vec<String>> {
    let node = q.get(key)?;
    let path = q.child(key);
    let items: Vec<(String, &Node)> = match &node.kind {
        Kind::Seq(_) => list_items(cx, node, &path),
        _ => vec![(path, node)],
    };
    let mut names = Vec::new();
    for (path, item) in items {
        let mut m = MapView::new(cx, item, path);
        if let Some(n) = m.req_string(cx, "provider_name") {
            if !providers.contains(&n) {
                cx.problem(
                    m.key_line("provider_name"),
                    &m.child("provider_name"),
                    format!("no provider named {n:?}"),
                );
            }
            names.push(n);
        }
        m.finish(cx);
    }
    if names.is_empty() {
        cx.problem(q.key_line(key), &q.child(key), "name at least one provider");
    }
    Some(names)
}

fn read_requires(cx: &mut Ctx, r: &mut MapView<'_>, providers: &[String]) -> Option<JwtRequires> {
    let Some(mut q) = r.map(cx, "requires") else {
        return Some(JwtRequires::Nothing);
    };
    let any = provider_names(cx, &mut q, "requires_any", providers);
    let all = provider_names(cx, &mut q, "requires_all", providers);
    let out = match (any, all) {
        (Some(_), Some(_)) => {
            cx.problem(
                q.line(),
                q.path(),
                "set either requires_any or requires_all, not both",
            );
            None
        }
        (Some(a), None) => Some(JwtRequires::Any(a)),
        (None, Some(a)) => Some(JwtRequires::All(a)),
        (None, None) => {
            cx.problem(
                q.line(),
                &q.child("requires_any"),
                "missing required key (requires_any or requires_all)",
            );
            None
        }
    };
    q.finish(cx);
    out
}
