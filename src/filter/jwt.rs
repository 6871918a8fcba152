//! `dgp.filter.http.auth.jwt`: JWT verification. Rules (first match decides) name the providers
//! a request needs a token from (`requires_any` / `requires_all`); each provider finds its token
//! in its `from_headers`, verifies the signature with its keys (HMAC secret, PEM public key,
//! inline or remote JWK set), then `exp` / `nbf` (with leeway, `exp` required), `iss` and `aud`.
//! A verified token can forward its payload in a header (for `headers.<name>` mappings) and copy
//! claims into Dubbo attachments. Anything else gets 401 with `WWW-Authenticate: Bearer`.
//!
//! The request phase only waits when a provider fetches its keys remotely, and then only until
//! that provider's first key set has arrived.

use super::jwt_keys::{KeySet, RemoteKeys};
use super::{FilterFuture, Flow, HttpFilter, RequestCtx};
use crate::error::GatewayError;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderName, HeaderValue};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, Algorithm, Validation};
use serde_json::{Map, Value};
use std::sync::Arc;
use tianlu_api_config::bootstrap::filter::{
    JwtConfig, JwtKeys, JwtProvider, JwtRequires, PathMatch,
};

/// Most keys tried for one token (a token without `kid` against a large set).
const MAX_CANDIDATES: usize = 8;

/// Every algorithm tianlu verifies.
const ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

enum Keys {
    Static(KeySet),
    Remote(Arc<RemoteKeys>),
}

struct Provider {
    from_headers: Vec<(HeaderName, String)>,
    forward: Option<HeaderName>,
    claims_to_attachments: Vec<(String, String)>,
    /// One prepared validation per algorithm (same order as [`ALGORITHMS`]).
    validations: Vec<Validation>,
    keys: Keys,
}

enum Requires {
    Nothing,
    Any(Vec<usize>),
    All(Vec<usize>),
}

struct Rule {
    path_match: PathMatch,
    requires: Requires,
}

/// Why a token was refused.
#[derive(Debug, PartialEq)]
enum Refusal {
    Missing,
    Invalid(&'static str),
}

/// The JWT filter.
pub struct Jwt {
    providers: Vec<Provider>,
    rules: Vec<Rule>,
    err_msg: Option<String>,
    remote: bool,
}

fn header_name(n: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(n.as_bytes()).map_err(|_| format!("jwt: {n:?} is not a header name"))
}

impl Provider {
    fn new(p: &JwtProvider, leeway: u64) -> Result<Provider, String> {
        let keys = match &p.keys {
            JwtKeys::Secret { secret, algorithm } => {
                Keys::Static(KeySet::from_secret(secret.expose().as_bytes(), algorithm)?)
            }
            JwtKeys::PublicKey { pem, algorithm } => {
                Keys::Static(KeySet::from_pem(pem, algorithm.as_deref())?)
            }
            JwtKeys::LocalJwks(json) => Keys::Static(KeySet::from_jwks(json.as_bytes())?),
            JwtKeys::RemoteJwks {
                uri,
                timeout,
                refresh,
            } => Keys::Remote(RemoteKeys::start(uri, *timeout, *refresh)?),
        };
        let validations = ALGORITHMS
            .iter()
            .map(|alg| {
                let mut v = Validation::new(*alg);
                v.leeway = leeway;
                v.validate_nbf = true;
                // A configured issuer or audience must be present in the token, not merely
                // match when present.
                let mut required = vec!["exp"];
                if let Some(iss) = &p.issuer {
                    v.set_issuer(&[iss]);
                    required.push("iss");
                }
                if p.audiences.is_empty() {
                    v.validate_aud = false;
                } else {
                    v.set_audience(&p.audiences);
                    required.push("aud");
                }
                v.set_required_spec_claims(&required);
                v
            })
            .collect();
        Ok(Provider {
            from_headers: p
                .from_headers
                .iter()
                .map(|h| Ok((header_name(&h.name)?, h.value_prefix.clone())))
                .collect::<Result<_, String>>()?,
            forward: p
                .forward_payload_header
                .as_deref()
                .map(header_name)
                .transpose()?,
            claims_to_attachments: p.claims_to_attachments.clone(),
            validations,
            keys,
        })
    }

    /// The token this provider reads from the request, if any.
    fn token<'a>(&self, ctx: &'a RequestCtx) -> Option<&'a str> {
        self.from_headers.iter().find_map(|(name, prefix)| {
            let v = ctx.headers.get(name)?.to_str().ok()?;
            let rest = if prefix.is_empty() {
                v
            } else {
                let head = v.get(..prefix.len())?;
                if !head.eq_ignore_ascii_case(prefix) {
                    return None;
                }
                &v[prefix.len()..]
            };
            Some(rest.trim()).filter(|t| !t.is_empty())
        })
    }

    /// Verifies `token`; the claims when it is good.
    fn verify(&self, token: &str) -> Result<Map<String, Value>, Refusal> {
        let header = decode_header(token).map_err(|_| Refusal::Invalid("malformed token"))?;
        let Some(idx) = ALGORITHMS.iter().position(|a| *a == header.alg) else {
            return Err(Refusal::Invalid("token algorithm not supported"));
        };
        let remote;
        let set: &KeySet = match &self.keys {
            Keys::Static(s) => s,
            Keys::Remote(r) => {
                remote = r
                    .current()
                    .ok_or(Refusal::Invalid("signing keys are not available"))?;
                &remote
            }
        };
        let kid = header.kid.as_deref();
        if let (Some(k), Keys::Remote(r)) = (kid, &self.keys) {
            if !set.has_kid(k) {
                r.nudge();
                return Err(Refusal::Invalid("unknown signing key"));
            }
        }
        let mut refusal = Refusal::Invalid("no key for the token's algorithm");
        for key in set.candidates(kid, header.alg).take(MAX_CANDIDATES) {
            match decode::<Map<String, Value>>(token, &key.key, &self.validations[idx]) {
                Ok(data) => return Ok(data.claims),
                Err(e) => {
                    let why = match e.kind() {
                        ErrorKind::InvalidSignature => "bad signature",
                        ErrorKind::ExpiredSignature => "token expired",
                        ErrorKind::ImmatureSignature => "token not yet valid",
                        ErrorKind::InvalidIssuer => "wrong issuer",
                        ErrorKind::InvalidAudience => "wrong audience",
                        ErrorKind::MissingRequiredClaim(c) => match c.as_str() {
                            "iss" => "token has no iss claim",
                            "aud" => "token has no aud claim",
                            _ => "token has no exp claim",
                        },
                        _ => "invalid token",
                    };
                    refusal = Refusal::Invalid(why);
                    // Only a bad signature can mean "another key": claims were checked after
                    // the signature held.
                    if why != "bad signature" {
                        break;
                    }
                }
            }
        }
        Err(refusal)
    }

    /// Applies a verified token's effects on the request.
    fn accept(&self, ctx: &mut RequestCtx, token: &str, claims: &Map<String, Value>) {
        if let Some(h) = &self.forward {
            if let Some(v) = token
                .split('.')
                .nth(1)
                .and_then(|p| HeaderValue::from_str(p).ok())
            {
                ctx.headers.insert(h.clone(), v);
            }
        }
        for (claim, attachment) in &self.claims_to_attachments {
            let value = match claims.get(claim) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            ctx.attachments.push((attachment.clone(), value));
        }
    }

    /// Finds and verifies this provider's token, applying its effects when good.
    fn check(&self, ctx: &mut RequestCtx) -> Result<(), Refusal> {
        let token = self.token(ctx).ok_or(Refusal::Missing)?.to_owned();
        let claims = self.verify(&token)?;
        self.accept(ctx, &token, &claims);
        Ok(())
    }
}

impl Jwt {
    /// Builds the filter; remote key sets start fetching at once (needs a tokio runtime).
    pub fn new(cfg: &JwtConfig) -> Result<Self, String> {
        let leeway = cfg.leeway.as_secs();
        let providers = cfg
            .providers
            .iter()
            .map(|p| Provider::new(p, leeway).map_err(|e| format!("jwt provider {}: {e}", p.name)))
            .collect::<Result<Vec<_>, _>>()?;
        let index = |name: &String| {
            cfg.providers
                .iter()
                .position(|p| &p.name == name)
                .ok_or_else(|| format!("jwt: no provider named {name:?}"))
        };
        let mut rules = Vec::new();
        for r in &cfg.rules {
            let requires = match &r.requires {
                JwtRequires::Nothing => Requires::Nothing,
                JwtRequires::Any(n) => {
                    Requires::Any(n.iter().map(index).collect::<Result<_, _>>()?)
                }
                JwtRequires::All(n) => {
                    Requires::All(n.iter().map(index).collect::<Result<_, _>>()?)
                }
            };
            rules.push(Rule {
                path_match: r.path_match.clone(),
                requires,
            });
        }
        Ok(Jwt {
            remote: providers.iter().any(|p| matches!(p.keys, Keys::Remote(_))),
            providers,
            rules,
            err_msg: cfg.err_msg.clone(),
        })
    }

    fn rule(&self, ctx: &RequestCtx) -> Option<&Rule> {
        let (path, query) = (ctx.uri.path(), ctx.uri.query());
        self.rules
            .iter()
            .find(|r| r.path_match.matches(path, query))
    }

    fn decide(&self, ctx: &mut RequestCtx) -> Flow {
        // A client must never supply the forwarded-payload headers itself, on any path.
        for p in &self.providers {
            if let Some(h) = &p.forward {
                ctx.headers.remove(h);
            }
        }
        let Some(rule) = self.rule(ctx) else {
            return Flow::Continue;
        };
        let outcome = match &rule.requires {
            Requires::Nothing => Ok(()),
            Requires::Any(list) => {
                let mut worst = Refusal::Missing;
                let mut ok = false;
                for &i in list {
                    match self.providers[i].check(ctx) {
                        Ok(()) => {
                            ok = true;
                            break;
                        }
                        Err(r @ Refusal::Invalid(_)) => worst = r,
                        Err(Refusal::Missing) => {}
                    }
                }
                if ok {
                    Ok(())
                } else {
                    Err(worst)
                }
            }
            Requires::All(list) => list.iter().try_for_each(|&i| self.providers[i].check(ctx)),
        };
        match outcome {
            Ok(()) => Flow::Continue,
            Err(refusal) => Flow::Reply(self.refuse(ctx, &refusal)),
        }
    }

    fn refuse(&self, ctx: &RequestCtx, refusal: &Refusal) -> axum::response::Response {
        let (reason, challenge) = match refusal {
            Refusal::Missing => ("token required", "Bearer"),
            Refusal::Invalid(why) => (*why, "Bearer error=\"invalid_token\""),
        };
        tracing::debug!(reason, "JWT refused");
        let mut resp = GatewayError::Unauthorized {
            reason: self.err_msg.clone().unwrap_or_else(|| reason.to_owned()),
        }
        .into_response_with(&ctx.request_id);
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        resp
    }

    /// The remote key sets the request's rule depends on.
    fn remote_needed(&self, ctx: &RequestCtx) -> Vec<Arc<RemoteKeys>> {
        let Some(rule) = self.rule(ctx) else {
            return Vec::new();
        };
        let list = match &rule.requires {
            Requires::Nothing => return Vec::new(),
            Requires::Any(l) | Requires::All(l) => l,
        };
        list.iter()
            .filter_map(|&i| match &self.providers[i].keys {
                Keys::Remote(r) if r.current().is_none() => Some(Arc::clone(r)),
                _ => None,
            })
            .collect()
    }
}

impl HttpFilter for Jwt {
    fn name(&self) -> &'static str {
        "dgp.filter.http.auth.jwt"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        self.decide(ctx)
    }

    fn is_async(&self) -> bool {
        self.remote
    }

    fn on_request_async<'a>(&'a self, ctx: &'a mut RequestCtx) -> FilterFuture<'a> {
        Box::pin(async move {
            for r in self.remote_needed(ctx) {
                r.wait_loaded().await;
            }
            self.decide(ctx)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::jwt_keys::tests::oct_jwks;
    use super::super::testing::ctx;
    use super::*;
    use axum::response::IntoResponse;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;
    use std::time::Duration;
    use tianlu_api_config::bootstrap::filter::{JwtRule, Secret, TokenHeader};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn token(claims: Value, kid: Option<&str>, secret: &[u8]) -> String {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = kid.map(str::to_owned);
        encode(&h, &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn provider(name: &str, keys: JwtKeys) -> JwtProvider {
        JwtProvider {
            name: name.into(),
            issuer: Some("https://idp.example".into()),
            audiences: vec!["gateway".into()],
            from_headers: vec![TokenHeader {
                name: "authorization".into(),
                value_prefix: "Bearer ".into(),
            }],
            forward_payload_header: Some("x-jwt-payload".into()),
            claims_to_attachments: vec![("sub".into(), "user".into())],
            keys,
        }
    }

    fn secret_keys() -> JwtKeys {
        JwtKeys::Secret {
            secret: Secret::new(String::from_utf8(SECRET.to_vec()).unwrap()),
            algorithm: "HS256".into(),
        }
    }

    fn filter(requires: JwtRequires, providers: Vec<JwtProvider>) -> Jwt {
        Jwt::new(&JwtConfig {
            providers,
            rules: vec![
                JwtRule {
                    path_match: PathMatch::Prefix("/api/public".into()),
                    requires: JwtRequires::Nothing,
                },
                JwtRule {
                    path_match: PathMatch::Prefix("/api".into()),
                    requires,
                },
            ],
            err_msg: None,
            leeway: Duration::from_secs(5),
        })
        .unwrap()
    }

    fn good_claims() -> Value {
        json!({"sub": "u-1", "iss": "https://idp.example", "aud": "gateway", "exp": now() + 600})
    }

    fn run(f: &Jwt, c: &mut RequestCtx) -> (u16, String) {
        match f.on_request(c) {
            Flow::Continue => (200, String::new()),
            Flow::Reply(r) => (
                r.status().as_u16(),
                r.headers()
                    .get(WWW_AUTHENTICATE)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default(),
            ),
        }
    }

    fn bearer(t: &str) -> String {
        format!("Bearer {t}")
    }

    #[test]
    fn configured_issuer_and_audience_must_be_present() {
        let f = filter(
            JwtRequires::Any(vec!["a".into()]),
            vec![provider("a", secret_keys())],
        );
        for drop in ["iss", "aud"] {
            let mut claims = good_claims();
            claims.as_object_mut().unwrap().remove(drop);
            let t = token(claims, None, SECRET);
            let mut c = ctx("GET", "/api/x", &[("authorization", &bearer(&t))]);
            assert_eq!(run(&f, &mut c).0, 401, "a token without {drop} is refused");
        }
    }

    #[test]
    fn clients_cannot_forge_the_forwarded_payload_header() {
        let f = filter(
            JwtRequires::Any(vec!["a".into()]),
            vec![provider("a", secret_keys())],
        );
        // A path no rule protects still loses a client-sent payload header.
        let mut c = ctx(
            "GET",
            "/api/public/x",
            &[("x-jwt-payload", "{\"sub\":\"admin\"}")],
        );
        assert_eq!(run(&f, &mut c).0, 200);
        assert!(c.headers.get("x-jwt-payload").is_none());
    }

    #[test]
    fn valid_tokens_pass_and_carry_claims() {
        let f = filter(
            JwtRequires::Any(vec!["idp".into()]),
            vec![provider("idp", secret_keys())],
        );
        let t = token(good_claims(), None, SECRET);
        let auth = format!("bearer {t}");
        let mut c = ctx("GET", "/api/users", &[("authorization", &auth)]);
        assert_eq!(run(&f, &mut c).0, 200, "the scheme is case-insensitive");
        assert_eq!(c.attachments, [("user".into(), "u-1".into())]);
        assert_eq!(c.headers["x-jwt-payload"], t.split('.').nth(1).unwrap());
        let mut open = ctx("GET", "/api/public/x", &[]);
        assert_eq!(
            run(&f, &mut open).0,
            200,
            "a rule without requires lets it pass"
        );
        let mut elsewhere = ctx("GET", "/health", &[]);
        assert_eq!(run(&f, &mut elsewhere).0, 200, "no rule, no check");
    }

    #[test]
    fn bad_tokens_get_401_with_a_challenge() {
        let f = filter(
            JwtRequires::Any(vec!["idp".into()]),
            vec![provider("idp", secret_keys())],
        );
        let claims = |patch: Value| {
            let mut c = good_claims();
            for (k, v) in patch.as_object().unwrap() {
                c[k] = v.clone();
            }
            bearer(&token(c, None, SECRET))
        };
        let cases = [
            (claims(json!({"exp": now() - 60})), "token expired"),
            (claims(json!({"nbf": now() + 600})), "token not yet valid"),
            (
                claims(json!({"iss": "https://evil.example"})),
                "wrong issuer",
            ),
            (claims(json!({"aud": "other"})), "wrong audience"),
            (
                bearer(&token(
                    good_claims(),
                    None,
                    b"another secret, same length!!!!!",
                )),
                "bad signature",
            ),
            ("Bearer a.b.c".to_owned(), "malformed token"),
            (
                bearer(&token(
                    json!({"sub": "x", "iss": "https://idp.example", "aud": "gateway"}),
                    None,
                    SECRET,
                )),
                "token has no exp claim",
            ),
        ];
        for (auth, why) in cases {
            let mut c = ctx("GET", "/api/x", &[("authorization", &auth)]);
            let Flow::Reply(resp) = f.on_request(&mut c) else {
                panic!("{why}: must be refused")
            };
            assert_eq!(resp.status(), http::StatusCode::UNAUTHORIZED, "{why}");
            assert_eq!(
                resp.headers()[WWW_AUTHENTICATE],
                "Bearer error=\"invalid_token\""
            );
            assert!(c.attachments.is_empty());
            assert_eq!(
                f.providers[0].verify(auth.trim_start_matches("Bearer ")),
                Err(Refusal::Invalid(why))
            );
        }
        let mut none = ctx("GET", "/api/x", &[]);
        assert_eq!(run(&f, &mut none), (401, "Bearer".into()));
        let mut basic = ctx("GET", "/api/x", &[("authorization", "Basic abc")]);
        assert_eq!(run(&f, &mut basic), (401, "Bearer".into()));
    }

    #[test]
    fn within_leeway_passes() {
        let f = filter(
            JwtRequires::Any(vec!["idp".into()]),
            vec![provider("idp", secret_keys())],
        );
        let mut claims = good_claims();
        claims["exp"] = json!(now() - 2);
        let auth = bearer(&token(claims, None, SECRET));
        assert_eq!(
            run(&f, &mut ctx("GET", "/api", &[("authorization", &auth)])).0,
            200
        );
    }

    #[test]
    fn jwks_keys_are_chosen_by_kid_and_all_means_all() {
        let other: &[u8] = b"ffffffffffffffffffffffffffffffff";
        let jwks = JwtKeys::LocalJwks(oct_jwks("k1", SECRET));
        let mut second = provider("second", JwtKeys::LocalJwks(oct_jwks("k2", other)));
        second.from_headers = vec![TokenHeader {
            name: "x-second".into(),
            value_prefix: String::new(),
        }];
        second.claims_to_attachments = vec![("sub".into(), "second.user".into())];
        let f = filter(
            JwtRequires::All(vec!["idp".into(), "second".into()]),
            vec![provider("idp", jwks), second],
        );
        let t1 = bearer(&token(good_claims(), Some("k1"), SECRET));
        let t2 = token(good_claims(), Some("k2"), other);
        let mut both = ctx("GET", "/api", &[("authorization", &t1), ("x-second", &t2)]);
        assert_eq!(run(&f, &mut both).0, 200);
        assert_eq!(both.attachments.len(), 2);
        let mut one = ctx("GET", "/api", &[("authorization", &t1)]);
        assert_eq!(run(&f, &mut one).0, 401, "requires_all needs both");
        let wrong_kid = bearer(&token(good_claims(), Some("k9"), SECRET));
        let mut c = ctx(
            "GET",
            "/api",
            &[("authorization", &wrong_kid), ("x-second", &t2)],
        );
        assert_eq!(run(&f, &mut c).0, 401);
    }

    /// Throw-away key pairs made for these tests only.
    const RSA_PRIV: &str = include_str!("testdata/rsa_priv.pem");
    const RSA_PUB: &str = include_str!("testdata/rsa_pub.pem");
    const EC_PRIV: &str = include_str!("testdata/ec_priv.pem");
    const EC_PUB: &str = include_str!("testdata/ec_pub.pem");

    #[test]
    fn public_keys_verify_their_own_algorithms_only() {
        let pem = |pem: &str| JwtKeys::PublicKey {
            pem: pem.into(),
            algorithm: None,
        };
        let rsa = filter(
            JwtRequires::Any(vec!["rsa".into()]),
            vec![provider("rsa", pem(RSA_PUB))],
        );
        let ec = filter(
            JwtRequires::Any(vec!["ec".into()]),
            vec![provider("ec", pem(EC_PUB))],
        );
        let sign = |alg, key: &EncodingKey| encode(&Header::new(alg), &good_claims(), key).unwrap();
        let rs256 = sign(
            Algorithm::RS256,
            &EncodingKey::from_rsa_pem(RSA_PRIV.as_bytes()).unwrap(),
        );
        let ps384 = sign(
            Algorithm::PS384,
            &EncodingKey::from_rsa_pem(RSA_PRIV.as_bytes()).unwrap(),
        );
        let es256 = sign(
            Algorithm::ES256,
            &EncodingKey::from_ec_pem(EC_PRIV.as_bytes()).unwrap(),
        );
        // The classic confusion attack: HMAC keyed with the public key's text.
        let confused = sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(RSA_PUB.as_bytes()),
        );
        let cases = [
            (&rsa, &rs256, 200),
            (&rsa, &ps384, 200),
            (&rsa, &es256, 401),
            (&rsa, &confused, 401),
            (&ec, &es256, 200),
            (&ec, &rs256, 401),
        ];
        for (i, (f, t, want)) in cases.into_iter().enumerate() {
            let auth = bearer(t);
            let mut c = ctx("GET", "/api", &[("authorization", &auth)]);
            assert_eq!(run(f, &mut c).0, want, "case {i}");
        }
        let pinned = KeySet::from_pem(RSA_PUB, Some("RS512")).unwrap();
        assert_eq!(pinned.keys[0].algs, [Algorithm::RS512]);
        assert!(KeySet::from_pem(EC_PUB, Some("RS256")).is_err());
    }

    #[test]
    fn err_msg_replaces_the_reason_and_responses_pass() {
        let mut cfg_f = filter(
            JwtRequires::Any(vec!["idp".into()]),
            vec![provider("idp", secret_keys())],
        );
        cfg_f.err_msg = Some("token invalid".into());
        let mut c = ctx("GET", "/api", &[]);
        let Flow::Reply(resp) = cfg_f.on_request(&mut c) else {
            panic!()
        };
        assert_eq!(resp.status(), http::StatusCode::UNAUTHORIZED);
        let mut ok = http::StatusCode::OK.into_response();
        cfg_f.on_response(&c, &mut ok);
        assert_eq!(ok.status(), http::StatusCode::OK);
        assert!(!cfg_f.is_async(), "static keys never wait");
    }
}
